"""SlowFast (Feichtenhofer et al., ICCV 2019): two 3D ResNets on one clip, fused by laterals.

The slow pathway sees one frame in ``resample_rate`` (tau) with full width; the fast pathway
sees ``speed_ratio`` (alpha) times more frames with ``1 / channel_ratio`` (beta) of the channels.
After the stem and after every stage but the last, a lateral conv with a ``fusion_kernel`` x 1 x 1
kernel and temporal stride alpha maps the fast features to the slow frame rate, and they are
concatenated to the slow features. The laterals belong to the slow pathway, as in MMAction2's
checkpoints: ``slow_path.conv1_lateral.conv.weight``, ``slow_path.layer1_lateral.conv.weight``.
"""

from typing import Dict, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule, kaiming_init

from mmaction_ft.registry import MODELS

from .resnet3d import ResNet3d


class DeConvModule(nn.Module):
    """Transposed conv + BN + ReLU that scales ``[N, C, T, H, W]`` up by ``stride`` exactly.

    The lateral of ``lateral_inv=True``: the fast features are upsampled instead of the
    slow-rate sampling of the strided conv.

    Args:
        in_channels: Input channels.
        out_channels: Output channels.
        kernel_size: Kernel ``(t, h, w)``.
        stride: Upsampling factors ``(t, h, w)``.
        padding: Padding ``(t, h, w)``.
        bias: Whether the conv has a bias.
        with_bn: Apply the BN (it exists either way, as in MMAction2's checkpoints).
        with_relu: Apply the ReLU.
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: Tuple[int, int, int],
        stride: Tuple[int, int, int] = (1, 1, 1),
        padding: Tuple[int, int, int] = (0, 0, 0),
        bias: bool = False,
        with_bn: bool = True,
        with_relu: bool = True,
    ):
        super().__init__()
        self.out_channels = out_channels
        self.stride = tuple(stride)
        self.with_bn = with_bn
        self.with_relu = with_relu
        self.conv = nn.ConvTranspose3d(
            in_channels, out_channels, kernel_size, stride=stride, padding=padding, bias=bias
        )
        self.bn = nn.BatchNorm3d(out_channels)
        self.relu = nn.ReLU()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, _, t, h, w = x.shape
        size = (n, self.out_channels, self.stride[0] * t, self.stride[1] * h, self.stride[2] * w)
        x = self.conv(x, output_size=size)  # [N, C_out, stride_t * T, ...]
        if self.with_bn:
            x = self.bn(x)
        return self.relu(x) if self.with_relu else x


class ResNet3dPathway(ResNet3d):
    """One SlowFast pathway: a :class:`ResNet3d`, plus (``lateral=True``) the lateral convs that
    bring in the other pathway's features.

    Args:
        lateral: Whether this pathway receives laterals (the slow one does).
        lateral_inv: Upsample with a transposed conv instead of sampling with a strided conv.
        lateral_norm: BN + ReLU after each lateral conv (no bias-free plain conv).
        speed_ratio: alpha, frames of the fast pathway per slow frame.
        channel_ratio: beta inverse, slow channels per fast channel.
        fusion_kernel: Temporal kernel of the lateral convs.
        lateral_infl: Channel growth of the lateral convs (2: fast C -> 2C, paper sec. 3.4).
        lateral_activate: Per stage (the stem counts as stage 0 here), whether the lateral
            feeding it exists.
        **kwargs: :class:`ResNet3d` arguments.
    """

    def __init__(
        self,
        lateral: bool = False,
        lateral_inv: bool = False,
        lateral_norm: bool = False,
        speed_ratio: int = 8,
        channel_ratio: int = 8,
        fusion_kernel: int = 5,
        lateral_infl: int = 2,
        lateral_activate: Sequence[int] = (1, 1, 1, 1),
        **kwargs,
    ):
        num_stages = kwargs.get('num_stages', 4)
        lateral_activate = tuple(lateral_activate)
        if lateral and len(lateral_activate) < num_stages:
            raise ValueError(
                f'{type(self).__name__} lateral_activate needs one flag per stage '
                f'({num_stages}), got {lateral_activate}'
            )
        if lateral and fusion_kernel % 2 != 1:
            raise ValueError(
                f'{type(self).__name__} fusion_kernel must be odd (centred padding), got '
                f'{fusion_kernel}'
            )
        depth = kwargs.get('depth', 50)
        arch = self.arch_settings.get(depth)
        lateral_inplanes = None
        if lateral and arch is not None:
            lateral_inplanes = [
                lateral_activate[i]
                * _lateral_channels(
                    _stage_inplanes(kwargs.get('base_channels', 64), arch[0].expansion, i),
                    lateral_inv,
                    channel_ratio,
                    lateral_infl,
                )
                for i in range(num_stages)
            ]
        super().__init__(lateral_inplanes=lateral_inplanes, **kwargs)
        self.lateral = lateral
        self.lateral_inv = lateral_inv
        self.lateral_norm = lateral_norm
        self.speed_ratio = speed_ratio
        self.channel_ratio = channel_ratio
        self.fusion_kernel = fusion_kernel
        self.lateral_infl = lateral_infl
        self.lateral_activate = lateral_activate
        self.lateral_connections = []
        if not lateral:
            return
        if lateral_activate[0]:
            self.conv1_lateral = self._make_lateral(self.base_channels)
        for i in range(self.num_stages - 1):  # the last stage feeds no lateral
            if lateral_activate[i + 1]:
                stage_out = self.base_channels * 2**i * self.block.expansion
                self.add_module(f'layer{i + 1}_lateral', self._make_lateral(stage_out))
                self.lateral_connections.append(f'layer{i + 1}_lateral')

    def _make_lateral(self, slow_channels: int) -> nn.Module:
        """Fast features at the point where the slow ones have ``slow_channels`` channels ->
        the channels to concatenate, at the slow frame rate."""
        kernel = (self.fusion_kernel, 1, 1)
        stride = (self.speed_ratio, 1, 1)
        padding = ((self.fusion_kernel - 1) // 2, 0, 0)
        if self.lateral_inv:
            channels = slow_channels * self.channel_ratio
            return DeConvModule(
                channels, channels // self.lateral_infl, kernel, stride, padding, bias=False
            )
        fast_channels = slow_channels // self.channel_ratio
        return ConvModule(
            fast_channels,
            fast_channels * self.lateral_infl,
            kernel,
            stride=stride,
            padding=padding,
            bias=False,
            conv_cfg=self.conv_cfg,
            norm_cfg=self.norm_cfg if self.lateral_norm else None,
            act_cfg=self.act_cfg if self.lateral_norm else None,
        )

    def init_weights(self) -> None:
        """:meth:`ResNet3d.init_weights`; the laterals get Kaiming init unless they come from a
        3D ``pretrained`` file (a 2D file has none: they are initialised before inflating)."""
        super().init_weights()
        if not self.pretrained:
            self._init_laterals()  # also the transposed convs, which are no nn.Conv3d

    def _init_modules_absent_in_2d(self) -> None:
        super()._init_modules_absent_in_2d()
        self._init_laterals()

    def _init_laterals(self) -> None:
        for name in ['conv1_lateral'] + self.lateral_connections:
            for m in getattr(self, name, nn.Identity()).modules():
                if isinstance(m, (nn.Conv3d, nn.ConvTranspose3d)):
                    kaiming_init(m)

    def _frozen_modules(self) -> list:
        """The stem and frozen stages, with the lateral that leaves each frozen stage."""
        frozen = super()._frozen_modules()
        for i in range(1, self.frozen_stages + 1):
            if hasattr(self, f'layer{i}_lateral'):
                frozen.append(getattr(self, f'layer{i}_lateral'))
        return frozen


def _stage_inplanes(base_channels: int, expansion: int, stage: int) -> int:
    """Channels entering ``stage`` of a pathway: the stem's, then the previous stage's output."""
    return base_channels if stage == 0 else base_channels * 2 ** (stage - 1) * expansion


def _lateral_channels(slow_channels: int, inv: bool, channel_ratio: int, infl: int) -> int:
    """Channels a lateral adds where the slow pathway has ``slow_channels``."""
    if inv:
        return slow_channels * channel_ratio // infl
    return slow_channels * infl // channel_ratio


# MMAction2 configs name the pathway class by this key (``slow_pathway=dict(type='resnet3d')``).
_PATHWAYS = {'resnet3d': ResNet3dPathway}


def _build_pathway(cfg: Union[Dict, ResNet3dPathway], which: str) -> ResNet3dPathway:
    if isinstance(cfg, ResNet3dPathway):
        return cfg
    cfg = dict(cfg)
    kind = cfg.pop('type', None)
    if kind not in _PATHWAYS:
        raise KeyError(
            f'ResNet3dSlowFast {which}: unknown pathway type {kind!r}; '
            f'available: {", ".join(_PATHWAYS)}'
        )
    return _PATHWAYS[kind](**cfg)


_SLOW_PATHWAY = dict(
    type='resnet3d',
    depth=50,
    pretrained=None,
    lateral=True,
    conv1_kernel=(1, 7, 7),
    conv1_stride_t=1,
    pool1_stride_t=1,
    inflate=(0, 0, 1, 1),
)
_FAST_PATHWAY = dict(
    type='resnet3d',
    depth=50,
    pretrained=None,
    lateral=False,
    base_channels=8,
    conv1_kernel=(5, 7, 7),
    conv1_stride_t=1,
    pool1_stride_t=1,
)


@MODELS.register_module()
class ResNet3dSlowFast(BaseModule):
    """SlowFast backbone: ``[N, C, T, H, W]`` clips -> ``(slow, fast)`` last-stage features.

    With the defaults and ``T = 32`` input frames, the slow pathway sees 4 frames (tau = 8) and
    the fast one 32 (tau / alpha = 1); for ``H = W = 224`` the outputs are
    ``[N, 2048, 4, 7, 7]`` and ``[N, 256, 32, 7, 7]``.

    Args:
        pretrained: Weights of the whole SlowFast backbone (``slow_path.*``, ``fast_path.*``),
            a path or URL; None lets each pathway initialise itself (its own ``pretrained``).
        resample_rate: tau, the slow pathway takes one input frame in ``resample_rate``.
        speed_ratio: alpha, the fast pathway takes ``speed_ratio`` times more frames.
        channel_ratio: beta inverse, set on a lateral slow pathway.
        slow_pathway: The slow :class:`ResNet3dPathway`, or its config
            (``type='resnet3d'`` + its arguments).
        fast_pathway: The fast one, likewise.
        init_cfg: mmengine initialisation config.
    """

    def __init__(
        self,
        pretrained: Optional[str] = None,
        resample_rate: int = 8,
        speed_ratio: int = 8,
        channel_ratio: int = 8,
        slow_pathway: Union[Dict, ResNet3dPathway] = _SLOW_PATHWAY,
        fast_pathway: Union[Dict, ResNet3dPathway] = _FAST_PATHWAY,
        init_cfg: Optional[Union[Dict, Sequence[Dict]]] = None,
    ):
        super().__init__(init_cfg=init_cfg)
        if pretrained is not None and not isinstance(pretrained, str):
            raise TypeError(
                f'ResNet3dSlowFast pretrained must be a string or None, got {pretrained!r}'
            )
        if speed_ratio < 1 or resample_rate < speed_ratio:
            raise ValueError(
                'ResNet3dSlowFast needs 1 <= speed_ratio <= resample_rate (the fast pathway '
                f'samples every resample_rate // speed_ratio frames), got resample_rate='
                f'{resample_rate}, speed_ratio={speed_ratio}'
            )
        self.pretrained = pretrained
        self.resample_rate = resample_rate
        self.speed_ratio = speed_ratio
        self.channel_ratio = channel_ratio
        if isinstance(slow_pathway, dict) and slow_pathway.get('lateral', False):
            # The laterals' stride and widths follow the backbone's alpha and beta.
            slow_pathway = dict(slow_pathway, speed_ratio=speed_ratio, channel_ratio=channel_ratio)
        self.slow_path = _build_pathway(slow_pathway, 'slow_pathway')
        self.fast_path = _build_pathway(fast_pathway, 'fast_pathway')

    def init_weights(self) -> None:
        """Load ``pretrained`` (the whole backbone) if set, else init each pathway."""
        if self.pretrained:
            from mmaction_ft.engine.weight_loading import load_pretrained

            load_pretrained(self, self.pretrained)
        else:
            self.fast_path.init_weights()
            self.slow_path.init_weights()
        self._is_init = True

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, torch.Tensor]:
        """``(slow, fast)`` features of ``x`` ``[N, C, T, H, W]``."""
        slow_path, fast_path = self.slow_path, self.fast_path
        x_slow = F.interpolate(x, mode='nearest', scale_factor=(1.0 / self.resample_rate, 1, 1))
        x_slow = slow_path.maxpool(slow_path.conv1(x_slow))  # [N, C_s, T / tau, H / 4, W / 4]
        fast_scale = 1.0 / (self.resample_rate // self.speed_ratio)
        x_fast = F.interpolate(x, mode='nearest', scale_factor=(fast_scale, 1, 1))
        x_fast = fast_path.maxpool(fast_path.conv1(x_fast))  # [N, C_f, T * alpha / tau, ...]
        if hasattr(slow_path, 'conv1_lateral'):
            x_slow = torch.cat((x_slow, slow_path.conv1_lateral(x_fast)), dim=1)
        for name in slow_path.res_layers:
            x_slow = getattr(slow_path, name)(x_slow)
            x_fast = getattr(fast_path, name)(x_fast)
            lateral = getattr(slow_path, f'{name}_lateral', None)
            if lateral is not None:
                x_slow = torch.cat((x_slow, lateral(x_fast)), dim=1)  # [N, C_s + C_lat, ...]
        return x_slow, x_fast
