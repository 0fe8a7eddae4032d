from .c3d import C3D
from .conv2plus1d import Conv2plus1d
from .resnet import ResNet
from .resnet2plus1d import ResNet2Plus1d
from .resnet3d import ResNet3d
from .resnet3d_csn import ResNet3dCSN
from .resnet3d_slowfast import ResNet3dPathway, ResNet3dSlowFast
from .resnet3d_slowonly import ResNet3dSlowOnly
from .resnet_tsm import ResNetTSM
from .x3d import X3D

__all__ = [
    'C3D',
    'Conv2plus1d',
    'ResNet',
    'ResNet2Plus1d',
    'ResNet3d',
    'ResNet3dCSN',
    'ResNet3dPathway',
    'ResNet3dSlowFast',
    'ResNet3dSlowOnly',
    'ResNetTSM',
    'X3D',
]
