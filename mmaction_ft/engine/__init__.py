"""Training machinery: checkpoint loading, the runner, hooks, distributed helpers.

Importing this package registers its runners, loops, hooks, model wrappers, optimizer wrapper
constructors and parameter schedulers.
"""

from . import distributed, hooks, loops  # noqa: F401  (register their classes)
from .amp_optim_wrapper import AmpOptimWrapper
from .checkpoint import UnsafeCheckpointError, get_state_dict, load_checkpoint_file
from .checkpoint_download import (
    CheckpointDownloadError,
    ChecksumMismatchError,
    default_cache_dir,
    download_checkpoint,
    torchvision_url,
)
from .layer_decay_optim_wrapper_constructor import LearningRateDecayOptimizerConstructor
from .legacy_warmup_lr import LegacyWarmupLR
from .runner import ActionRunner
from .swin_optim_wrapper_constructor import SwinOptimWrapperConstructor
from .tsm_optim_wrapper_constructor import TSMOptimWrapperConstructor
from .weight_loading import (
    LOAD_MODES,
    CheckpointMismatchError,
    LoadReport,
    load_pretrained,
    load_weights,
)

__all__ = [
    'AmpOptimWrapper',
    'LOAD_MODES',
    'ActionRunner',
    'CheckpointDownloadError',
    'CheckpointMismatchError',
    'ChecksumMismatchError',
    'LearningRateDecayOptimizerConstructor',
    'LegacyWarmupLR',
    'LoadReport',
    'SwinOptimWrapperConstructor',
    'TSMOptimWrapperConstructor',
    'UnsafeCheckpointError',
    'default_cache_dir',
    'download_checkpoint',
    'get_state_dict',
    'load_checkpoint_file',
    'load_pretrained',
    'load_weights',
    'torchvision_url',
]
