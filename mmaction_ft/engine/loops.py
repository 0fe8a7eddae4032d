"""Validation and test loops whose ``fp16=True`` also means something sensible on a CPU.

mmengine's ``ValLoop`` / ``TestLoop`` take ``fp16=True`` as "run the model under autocast": float16
on a GPU, bfloat16 on a CPU (CPU autocast's only type), whatever the CPU. Where the CPU has no
bfloat16 instructions that is emulated and slower than float32, so these loops, registered in our
scope under mmengine's names, keep float32 there and say so; everywhere else they are mmengine's.
``tools/test.py --amp``, ``tools/train.py --amp`` and the config's ``precision`` (``'amp'``, or
``'auto'`` on a CPU with bfloat16 instructions) set it (:func:`~mmaction_ft.apis.apply_precision`).
"""

from mmengine.logging import print_log
from mmengine.runner import TestLoop as MMEngineTestLoop
from mmengine.runner import ValLoop as MMEngineValLoop

from mmaction_ft.registry import LOOPS
from mmaction_ft.utils.cpu import accelerator_available, cpu_bf16_choice

__all__ = ['TestLoop', 'ValLoop']


def _cpu_precision(loop, key: str) -> None:
    """Keep ``loop.fp16`` only where it pays, and log what runs and why."""
    if not loop.fp16 or accelerator_available():
        return
    loop.fp16, why = cpu_bf16_choice()
    chosen = 'bfloat16 autocast' if loop.fp16 else 'float32, no autocast'
    print_log(f'{key}.fp16=True on a CPU: {chosen}, because {why}.', logger='current')


@LOOPS.register_module()
class ValLoop(MMEngineValLoop):
    """mmengine's ``ValLoop``; ``fp16=True`` on a CPU: bfloat16 only where it is native."""

    def __init__(self, runner, dataloader, evaluator, fp16: bool = False) -> None:
        super().__init__(runner, dataloader, evaluator, fp16=fp16)
        _cpu_precision(self, 'val_cfg')


@LOOPS.register_module()
class TestLoop(MMEngineTestLoop):
    """mmengine's ``TestLoop``; ``fp16=True`` on a CPU: bfloat16 only where it is native."""

    def __init__(self, runner, dataloader, evaluator, fp16: bool = False) -> None:
        super().__init__(runner, dataloader, evaluator, fp16=fp16)
        _cpu_precision(self, 'test_cfg')
