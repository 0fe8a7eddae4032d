"""R(2+1)D (Tran et al., CVPR 2018): a 3D ResNet whose every conv is a :class:`Conv2plus1d`.

The extra nonlinearity between the spatial and the temporal half of each conv is what the
paper credits for R(2+1)D beating R3D at the same parameter count. Keys follow MMAction2:
``conv1.conv.conv_s.weight``, ``conv1.conv.bn_s.running_mean``, ``layer1.0.conv1.conv.conv_t
.weight``, ``layer2.0.downsample.conv.conv_s.weight``.

``layout='torchvision'`` builds torchvision's ``r2plus1d_18`` instead, whose widths differ: its
stem's middle width is 45, both convs of a block share the middle width computed from the block's
input and output channels (``(2+1)D`` of the first conv), and the identity projections are plain
1x1x1 convs (key ``layer2.0.downsample.conv.weight``).
"""

from typing import Dict

import torch.nn as nn

from mmaction_ft.registry import MODELS

from .conv2plus1d import Conv2plus1d
from .resnet3d import ResNet3d

_LAYOUTS = ('mmaction2', 'torchvision')
_TORCHVISION_STEM_MID_CHANNELS = 45  # torchvision.models.video.resnet.R2Plus1dStem


@MODELS.register_module()
class ResNet2Plus1d(ResNet3d):
    """R(2+1)D backbone: ``[N, C, T, H, W]`` clips -> stage feature maps.

    Unlike I3D there is no ``pool2``: time is reduced by the stages' ``temporal_strides`` only
    (``with_pool2`` is ignored, as in MMAction2).

    Args:
        pretrained: Weights of this backbone (MMAction2's layout) loaded by ``init_weights``;
            there are no 2D weights to inflate into (2+1)D convs.
        pretrained2d: Must be False.
        conv_cfg: Must build a :class:`Conv2plus1d` (``dict(type='Conv2plus1d')``).
        layout: ``'mmaction2'`` (MMAction2's widths) or ``'torchvision'`` (torchvision's
            ``VideoResNet`` widths and projections, for its ``r2plus1d_18`` weights).
        **kwargs: :class:`ResNet3d` arguments (``depth``, ``temporal_strides``, ``norm_cfg``
            ...).
    """

    def __init__(
        self,
        *args,
        pretrained2d: bool = False,
        conv_cfg: Dict = dict(type='Conv2plus1d'),  # noqa: B006 (never mutated)
        layout: str = 'mmaction2',
        **kwargs,
    ):
        if layout not in _LAYOUTS:
            raise ValueError(f'ResNet2Plus1d layout must be one of {_LAYOUTS}, got {layout!r}')
        # Read by _conv_cfg while ResNet3d.__init__ builds the layers.
        self.layout = layout
        if pretrained2d:
            raise ValueError(
                'ResNet2Plus1d cannot inflate 2D weights into (2+1)D convs: set '
                'pretrained2d=False and give R(2+1)D weights as pretrained'
            )
        if conv_cfg.get('type') not in ('Conv2plus1d', Conv2plus1d):
            raise ValueError(
                f"ResNet2Plus1d needs conv_cfg=dict(type='Conv2plus1d'), got {conv_cfg!r}"
            )
        # The class itself, so that the convs build without the 'mmaction_ft' default scope.
        conv_cfg = dict(conv_cfg, type=Conv2plus1d)
        kwargs['with_pool2'] = False
        super().__init__(*args, pretrained2d=False, conv_cfg=conv_cfg, **kwargs)

    def _conv_cfg(self, part: str, inplanes: int = 0, planes: int = 0) -> Dict:
        if self.layout == 'mmaction2':
            return self.conv_cfg
        if part == 'stem':
            return dict(self.conv_cfg, mid_channels=_TORCHVISION_STEM_MID_CHANNELS)
        if part == 'downsample':
            return dict(type=nn.Conv3d)
        # torchvision.models.video.resnet.BasicBlock: one width for both convs of the block.
        mid_channels = (inplanes * planes * 3 * 3 * 3) // (inplanes * 3 * 3 + 3 * planes)
        return dict(self.conv_cfg, mid_channels=mid_channels)
