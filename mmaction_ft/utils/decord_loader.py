"""Import decord without the CUDA libraries its loader would force into the process.

The ``decord2`` wheel, on import, dlopens every shared library under the pip ``nvidia/*/lib``
folders with ``RTLD_GLOBAL`` (cuBLAS, NCCL, nvSHMEM and ``libnvblas``, which interposes on
BLAS calls). mmaction_ft decodes on the CPU, and those libraries in a PyTorch process have crashed
torch CPU matmuls here (see docs/compatibility.md). Hiding the ``nvidia`` package from decord's
loader during the import keeps them out; the CUDA driver libraries it also tries are untouched.
"""

import importlib.util
import sys
from types import ModuleType


def import_decord() -> ModuleType:
    """``import decord``, skipping its preloading of the pip CUDA runtime libraries."""
    if 'decord' in sys.modules:
        return sys.modules['decord']
    import torch  # noqa: F401  (decord must never be the first to load native libraries)

    find_spec = importlib.util.find_spec

    def find_spec_without_nvidia(name, *args, **kwargs):
        return None if name == 'nvidia' else find_spec(name, *args, **kwargs)

    importlib.util.find_spec = find_spec_without_nvidia
    try:
        import decord
    finally:
        importlib.util.find_spec = find_spec
    return decord
