"""Datasets (annotation lists of frame folders or video files) and their pipeline transforms."""

from . import transforms  # noqa: F401  (registers every transform)
from .annotation import AnnotationError, load_class_names
from .base import BaseActionDataset
from .class_balanced_sampler import ClassBalancedSampler
from .collate import action_collate
from .rawframe_dataset import RawframeDataset
from .repeat_aug_dataset import RepeatAugDataset, repeat_pseudo_collate
from .video_dataset import VideoDataset

__all__ = [
    'AnnotationError',
    'BaseActionDataset',
    'ClassBalancedSampler',
    'RawframeDataset',
    'RepeatAugDataset',
    'VideoDataset',
    'action_collate',
    'load_class_names',
    'repeat_pseudo_collate',
]
