"""Mixed precision that also runs on a CPU.

mmengine's ``AmpOptimWrapper`` asserts a GPU, so an MMAction2 config that names it (the Swin
configs do) cannot train on a CPU. Registered in our scope under the same name, this one is
mmengine's wrapper wherever an accelerator is present. On a CPU it autocasts to bfloat16, the
only type CPU autocast computes in, where the CPU has bfloat16 instructions (AVX-512 BF16 or
AMX); elsewhere bfloat16 is emulated and slower than float32, so it trains in float32 unless
``dtype='bfloat16'`` asks for it. The log says which and why. bfloat16 has float32's exponent
range, so no loss scaling is needed (``loss_scale`` is ignored, and said so).
"""

from contextlib import contextmanager
from typing import Optional, Union

import torch
from mmengine.logging import print_log
from mmengine.optim import AmpOptimWrapper as MMEngineAmpOptimWrapper
from mmengine.optim import OptimWrapper

from mmaction_ft.registry import OPTIM_WRAPPERS
from mmaction_ft.utils.cpu import accelerator_available, cpu_bf16_choice

__all__ = ['AmpOptimWrapper']


@OPTIM_WRAPPERS.register_module()
class AmpOptimWrapper(MMEngineAmpOptimWrapper):
    """mmengine's ``AmpOptimWrapper`` on a GPU; bfloat16 autocast without loss scaling on a CPU.

    Args:
        loss_scale: GPU loss scaling (``'dynamic'``, the default when unset, a float or a
            ``GradScaler`` config); ignored on a CPU, which the log says when it is set.
        dtype: The autocast type; on a CPU only None (bfloat16 where the CPU computes it
            natively, else float32) or bfloat16 (always).
        use_fsdp: GPU only, as in mmengine.
        **kwargs: ``OptimWrapper`` arguments (``optimizer``, ``accumulative_counts``,
            ``clip_grad``).
    """

    def __init__(
        self,
        loss_scale: Union[str, float, dict, None] = None,
        dtype: Optional[Union[str, torch.dtype]] = None,
        use_fsdp: bool = False,
        **kwargs,
    ) -> None:
        if accelerator_available():
            loss_scale = 'dynamic' if loss_scale is None else loss_scale  # mmengine's default
            super().__init__(loss_scale=loss_scale, dtype=dtype, use_fsdp=use_fsdp, **kwargs)
            return
        if dtype not in (None, 'bfloat16', torch.bfloat16):
            raise ValueError(
                f'optim_wrapper.dtype={dtype!r}: mixed precision on a CPU computes in bfloat16 '
                "only; remove dtype or set dtype='bfloat16'"
            )
        OptimWrapper.__init__(self, **kwargs)
        self.loss_scaler = None
        self._scale_update_param = None
        bf16, why = cpu_bf16_choice("optim_wrapper.dtype='bfloat16'", forced=dtype is not None)
        self.cast_dtype = torch.bfloat16 if bf16 else None
        chosen = 'bfloat16 autocast' if bf16 else 'float32, no autocast'
        # A loss_scale the config sets (MMAction2's fp16=dict(loss_scale=512.)) is named, so the
        # user knows it is ignored; the default is not GPU talk worth a CPU user's screen.
        ignored = (
            f' No loss scaling (loss_scale={loss_scale!r} is for GPUs).'
            if loss_scale is not None
            else ''
        )
        print_log(f'AmpOptimWrapper on a CPU: {chosen}, because {why}.{ignored}', logger='current')

    @contextmanager
    def optim_context(self, model):
        """mmengine's context (autocast to :attr:`cast_dtype`), or the plain wrapper's when a
        CPU trains in float32 (mmengine's autocast would pick bfloat16 for ``dtype=None``)."""
        if self.loss_scaler is None and self.cast_dtype is None:
            with OptimWrapper.optim_context(self, model):
                yield
        else:
            with super().optim_context(model):
                yield

    def backward(self, loss: torch.Tensor, **kwargs) -> None:
        if self.loss_scaler is None:
            return OptimWrapper.backward(self, loss, **kwargs)
        return super().backward(loss, **kwargs)

    def step(self, **kwargs) -> None:
        if self.loss_scaler is None:
            return OptimWrapper.step(self, **kwargs)
        return super().step(**kwargs)

    def state_dict(self) -> dict:
        if self.loss_scaler is None:
            return OptimWrapper.state_dict(self)
        return super().state_dict()

    def load_state_dict(self, state_dict: dict) -> None:
        if self.loss_scaler is None:
            # A GPU run's scaler state has no use here; the optimizer state resumes as is.
            state_dict = {k: v for k, v in state_dict.items() if k != 'loss_scaler'}
            return OptimWrapper.load_state_dict(self, state_dict)
        return super().load_state_dict(state_dict)
