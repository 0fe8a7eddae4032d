"""mmengine's ``FlexibleRunner`` (FSDP / DeepSpeed strategies) with mmaction_ft's loading.

A config selects it with ``runner_type = 'FlexibleRunner'`` (MMAction2's spelling) or
``'ActionFlexibleRunner'`` and a ``strategy``; ``tools/train.py`` then builds this class::

    runner_type = 'FlexibleRunner'
    strategy = dict(type='FSDPStrategy', state_dict_cfg='full', ...)

What changes against mmengine's ``FlexibleRunner``:

- ``load_from`` (a new run) is loaded into the whole recognizer *before* the strategy shards it,
  by :meth:`ActionCheckpointLoading.load_checkpoint`: the classifier is re-initialised when the
  class count changed and the log says so, anything else that does not fit is an error.
  mmengine would load into the sharded model with ``load_state_dict(strict=False)``, which fails
  on the classifier's shape (or, with a sharded state dict, needs one file per rank).
- ``resume`` stays mmengine's (the strategy restores sharded optimizer states), reading the files
  with the same weights-only allow-list as every other load here, so it works on torch >= 2.6.
"""

from typing import Any, Callable, Optional, Union

import torch
from mmengine.runner import FlexibleRunner
from torch import nn
from torch.utils.data import DataLoader

from mmaction_ft.registry import RUNNERS

from .checkpoint import _trusted_globals
from .checkpoint_loading import ActionCheckpointLoading, check_load_cfg
from .runner import with_default_collate


@RUNNERS.register_module()
class ActionFlexibleRunner(ActionCheckpointLoading, FlexibleRunner):
    """``FlexibleRunner`` whose ``load_from`` loads the unsharded recognizer (see module doc)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        check_load_cfg(self.cfg.get('load_cfg'))  # a typo fails now, not after training

    @staticmethod
    def build_dataloader(
        dataloader: Any, seed: Optional[int] = None, diff_rank_seed: bool = False
    ) -> DataLoader:
        """mmengine's, with ``action_collate`` where the config names no ``collate_fn``."""
        return FlexibleRunner.build_dataloader(
            with_default_collate(dataloader), seed, diff_rank_seed
        )

    def train(self) -> nn.Module:
        """Load ``load_from`` into the built, initialised model, then let the strategy wrap it
        (its own ``init_weights`` call is then a logged no-op) and train."""
        if self._load_from is not None and not self._resume and not self._has_loaded:
            model = self.strategy.build_model(self.model)
            self.model = self.strategy._init_model_weights(model)
            self.load_checkpoint(self._load_from)  # sets _has_loaded: not loaded again
        return super().train()

    def resume(
        self,
        filename: str,
        resume_optimizer: bool = True,
        resume_param_scheduler: bool = True,
        map_location: Union[str, Callable] = 'default',
    ) -> None:
        """mmengine's resume through the strategy, with the weights-only allow-list."""
        with torch.serialization.safe_globals(_trusted_globals()):
            super().resume(
                filename,
                resume_optimizer=resume_optimizer,
                resume_param_scheduler=resume_param_scheduler,
                map_location=map_location,
            )
