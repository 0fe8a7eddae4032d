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
    ArrayDecode,
    DecordDecode,
    DecordInit,
    OpenCVDecode,
    OpenCVInit,
    PyAVDecode,
    PyAVInit,
    RawFrameDecode,
)
from .erasing import RandomErasing
from .formatting import Collect, FormatShape, Normalize, PackActionInputs, ToTensor
from .imgaug import Imgaug
from .rescale import RandomRescale
from .sampling import DenseSampleFrames, SampleFrames, UniformSample
from .spatial import ColorJitter, Flip, Resize
from .wrappers import PytorchVideoWrapper

__all__ = [
    'ArrayDecode',
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
    'Imgaug',
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
    'PytorchVideoWrapper',
    'RandomErasing',
    'RandomRescale',
]
