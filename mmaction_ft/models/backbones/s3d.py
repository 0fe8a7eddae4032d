"""S3D (Xie et al., "Rethinking Spatiotemporal Feature Learning: Speed-Accuracy Trade-offs in
Video Classification", ECCV 2018): Inception-v1 with every 3x3 conv separated into a 1x3x3
spatial and a 3x1x1 temporal conv, as torchvision's ``s3d`` builds it.

MMAction2 has no S3D; this backbone exists so that torchvision's Kinetics-400 ``s3d`` weights
(``torchvision://s3d``, converted by
:func:`mmaction_ft.models.converters.torchvision_video.convert_s3d`) can be finetuned. Every
conv is an mmcv ``ConvModule`` (``conv`` / ``bn``), so the state dict reads
``conv1.conv_s.conv.weight``, ``mixed_4b.branch1.1.conv_t.bn.running_mean``; the blocks keep
the paper's Inception names (``mixed_3b`` ... ``mixed_5c``).
"""

from typing import Dict, Optional, Sequence

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule

from mmaction_ft.registry import MODELS

# torchvision.models.video.s3d.S3D: BatchNorm3d(eps=0.001, momentum=0.001) everywhere.
_NORM_CFG = dict(type='BN3d', eps=1e-3, momentum=1e-3)

# (in, branch0 out, branch1 mid, branch1 out, branch2 mid, branch2 out, branch3 out) per
# Inception block, from torchvision (the widths of Inception-v1, Szegedy et al., 2015).
_INCEPTION = {
    'mixed_3b': (192, 64, 96, 128, 16, 32, 32),
    'mixed_3c': (256, 128, 128, 192, 32, 96, 64),
    'mixed_4b': (480, 192, 96, 208, 16, 48, 64),
    'mixed_4c': (512, 160, 112, 224, 24, 64, 64),
    'mixed_4d': (512, 128, 128, 256, 24, 64, 64),
    'mixed_4e': (512, 112, 144, 288, 32, 64, 64),
    'mixed_4f': (528, 256, 160, 320, 32, 128, 128),
    'mixed_5b': (832, 256, 160, 320, 32, 128, 128),
    'mixed_5c': (832, 384, 192, 384, 48, 128, 128),
}


