from .action_data_preprocessor import ActionDataPreprocessor
from .blending import BaseMiniBatchBlending, CutmixBlending, MixupBlending, RandomBatchAugment

__all__ = [
    'ActionDataPreprocessor',
    'BaseMiniBatchBlending',
    'CutmixBlending',
    'MixupBlending',
    'RandomBatchAugment',
]
