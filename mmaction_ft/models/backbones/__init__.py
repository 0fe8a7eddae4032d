from .c3d import C3D
from .conv2plus1d import Conv2plus1d
from .mvit import MViT
from .resnet import ResNet
from .resnet2plus1d import ResNet2Plus1d
from .resnet3d import ResNet3d
from .resnet3d_csn import ResNet3dCSN
from .resnet3d_slowfast import ResNet3dPathway, ResNet3dSlowFast
from .resnet3d_slowonly import ResNet3dSlowOnly
from .resnet_tsm import ResNetTSM
from .s3d import S3D
from .swin import SwinTransformer3D
from .timesformer import TimeSformer
from .timm_backbone import TimmBackbone
from .torchvision_backbone import TorchvisionBackbone
from .uniformerv2 import UniFormerV2
from .vit_mae import VisionTransformer
from .x3d import X3D

__all__ = [
    'C3D',
    'Conv2plus1d',
    'MViT',
    'ResNet',
    'ResNet2Plus1d',
    'ResNet3d',
    'ResNet3dCSN',
    'ResNet3dPathway',
    'ResNet3dSlowFast',
    'ResNet3dSlowOnly',
    'ResNetTSM',
    'S3D',
    'SwinTransformer3D',
    'TimeSformer',
    'TimmBackbone',
    'TorchvisionBackbone',
    'UniFormerV2',
    'VisionTransformer',
    'X3D',
]
