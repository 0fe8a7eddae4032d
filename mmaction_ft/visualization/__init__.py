"""Drawing predictions on videos, training curves, confusion matrices; importing this package
registers ``ActionVisualizer``, ``TensorboardVisBackend`` and ``ConfusionMatrixHook``."""

from .action_visualizer import ActionVisualizer
from .confusion_matrix import plot_confusion_matrix
from .confusion_matrix_hook import ConfusionMatrixHook
from .tensorboard_backend import TensorboardVisBackend

__all__ = [
    'ActionVisualizer',
    'ConfusionMatrixHook',
    'TensorboardVisBackend',
    'plot_confusion_matrix',
]
