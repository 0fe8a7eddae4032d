"""Pipeline transforms, one module per stage: sampling, decoding, spatial (+ cropping),
formatting."""

from .cropping import (
    CenterCrop,
    MultiScaleCrop,
    RandomCrop,
    RandomResizedCrop,
    TenCrop,
    ThreeCrop,
)
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
from .sampling import DenseSampleFrames, SampleFrames, UniformSample
from .spatial import ColorJitter, Flip, Resize

__all__ = [
    'CenterCrop',
    'ColorJitter',
    'Flip',
    'MultiScaleCrop',
    'RandomCrop',
    'RandomResizedCrop',
    'Resize',
    'TenCrop',
    'ThreeCrop',
    'Collect',
    'DecordDecode',
    'DenseSampleFrames',
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
    'UniformSample',
    'ToTensor',
]
