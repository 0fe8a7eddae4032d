"""The MMAction2 0.x (mmcv ``LrUpdaterHook``) learning-rate warmup as an mmengine scheduler.

0.x multiplies the scheduled LR of iteration ``k < N`` (``N = warmup_iters``, or
``warmup_iters * iters_per_epoch`` with ``warmup_by_epoch=True``) by

- ``'linear'``:   ``1 - (1 - k / N) * (1 - ratio)``
- ``'constant'``: ``ratio``
- ``'exp'``:      ``ratio ** (1 - k / N)``

and by 1 from iteration ``N`` on. mmengine has no exponential warmup, and its ``LinearLR`` /
``ConstantLR`` reach the full LR one step before ``end``, which an epoch-length warmup converted to
iterations cannot compensate. The translation of ``lr_config``
(:mod:`mmaction_ft.config.legacy_schedule`) uses this scheduler for those cases; ``LinearLR`` /
``ConstantLR`` with ``end=N + 1`` cover iteration-length linear and constant warmups exactly.
"""

from typing import List, Union

from mmengine.optim import BaseOptimWrapper, _ParamScheduler
from torch.optim import Optimizer

from mmaction_ft.registry import PARAM_SCHEDULERS

WARMUP_MODES = ('linear', 'constant', 'exp')


@PARAM_SCHEDULERS.register_module()
class LegacyWarmupLR(_ParamScheduler):
    """Scale the LR by the 0.x warmup factor for ``end - begin`` steps, then by 1.

    Chainable like every mmengine scheduler: it multiplies the LR the other schedulers set, which
    is how 0.x applied warmup on top of the regular schedule.

    Args:
        optimizer: The optimizer (or wrapper) whose ``lr`` is scaled.
        mode: ``'linear'``, ``'constant'`` or ``'exp'`` (0.x ``warmup``).
        ratio: LR factor at step 0, in (0, 1] (0.x ``warmup_ratio``).
        begin: First warmup step.
        end: Step at which the factor is back to 1 (``begin + warmup length``).
        last_step: Index of the last step, for resuming without a state dict.
        by_epoch: Whether ``begin`` / ``end`` count epochs. 0.x warmup always advances per
            iteration, so configs pair ``by_epoch=True`` with ``convert_to_iter_based=True``.
        verbose: Print each update.
    """

    def __init__(
        self,
        optimizer: Union[Optimizer, BaseOptimWrapper],
        mode: str = 'linear',
        ratio: float = 0.1,
        begin: int = 0,
        end: int = 1,
        last_step: int = -1,
        by_epoch: bool = False,
        verbose: bool = False,
    ) -> None:
        if mode not in WARMUP_MODES:
            raise ValueError(f'LegacyWarmupLR: mode must be one of {WARMUP_MODES}, got {mode!r}')
        if not 0 < ratio <= 1:
            raise ValueError(f'LegacyWarmupLR: ratio must be in (0, 1], got {ratio}')
        if end <= begin:
            raise ValueError(f'LegacyWarmupLR: end ({end}) must be larger than begin ({begin})')
        self.mode = mode
        self.ratio = ratio
        self.warmup_steps = end - begin
        # One step past `end`: the step that restores the full LR belongs to the warmup.
        super().__init__(
            optimizer,
            param_name='lr',
            begin=begin,
            end=end + 1,
            last_step=last_step,
            by_epoch=by_epoch,
            verbose=verbose,
        )

    @classmethod
    def build_iter_from_epoch(
        cls,
        *args,
        begin: int = 0,
        end: int = 1,
        by_epoch: bool = True,
        epoch_length: int = None,
        **kwargs,
    ) -> 'LegacyWarmupLR':
        """Build the per-iteration scheduler for a warmup whose length is given in epochs."""
        if not by_epoch:
            raise ValueError('LegacyWarmupLR: convert_to_iter_based needs by_epoch=True')
        if not epoch_length or epoch_length <= 0:
            raise ValueError(f'LegacyWarmupLR: epoch_length must be positive, got {epoch_length}')
        return cls(
            *args, begin=begin * epoch_length, end=end * epoch_length, by_epoch=False, **kwargs
        )

    def factor(self, step: int) -> float:
        """The 0.x warmup factor ``step`` steps after ``begin`` (1 once the warmup is over)."""
        if step >= self.warmup_steps:
            return 1.0
        progress = step / self.warmup_steps
        if self.mode == 'linear':
            return 1 - (1 - progress) * (1 - self.ratio)
        if self.mode == 'constant':
            return self.ratio
        return self.ratio ** (1 - progress)

    def _get_value(self) -> List[float]:
        """Chainable form: undo the previous step's factor, apply this step's."""
        step = self.last_step
        scale = self.factor(step) / (self.factor(step - 1) if step > 0 else 1.0)
        return [group[self.param_name] * scale for group in self.optimizer.param_groups]
