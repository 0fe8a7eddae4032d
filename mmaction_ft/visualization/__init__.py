"""Drawing predictions on videos; importing this package registers ``ActionVisualizer``."""

from .action_visualizer import ActionVisualizer

__all__ = ['ActionVisualizer']
