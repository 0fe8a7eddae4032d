"""What the CPU this process runs on can do, for choices that depend on it (bfloat16 speed)."""

import functools
import platform


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
