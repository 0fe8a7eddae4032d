"""Mixed precision that also runs on a CPU.

mmengine's ``AmpOptimWrapper`` asserts a GPU, so an MMAction2 config that names it (the Swin
configs do) cannot train on a CPU. Registered in our scope under the same name, this one is
mmengine's wrapper wherever an accelerator is present and, on a CPU, autocasts to bfloat16,
the only type CPU autocast computes in. bfloat16 has float32's exponent range, so no loss
scaling is needed there (``loss_scale`` is ignored, and said so).
"""

from typing import Optional, Union

import torch
from mmengine.device import is_cuda_available, is_mlu_available, is_musa_available, is_npu_available
from mmengine.logging import print_log
from mmengine.optim import AmpOptimWrapper as MMEngineAmpOptimWrapper
from mmengine.optim import OptimWrapper

from mmaction_ft.registry import OPTIM_WRAPPERS
from mmaction_ft.utils.cpu import has_native_bf16

__all__ = ['AmpOptimWrapper']


def _accelerator_available() -> bool:
    return is_cuda_available() or is_npu_available() or is_mlu_available() or is_musa_available()


@OPTIM_WRAPPERS.register_module()
class AmpOptimWrapper(MMEngineAmpOptimWrapper):
    """mmengine's ``AmpOptimWrapper`` on a GPU; bfloat16 autocast without loss scaling on a CPU.

    Args:
        loss_scale: GPU loss scaling (``'dynamic'``, a float or a ``GradScaler`` config).
        dtype: The autocast type; on a CPU only None or bfloat16.
        use_fsdp: GPU only, as in mmengine.
        **kwargs: ``OptimWrapper`` arguments (``optimizer``, ``accumulative_counts``,
            ``clip_grad``).
    """

    def __init__(
        self,
        loss_scale: Union[str, float, dict] = 'dynamic',
        dtype: Optional[Union[str, torch.dtype]] = None,
        use_fsdp: bool = False,
        **kwargs,
    ) -> None:
        if _accelerator_available():
            super().__init__(loss_scale=loss_scale, dtype=dtype, use_fsdp=use_fsdp, **kwargs)
            return
        if dtype not in (None, 'bfloat16', torch.bfloat16):
            raise ValueError(
                f'optim_wrapper.dtype={dtype!r}: mixed precision on a CPU computes in bfloat16 '
                "only; remove dtype or set dtype='bfloat16'"
            )
        OptimWrapper.__init__(self, **kwargs)
        self.cast_dtype = torch.bfloat16
        self.loss_scaler = None
        self._scale_update_param = None
        speed = (
            ''
            if has_native_bf16()
            else ' This CPU has no bfloat16 instructions (AVX-512 BF16 / AMX): expect it to be '
            'slower than float32 (optim_wrapper.type=OptimWrapper trains in float32).'
        )
        print_log(
            f'AmpOptimWrapper on a CPU: bfloat16 autocast without loss scaling (loss_scale='
            f'{loss_scale!r} is for GPUs).{speed}',
            logger='current',
        )

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
