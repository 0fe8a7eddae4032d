"""Residual blocks of the 3D ResNet family (:class:`~.resnet3d.ResNet3d` and its subclasses).

Each conv is an mmcv ``ConvModule`` (children ``conv`` / ``bn``), so a block's state dict reads
``conv1.conv.weight``, ``conv2.bn.running_mean``, ``downsample.conv.weight`` and, with a
non-local block, ``non_local_block.g.0.conv.weight``: MMAction2's layout.
"""

from typing import Dict, Optional

import torch
import torch.nn as nn
import torch.utils.checkpoint as cp
from mmcv.cnn import ConvModule, build_activation_layer

from .non_local import NonLocal3d
from .resnet import add_identity


class BasicBlock3d(nn.Module):
    """Two 3x3 convs, inflated to 3x3x3 or kept 1x3x3, plus the identity (ResNet3d-18/34).

    Args:
        inplanes: Input channels.
        planes: Output channels.
        spatial_stride: Spatial stride of the first conv.
        temporal_stride: Temporal stride of the first conv.
        dilation: Spatial dilation of the first conv.
        downsample: Projection of the identity when the shape changes.
        style: Unused here (both styles put the stride on the first conv).
        inflate: 3x3x3 kernels if True, 1x3x3 (a 2D conv per frame) if False.
        inflate_style: Unused here (accepted because the stage builder passes it to any block).
        non_local: Append a :class:`NonLocal3d` block after the residual add.
        non_local_cfg: Keyword arguments of that block.
        conv_cfg, norm_cfg, act_cfg: Layer configs of the ``ConvModule`` s.
        with_cp: Recompute the residual branch in backward to save memory.
    """

    expansion = 1

    def __init__(
        self,
        inplanes: int,
        planes: int,
        spatial_stride: int = 1,
        temporal_stride: int = 1,
        dilation: int = 1,
        downsample: Optional[nn.Module] = None,
        style: str = 'pytorch',
        inflate: bool = True,
        inflate_style: str = '3x1x1',
        non_local: bool = False,
        non_local_cfg: Dict = dict(),  # noqa: B006 (never mutated)
        conv_cfg: Dict = dict(type='Conv3d'),  # noqa: B006
        norm_cfg: Dict = dict(type='BN3d', requires_grad=True),  # noqa: B006
        act_cfg: Dict = dict(type='ReLU', inplace=True),  # noqa: B006
        with_cp: bool = False,
    ):
        super().__init__()
        kt, pt = (3, 1) if inflate else (1, 0)
        common = dict(bias=False, conv_cfg=conv_cfg, norm_cfg=norm_cfg)
        self.conv1 = ConvModule(
            inplanes,
            planes,
            (kt, 3, 3),
            stride=(temporal_stride, spatial_stride, spatial_stride),
            padding=(pt, dilation, dilation),
            dilation=(1, dilation, dilation),
            act_cfg=act_cfg,
            **common,
        )
        self.conv2 = ConvModule(
            planes, planes, (kt, 3, 3), padding=(pt, 1, 1), act_cfg=None, **common
        )
        self.downsample = downsample
        self.relu = build_activation_layer(act_cfg)  # after the residual add
        self.with_cp = with_cp
        if non_local:
            self.non_local_block = NonLocal3d(planes * self.expansion, **non_local_cfg)

    def _residual(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        return add_identity(self.conv2(self.conv1(x)), identity)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.with_cp and x.requires_grad:
            out = self.relu(cp.checkpoint(self._residual, x, use_reentrant=False))
        else:
            out = self.relu(self._residual(x))
        if hasattr(self, 'non_local_block'):
            out = self.non_local_block(out)
        return out


class Bottleneck3d(nn.Module):
    """1x1 reduce, 3x3, 1x1 expand (x4) plus the identity, inflated in time (ResNet3d-50+).

    ``inflate_style='3x1x1'`` makes the first conv 3x1x1 (I3D as in Wang et al., Non-local
    Networks), ``'3x3x3'`` makes the middle one 3x3x3 (Carreira & Zisserman); a block with
    ``inflate=False`` is a 2D bottleneck applied per frame.

    Args:
        inplanes: Input channels.
        planes: Channels of the middle conv; the block outputs ``planes * 4``.
        spatial_stride: Spatial stride, on the middle conv for ``style='pytorch'`` and on the
            first conv for ``style='caffe'``; so is the temporal one.
        temporal_stride: Temporal stride.
        dilation: Spatial dilation of the middle conv.
        downsample: Projection of the identity when the shape changes.
        style: ``'pytorch'`` or ``'caffe'``.
        inflate: Whether this block has a temporal kernel.
        inflate_style: ``'3x1x1'`` or ``'3x3x3'``.
        non_local: Append a :class:`NonLocal3d` block after the residual add.
        non_local_cfg: Keyword arguments of that block.
        conv_cfg, norm_cfg, act_cfg: Layer configs of the ``ConvModule`` s.
        with_cp: Recompute the residual branch in backward to save memory.
    """

    expansion = 4

    def __init__(
        self,
        inplanes: int,
        planes: int,
        spatial_stride: int = 1,
        temporal_stride: int = 1,
        dilation: int = 1,
        downsample: Optional[nn.Module] = None,
        style: str = 'pytorch',
        inflate: bool = True,
        inflate_style: str = '3x1x1',
        non_local: bool = False,
        non_local_cfg: Dict = dict(),  # noqa: B006 (never mutated)
        conv_cfg: Dict = dict(type='Conv3d'),  # noqa: B006
        norm_cfg: Dict = dict(type='BN3d', requires_grad=True),  # noqa: B006
        act_cfg: Dict = dict(type='ReLU', inplace=True),  # noqa: B006
        with_cp: bool = False,
    ):
        super().__init__()
        stride = (temporal_stride, spatial_stride, spatial_stride)
        conv1_stride, conv2_stride = ((1, 1, 1), stride) if style == 'pytorch' else (stride, 1)
        t1, t2 = {'3x1x1': (3, 1), '3x3x3': (1, 3)}[inflate_style] if inflate else (1, 1)
        common = dict(bias=False, conv_cfg=conv_cfg, norm_cfg=norm_cfg)
        self.conv1 = ConvModule(
            inplanes,
            planes,
            (t1, 1, 1),
            stride=conv1_stride,
            padding=(t1 // 2, 0, 0),
            act_cfg=act_cfg,
            **common,
        )
        self.conv2 = ConvModule(
            planes,
            planes,
            (t2, 3, 3),
            stride=conv2_stride,
            padding=(t2 // 2, dilation, dilation),
            dilation=(1, dilation, dilation),
            act_cfg=act_cfg,
            **common,
        )
        self.conv3 = ConvModule(planes, planes * self.expansion, 1, act_cfg=None, **common)
        self.downsample = downsample
        self.relu = build_activation_layer(act_cfg)  # after the residual add
        self.with_cp = with_cp
        if non_local:
            self.non_local_block = NonLocal3d(planes * self.expansion, **non_local_cfg)

    def _residual(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        return add_identity(self.conv3(self.conv2(self.conv1(x))), identity)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.with_cp and x.requires_grad:
            out = self.relu(cp.checkpoint(self._residual, x, use_reentrant=False))
        else:
            out = self.relu(self._residual(x))
        if hasattr(self, 'non_local_block'):
            out = self.non_local_block(out)
        return out
