"""Pure-numpy evaluation functions (no mmengine, no torch)."""

from .accuracy import (
    average_precision,
    confusion_matrix,
    mean_average_precision,
    mean_class_accuracy,
    mmit_mean_average_precision,
    top_k_accuracy,
)

__all__ = [
    'average_precision',
    'confusion_matrix',
    'mean_average_precision',
    'mean_class_accuracy',
    'mmit_mean_average_precision',
    'top_k_accuracy',
]
