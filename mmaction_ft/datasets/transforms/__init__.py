"""Pipeline transforms, one module per stage: sampling, decoding, spatial, formatting."""

from .decoding import (
    DecordDecode,
    DecordInit,
    OpenCVDecode,
    OpenCVInit,
    PyAVDecode,
    PyAVInit,
    RawFrameDecode,
)
from .formatting import Collect, FormatShape, Normalize, PackActionInputs, ToTensor
from .sampling import SampleFrames

__all__ = [
    'Collect',
    'DecordDecode',
    'DecordInit',
    'FormatShape',
    'Normalize',
    'OpenCVDecode',
    'OpenCVInit',
    'PackActionInputs',
    'PyAVDecode',
    'PyAVInit',
    'RawFrameDecode',
    'SampleFrames',
    'ToTensor',
]

# spatial.py (Resize, crops, Flip, ColorJitter) registers its transforms on import.
try:
    from . import spatial  # noqa: F401
except ModuleNotFoundError as err:  # pragma: no cover - only while spatial.py is being written
    if err.name != f'{__name__}.spatial':
        raise
