"""Pure-numpy evaluation functions (no mmengine, no torch)."""

from .accuracy import (
    average_precision,
    confusion_matrix,
    mean_average_precision,
    mean_class_accuracy,
    mmit_mean_average_precision,
    top_k_accuracy,
)
from .per_class import most_confused_pairs, per_class_average_precision, per_class_metrics

__all__ = [
    'average_precision',
    'confusion_matrix',
    'mean_average_precision',
    'mean_class_accuracy',
    'mmit_mean_average_precision',
    'most_confused_pairs',
    'per_class_average_precision',
    'per_class_metrics',
    'top_k_accuracy',
]
