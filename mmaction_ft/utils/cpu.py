"""What the CPU this process runs on can do, for choices that depend on it (bfloat16 speed)."""

import functools
import platform
from typing import Optional, Tuple


@functools.lru_cache(maxsize=1)
def cpu_flags() -> frozenset:
    """The feature flags of the first CPU in ``/proc/cpuinfo`` (empty where there is none)."""
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('flags'):
                    return frozenset(line.split(':', 1)[1].split())
    except OSError:  # not Linux
        pass
    return frozenset()


def has_native_bf16() -> bool:
    """Whether the CPU computes bfloat16 matrix products in hardware (AVX-512 BF16 or AMX);
    without them torch emulates bfloat16 and it is slower than float32. Apple silicon has it."""
    if platform.machine() == 'arm64' and platform.system() == 'Darwin':
        return True
    return bool({'avx512_bf16', 'amx_bf16'} & cpu_flags())


def accelerator_available() -> bool:
    """Whether mmengine would run on an accelerator (CUDA, NPU, MLU, MUSA) rather than the CPU."""
    from mmengine.device import (
        is_cuda_available,
        is_mlu_available,
        is_musa_available,
        is_npu_available,
    )

    return is_cuda_available() or is_npu_available() or is_mlu_available() or is_musa_available()


def cpu_bf16_choice(force_key: Optional[str] = None, forced: bool = False) -> Tuple[bool, str]:
    """Whether mixed precision on this CPU should autocast to bfloat16, and why (for the log).

    bfloat16 is CPU autocast's only type. Where the CPU computes it natively (AVX-512 BF16 /
    AMX) it is about twice as fast as float32; elsewhere torch emulates it and it is slower
    than float32, so it is used there only when ``forced``.

    Args:
        force_key: The config setting that forces bfloat16 (named in the reason), if any.
        forced: Whether that setting is set.
    """
    if has_native_bf16():
        return True, 'the CPU computes bfloat16 natively (AVX-512 BF16 / AMX)'
    if forced:
        return True, (
            f'{force_key} asks for it, although this CPU has no bfloat16 instructions '
            '(AVX-512 BF16 / AMX): expect it to be slower than float32'
        )
    why = (
        'this CPU has no bfloat16 instructions (AVX-512 BF16 / AMX), so bfloat16 would be '
        'emulated and slower'
    )
    return False, why + (f'; {force_key} forces it' if force_key else '')
