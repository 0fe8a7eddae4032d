"""R(2+1)D (Tran et al., CVPR 2018): a 3D ResNet whose every conv is a :class:`Conv2plus1d`.

The extra nonlinearity between the spatial and the temporal half of each conv is what the
paper credits for R(2+1)D beating R3D at the same parameter count. Keys follow MMAction2:
``conv1.conv.conv_s.weight``, ``conv1.conv.bn_s.running_mean``, ``layer1.0.conv1.conv.conv_t
.weight``, ``layer2.0.downsample.conv.conv_s.weight``.
"""

from typing import Dict

from mmaction_ft.registry import MODELS

from .conv2plus1d import Conv2plus1d
from .resnet3d import ResNet3d


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
        **kwargs: :class:`ResNet3d` arguments (``depth``, ``temporal_strides``, ``norm_cfg``
            ...).
    """

    def __init__(
        self,
        *args,
        pretrained2d: bool = False,
        conv_cfg: Dict = dict(type='Conv2plus1d'),  # noqa: B006 (never mutated)
        **kwargs,
    ):
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
