"""Channel-separated networks (CSN; Tran et al., "Video Classification with Channel-Separated
Convolutional Networks", ICCV 2019): 3D ResNets whose 3x3x3 convs are depthwise.

The bottleneck's middle conv becomes ``conv2``, a ``Sequential`` of one or two ``ConvModule`` s:

- ``'ir'`` (interaction-reduced): only the depthwise 3x3x3 conv, ``layer1.0.conv2.0.conv.weight``
- ``'ip'`` (interaction-preserved): a 1x1x1 conv first (``conv2.0``) to keep channel
  interactions, then the depthwise conv (``conv2.1``)

as MMAction2 lays them out.
"""

from typing import Dict, Optional, Sequence

import torch.nn as nn
from mmcv.cnn import ConvModule
from torch.nn.modules.batchnorm import _BatchNorm

from mmaction_ft.registry import MODELS

from .resnet3d import ResNet3d
from .resnet3d_blocks import Bottleneck3d

BOTTLENECK_MODES = ('ip', 'ir')


class CSNBottleneck3d(Bottleneck3d):
    """A :class:`Bottleneck3d` whose middle conv is channel-separated.

    Args:
        inplanes: Input channels.
        planes: Channels of the middle conv; the block outputs ``planes * 4``.
        bottleneck_mode: ``'ir'`` (depthwise conv only) or ``'ip'`` (1x1x1 conv + depthwise).
        conv_cfg, norm_cfg, act_cfg: Layer configs of the ``ConvModule`` s.
        **kwargs: :class:`Bottleneck3d` arguments (strides, ``inflate``, ``inflate_style`` ...).
    """

    def __init__(
        self,
        inplanes: int,
        planes: int,
        *args,
        bottleneck_mode: str = 'ir',
        conv_cfg: Dict = dict(type='Conv3d'),  # noqa: B006 (never mutated)
        norm_cfg: Dict = dict(type='BN3d', requires_grad=True),  # noqa: B006
        act_cfg: Dict = dict(type='ReLU', inplace=True),  # noqa: B006
        **kwargs,
    ):
        super().__init__(
            inplanes, planes, *args, conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg, **kwargs
        )
        if bottleneck_mode not in BOTTLENECK_MODES:
            raise ValueError(
                f'CSN bottleneck_mode must be one of {BOTTLENECK_MODES}, got {bottleneck_mode!r}'
            )
        self.bottleneck_mode = bottleneck_mode
        dense = self.conv2.conv  # the geometry (kernel, stride, padding) Bottleneck3d chose
        depthwise = ConvModule(
            planes,
            planes,
            dense.kernel_size,
            stride=dense.stride,
            padding=dense.padding,
            dilation=dense.dilation,
            groups=planes,
            bias=False,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg,
        )
        layers = [depthwise]
        if bottleneck_mode == 'ip':
            pointwise = ConvModule(
                planes, planes, 1, bias=False, conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=None
            )
            layers.insert(0, pointwise)
        self.conv2 = nn.Sequential(*layers)  # replaces the dense conv, keeping its key position


@MODELS.register_module()
class ResNet3dCSN(ResNet3d):
    """ir-CSN / ip-CSN backbone: ``[N, C, T, H, W]`` clips -> stage feature maps.

    Args:
        depth: 50, 101 or 152.
        pretrained: Weights of this backbone loaded by ``init_weights`` (CSN checkpoints are
            3D: configs set ``pretrained2d=False``).
        temporal_strides: Temporal stride of the first block of each stage.
        conv1_kernel: Stem kernel ``(t, h, w)``.
        conv1_stride_t: Temporal stride of the stem.
        pool1_stride_t: Temporal stride of the max pool after the stem.
        norm_cfg: Norm layer config (eps 1e-3 as in the Caffe2 models the weights come from).
        inflate_style: ``'3x3x3'`` (the middle conv is 3x3x3) or ``'3x1x1'``.
        bottleneck_mode: ``'ir'`` or ``'ip'``, see :class:`CSNBottleneck3d`.
        bn_frozen: With ``norm_eval``, also stop the BN affine parameters from training
            (``requires_grad=False``); without ``norm_eval`` it does nothing, as in MMAction2.
        **kwargs: :class:`ResNet3d` arguments (``with_pool2``, ``norm_eval``, ``frozen_stages``
            ...).
    """

    arch_settings = {
        50: (CSNBottleneck3d, (3, 4, 6, 3)),
        101: (CSNBottleneck3d, (3, 4, 23, 3)),
        152: (CSNBottleneck3d, (3, 8, 36, 3)),
    }

    def __init__(
        self,
        depth: int,
        pretrained: Optional[str] = None,
        temporal_strides: Sequence[int] = (1, 2, 2, 2),
        conv1_kernel: Sequence[int] = (3, 7, 7),
        conv1_stride_t: int = 1,
        pool1_stride_t: int = 1,
        norm_cfg: Dict = dict(type='BN3d', requires_grad=True, eps=1e-3),  # noqa: B006
        inflate_style: str = '3x3x3',
        bottleneck_mode: str = 'ir',
        bn_frozen: bool = False,
        **kwargs,
    ):
        if bottleneck_mode not in BOTTLENECK_MODES:
            raise ValueError(
                f'ResNet3dCSN bottleneck_mode must be one of {BOTTLENECK_MODES}, got '
                f'{bottleneck_mode!r}'
            )
        super().__init__(
            depth,
            pretrained,
            temporal_strides=temporal_strides,
            conv1_kernel=conv1_kernel,
            conv1_stride_t=conv1_stride_t,
            pool1_stride_t=pool1_stride_t,
            norm_cfg=norm_cfg,
            inflate_style=inflate_style,
            bottleneck_mode=bottleneck_mode,
            **kwargs,
        )
        self.bottleneck_mode = bottleneck_mode
        self.bn_frozen = bn_frozen

    def train(self, mode: bool = True) -> 'ResNet3dCSN':
        """As :meth:`ResNet3d.train`; with ``norm_eval`` and ``bn_frozen`` the BN parameters
        stop training as well."""
        super().train(mode)
        if mode and self.norm_eval and self.bn_frozen:
            for m in self.modules():
                if isinstance(m, _BatchNorm):
                    for param in m.parameters():
                        param.requires_grad = False
        return self