class SepConv3d(nn.Module):
    """A ``k x k x k`` conv as a ``1 x k x k`` then a ``k x 1 x 1`` conv, each with BN + ReLU.

    Args:
        in_channels: Input channels.
        out_channels: Output channels (of both convs).
        kernel_size: ``k``.
        stride: Stride ``s``: ``(1, s, s)`` in the spatial conv, ``(s, 1, 1)`` in the temporal.
        padding: Padding, split the same way.
        norm_cfg: Norm config of both convs.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: int,
        stride: int,
        padding: int,
        norm_cfg: Dict = _NORM_CFG,
    ):
        super().__init__()
        k, s, p = kernel_size, stride, padding
        common = dict(bias=False, norm_cfg=norm_cfg, conv_cfg=dict(type='Conv3d'))
        self.conv_s = ConvModule(
            in_channels, out_channels, (1, k, k), (1, s, s), (0, p, p), **common
        )
        self.conv_t = ConvModule(
            out_channels, out_channels, (k, 1, 1), (s, 1, 1), (p, 0, 0), **common
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv_t(self.conv_s(x))


class SepInceptionBlock3d(nn.Module):
    """Four branches concatenated on channels: 1x1x1; 1x1x1 -> separable 3x3x3 (twice, with
    different widths); 3x3x3 max pool -> 1x1x1.

    Args:
        in_channels: Input channels.
        b0_out, b1_mid, b1_out, b2_mid, b2_out, b3_out: Branch widths (see ``_INCEPTION``).
        norm_cfg: Norm config of every conv.
    """

    def __init__(
        self,
        in_channels: int,
        b0_out: int,
        b1_mid: int,
        b1_out: int,
        b2_mid: int,
        b2_out: int,
        b3_out: int,
        norm_cfg: Dict = _NORM_CFG,
    ):
        super().__init__()
        common = dict(bias=False, norm_cfg=norm_cfg, conv_cfg=dict(type='Conv3d'))
        self.branch0 = ConvModule(in_channels, b0_out, 1, **common)
        self.branch1 = nn.Sequential(
            ConvModule(in_channels, b1_mid, 1, **common),
            SepConv3d(b1_mid, b1_out, 3, 1, 1, norm_cfg),
        )
        self.branch2 = nn.Sequential(
            ConvModule(in_channels, b2_mid, 1, **common),
            SepConv3d(b2_mid, b2_out, 3, 1, 1, norm_cfg),
        )
        self.branch3 = nn.Sequential(
            nn.MaxPool3d(kernel_size=3, stride=1, padding=1),
            ConvModule(in_channels, b3_out, 1, **common),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        branches = (self.branch0, self.branch1, self.branch2, self.branch3)
        return torch.cat([branch(x) for branch in branches], dim=1)  # [N, sum of outs, T, H, W]


@MODELS.register_module()
class S3D(BaseModule):
    """S3D backbone: ``[N, 3, T, H, W]`` clips -> ``[N, 1024, T', H', W']`` features.

    The features are ``T / 8`` x ``H / 32`` x ``W / 32`` before ``avg_pool``.

    Args:
        in_channels: Input channels.
        avg_pool_kernel: torchvision's S3D averages 2x7x7 windows (stride 1) of the features,
            classifies every window and averages the scores. A linear classifier after a global
            average (``I3DHead``) gives the same scores when the backbone outputs the windows'
            averages, so the default ``(2, 7, 7)`` reproduces torchvision (it then needs
            ``T >= 13`` frames and ``H, W >= 193``, like torchvision's). None outputs the
            features unpooled, for any input size.
        pretrained: Backbone-only weights in this layout or ``torchvision://s3d`` (converted
            on loading), loaded by ``init_weights``.
        norm_cfg: Norm config of every conv (torchvision's BN: eps 1e-3, momentum 1e-3).
        init_cfg: mmengine initialisation config; by default Kaiming convs and unit BN.
    """

    def __init__(
        self,
        in_channels: int = 3,
        avg_pool_kernel: Optional[Sequence[int]] = (2, 7, 7),
        pretrained: Optional[str] = None,
        norm_cfg: Dict = _NORM_CFG,
        init_cfg: Optional[Dict] = dict(type='Kaiming', layer='Conv3d'),  # noqa: B006
    ):
        super().__init__(init_cfg=init_cfg)
        self.pretrained = pretrained
        self.conv1 = SepConv3d(in_channels, 64, 7, 2, 3, norm_cfg)
        self.pool1 = nn.MaxPool3d(kernel_size=(1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1))
        self.conv2 = ConvModule(
            64, 64, 1, bias=False, norm_cfg=norm_cfg, conv_cfg=dict(type='Conv3d')
        )
        self.conv3 = SepConv3d(64, 192, 3, 1, 1, norm_cfg)
        self.pool2 = nn.MaxPool3d(kernel_size=(1, 3, 3), stride=(1, 2, 2), padding=(0, 1, 1))
        self.pool3 = nn.MaxPool3d(kernel_size=3, stride=2, padding=1)
        self.pool4 = nn.MaxPool3d(kernel_size=2, stride=2)
        for name, widths in _INCEPTION.items():
            self.add_module(name, SepInceptionBlock3d(*widths, norm_cfg=norm_cfg))
        self.avg_pool = (
            nn.AvgPool3d(tuple(avg_pool_kernel), stride=1) if avg_pool_kernel is not None else None
        )
        self.feat_dim = 1024

    def init_weights(self) -> None:
        """Load ``pretrained``, else ``init_cfg``."""
        if self.pretrained:
            from mmaction_ft.engine.weight_loading import load_pretrained

            load_pretrained(self, self.pretrained, hint='is it torchvision://s3d?')
        else:
            super().init_weights()
        self._is_init = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.pool1(self.conv1(x))  # [N, 64, T / 2, H / 4, W / 4]
        x = self.pool2(self.conv3(self.conv2(x)))  # [N, 192, T / 2, H / 8, W / 8]
        x = self.mixed_3c(self.mixed_3b(x))  # [N, 480, T / 2, H / 8, W / 8]
        x = self.pool3(x)  # [N, 480, T / 4, H / 16, W / 16]
        for name in ('mixed_4b', 'mixed_4c', 'mixed_4d', 'mixed_4e', 'mixed_4f'):
            x = getattr(self, name)(x)  # [N, 832, T / 4, H / 16, W / 16]
        x = self.pool4(x)  # [N, 832, T / 8, H / 32, W / 32]
        x = self.mixed_5c(self.mixed_5b(x))  # [N, 1024, T / 8, H / 32, W / 32]
        if self.avg_pool is not None:
            x = self.avg_pool(x)  # [N, 1024, T / 8 - 1, H / 32 - 6, W / 32 - 6]
        return x
