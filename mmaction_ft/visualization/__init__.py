"""Drawing predictions on videos, training curves; importing this package registers
``ActionVisualizer`` and ``TensorboardVisBackend``."""

from .action_visualizer import ActionVisualizer
from .tensorboard_backend import TensorboardVisBackend

__all__ = ['ActionVisualizer', 'TensorboardVisBackend']
