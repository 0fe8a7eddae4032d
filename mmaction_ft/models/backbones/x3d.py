"""X3D (Feichtenhofer, CVPR 2020): a 3D network grown from a tiny base along width and depth.

Each block is a 1x1x1 expand, a 3x3x3 channel-wise (depthwise) conv, an optional
squeeze-excitation and a 1x1x1 project, with Swish in the middle. ``gamma_w`` widens every stage,
``gamma_b`` the inner width of the blocks and ``gamma_d`` deepens them; X3D-M is
``gamma_w=1, gamma_b=2.25, gamma_d=2.2``. Keys follow MMAction2 (``conv1_s.conv.weight``,
``layer1.0.conv2.bn.weight``, ``layer1.0.se_module.fc1.weight``, ``conv5.bn.running_var``).
"""

import math
from typing import Dict, Optional, Sequence, Union

import torch
import torch.nn as nn
import torch.utils.checkpoint as cp
from mmcv.cnn import ConvModule, build_activation_layer
from mmengine.model import BaseModule, constant_init, kaiming_init
from torch.nn.modules.batchnorm import _BatchNorm

from mmaction_ft.registry import MODELS

from .resnet import add_identity


def _round_width(width: float, multiplier: float, min_width: int = 8, divisor: int = 8) -> int:
    """``width * multiplier`` rounded to a multiple of ``divisor``, never below ``min_width``
    nor below 90% of the exact value (the rounding of the X3D and EfficientNet reference code)."""
    width *= multiplier
    rounded = max(min_width, int(width + divisor / 2) // divisor * divisor)
    if rounded < 0.9 * width:
        rounded += divisor
    return int(rounded)


class SEModule(nn.Module):
    """Squeeze-excitation (Hu et al., CVPR 2018): rescale channels by a gate from their mean.

    Args:
        channels: Input and output channels.
        reduction: Width of the gate's hidden layer relative to ``channels``.
    """

    def __init__(self, channels: int, reduction: float):
        super().__init__()
        self.avg_pool = nn.AdaptiveAvgPool3d(1)
        self.bottleneck = _round_width(channels, reduction)
        self.fc1 = nn.Conv3d(channels, self.bottleneck, kernel_size=1)
        self.relu = nn.ReLU()
        self.fc2 = nn.Conv3d(self.bottleneck, channels, kernel_size=1)
        self.sigmoid = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        gate = self.sigmoid(self.fc2(self.relu(self.fc1(self.avg_pool(x)))))  # [N, C, 1, 1, 1]
        return x * gate


class BlockX3D(nn.Module):
    """X3D residual block: 1x1x1 expand, 3x3x3 depthwise (+ SE), Swish, 1x1x1 project.

    Args:
        inplanes: Input channels.
        planes: Inner (expanded) channels.
        outplanes: Output channels.
        spatial_stride: Spatial stride of the depthwise conv.
        downsample: Projection of the identity when the shape changes.
        se_ratio: Squeeze-excitation reduction after the depthwise conv; None for none.
        use_swish: Swish after the depthwise conv; False uses ``act_cfg`` there instead.
        conv_cfg, norm_cfg, act_cfg: Layer configs of the ``ConvModule`` s.
        with_cp: Recompute the block in backward to save memory.
    """

    def __init__(
        self,
        inplanes: int,
        planes: int,
        outplanes: int,
        spatial_stride: int = 1,
        downsample: Optional[nn.Module] = None,
        se_ratio: Optional[float] = None,
        use_swish: bool = True,
        conv_cfg: Dict = dict(type='Conv3d'),  # noqa: B006 (never mutated)
        norm_cfg: Dict = dict(type='BN3d'),  # noqa: B006
        act_cfg: Dict = dict(type='ReLU'),  # noqa: B006
        with_cp: bool = False,
    ):
        super().__init__()
        # Attribute order gives MMAction2's state dict order (downsample first, SE after conv3).
        self.downsample = downsample
        common = dict(bias=False, conv_cfg=conv_cfg, norm_cfg=norm_cfg)
        self.conv1 = ConvModule(inplanes, planes, 1, act_cfg=act_cfg, **common)
        self.conv2 = ConvModule(
            planes,
            planes,
            3,
            stride=(1, spatial_stride, spatial_stride),
            padding=1,
            groups=planes,  # channel-wise
            act_cfg=None,
            **common,
        )
        self.swish = build_activation_layer(dict(type='Swish') if use_swish else act_cfg)
        self.conv3 = ConvModule(planes, outplanes, 1, act_cfg=None, **common)
        self.se_module = SEModule(planes, se_ratio) if se_ratio is not None else None
        self.relu = build_activation_layer(act_cfg)  # after the residual add
        self.with_cp = with_cp

    def _residual(self, x: torch.Tensor) -> torch.Tensor:
        out = self.conv2(self.conv1(x))
        if self.se_module is not None:
            out = self.se_module(out)
        out = self.conv3(self.swish(out))
        identity = x if self.downsample is None else self.downsample(x)
        return add_identity(out, identity)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.with_cp and x.requires_grad:
            out = cp.checkpoint(self._residual, x, use_reentrant=False)
        else:
            out = self._residual(x)
        return self.relu(out)


@MODELS.register_module()
class X3D(BaseModule):
    """X3D backbone: ``[N, C, T, H, W]`` clips -> ``[N, feat_dim, T, H / 32, W / 32]``.

    The temporal size is kept throughout; the stem strides 2 in space and each stage by its
    ``spatial_strides``.

    Args:
        gamma_w: Width multiplier of every stage (base width 24).
        gamma_b: Inner width of the blocks, and of the final 1x1x1 conv, relative to the
            stage width.
        gamma_d: Depth multiplier of the stages (base depths 1, 2, 5, 3).
        pretrained: Backbone-only weights in MMAction2's layout to load in ``init_weights``
            (a local path or an http(s) URL); None initialises from scratch.
        in_channels: Input channels (3 for RGB).
        num_stages: Number of residual stages, 1 to 4.
        spatial_strides: Spatial stride of the first block of each stage.
        frozen_stages: Freeze the stem and stages ``1..frozen_stages`` (BN in eval mode,
            ``requires_grad=False``); -1 freezes nothing, 0 only the stem.
        se_style: ``'half'`` puts squeeze-excitation in every other block (the 1st, 3rd ...),
            ``'all'`` in every block.
        se_ratio: Squeeze-excitation reduction; None for no squeeze-excitation.
        use_swish: Swish after the depthwise convs (the paper's choice); False uses ``act_cfg``
            there. MMAction2 1.2.0 ignores this option and always uses Swish; configs never set
            it to False.
        conv_cfg: Conv layer config.
        norm_cfg: Norm layer config.
        act_cfg: Activation config.
        norm_eval: Keep every BN in eval mode while training (frozen running stats).
        with_cp: Gradient checkpointing in the residual blocks.
        zero_init_residual: Start each block as the identity (last BN of the branch at zero)
            when initialising from scratch.
        init_cfg: mmengine initialisation config, used when ``pretrained`` is None.
    """

    base_channels = 24
    base_stage_blocks = (1, 2, 5, 3)

    def __init__(
        self,
        gamma_w: float = 1.0,
        gamma_b: float = 1.0,
        gamma_d: float = 1.0,
        pretrained: Optional[str] = None,
        in_channels: int = 3,
        num_stages: int = 4,
        spatial_strides: Sequence[int] = (2, 2, 2, 2),
        frozen_stages: int = -1,
        se_style: str = 'half',
        se_ratio: Optional[float] = 1 / 16,
        use_swish: bool = True,
        conv_cfg: Dict = dict(type='Conv3d'),  # noqa: B006 (never mutated)
        norm_cfg: Dict = dict(type='BN3d', requires_grad=True),  # noqa: B006
        act_cfg: Dict = dict(type='ReLU', inplace=True),  # noqa: B006
        norm_eval: bool = False,
        with_cp: bool = False,
        zero_init_residual: bool = True,
        init_cfg: Optional[Union[Dict, Sequence[Dict]]] = None,
    ):
        super().__init__(init_cfg=init_cfg)
        for name, gamma in (('gamma_w', gamma_w), ('gamma_b', gamma_b), ('gamma_d', gamma_d)):
            if gamma <= 0:
                raise ValueError(f'X3D {name} must be positive, got {gamma}')
        if not 1 <= num_stages <= 4:
            raise ValueError(f'X3D num_stages must be 1 to 4, got {num_stages}')
        if len(spatial_strides) != num_stages:
            raise ValueError(
                f'X3D needs one spatial stride per stage ({num_stages}), got '
                f'spatial_strides={tuple(spatial_strides)}'
            )
        if not -1 <= frozen_stages <= num_stages:
            raise ValueError(f'X3D frozen_stages must be -1 to {num_stages}, got {frozen_stages}')
        if se_style not in ('all', 'half'):
            raise ValueError(f"X3D se_style must be 'all' or 'half', got {se_style!r}")
        if se_ratio is not None and se_ratio <= 0:
            raise ValueError(f'X3D se_ratio must be positive or None, got {se_ratio}')
        self.gamma_w = gamma_w
        self.gamma_b = gamma_b
        self.gamma_d = gamma_d
        self.pretrained = pretrained
        self.in_channels = in_channels
        self.num_stages = num_stages
        self.spatial_strides = tuple(spatial_strides)
        self.frozen_stages = frozen_stages
        self.se_style = se_style
        self.se_ratio = se_ratio
        self.use_swish = use_swish
        self.norm_eval = norm_eval
        self.with_cp = with_cp
        self.zero_init_residual = zero_init_residual

        width = _round_width(self.base_channels, gamma_w)
        self.stage_blocks = [math.ceil(gamma_d * n) for n in self.base_stage_blocks][:num_stages]
        common = dict(bias=False, conv_cfg=conv_cfg)
        # Stem: a spatial 3x3 conv, then a channel-wise temporal 5x1x1 conv.
        self.conv1_s = ConvModule(
            in_channels,
            width,
            (1, 3, 3),
            stride=(1, 2, 2),
            padding=(0, 1, 1),
            norm_cfg=None,
            act_cfg=None,
            **common,
        )
        self.conv1_t = ConvModule(
            width,
            width,
            (5, 1, 1),
            padding=(2, 0, 0),
            groups=width,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg,
            **common,
        )
        self.res_layers = []
        inplanes = width
        for i, num_blocks in enumerate(self.stage_blocks):
            outplanes = width * 2**i
            layer = _make_x3d_layer(
                inplanes,
                int(outplanes * gamma_b),
                outplanes,
                num_blocks,
                self.spatial_strides[i],
                se_style=se_style,
                se_ratio=se_ratio,
                use_swish=use_swish,
                conv_cfg=conv_cfg,
                norm_cfg=norm_cfg,
                act_cfg=act_cfg,
                with_cp=with_cp,
            )
            inplanes = outplanes
            self.add_module(f'layer{i + 1}', layer)
            self.res_layers.append(f'layer{i + 1}')
        self.feat_dim = int(inplanes * gamma_b)
        self.conv5 = ConvModule(
            inplanes, self.feat_dim, 1, norm_cfg=norm_cfg, act_cfg=act_cfg, **common
        )

    def init_weights(self) -> None:
        """Load ``pretrained`` if set, else Kaiming convs and unit BN (or ``init_cfg``)."""
        if self.pretrained:
            from mmaction_ft.engine.weight_loading import load_pretrained

            load_pretrained(self, self.pretrained)
        elif self.init_cfg:
            super().init_weights()
        else:
            for m in self.modules():
                if isinstance(m, nn.Conv3d):
                    kaiming_init(m)
                elif isinstance(m, _BatchNorm):
                    constant_init(m, 1)
            if self.zero_init_residual:
                for m in self.modules():
                    if isinstance(m, BlockX3D):
                        constant_init(m.conv3.bn, 0)
        self._is_init = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Features of ``x`` ``[N, C, T, H, W]``."""
        x = self.conv1_t(self.conv1_s(x))  # [N, width, T, H / 2, W / 2]
        for name in self.res_layers:
            x = getattr(self, name)(x)
        return self.conv5(x)  # [N, feat_dim, T, H / 32, W / 32] with the default strides

    def train(self, mode: bool = True) -> 'X3D':
        """Switch mode, keeping frozen stages and ``norm_eval`` BN in eval."""
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, _BatchNorm):
                    m.eval()
        return self

    def _freeze_stages(self) -> None:
        if self.frozen_stages < 0:
            return
        frozen = [self.conv1_s, self.conv1_t] + [
            getattr(self, f'layer{i}') for i in range(1, self.frozen_stages + 1)
        ]
        for module in frozen:
            module.eval()
            for param in module.parameters():
                param.requires_grad = False


def _make_x3d_layer(
    inplanes: int,
    planes: int,
    outplanes: int,
    num_blocks: int,
    spatial_stride: int,
    se_style: str,
    se_ratio: Optional[float],
    use_swish: bool,
    conv_cfg: Dict,
    norm_cfg: Dict,
    act_cfg: Dict,
    with_cp: bool,
) -> nn.Sequential:
    """One stage: the first block strided and projecting the identity, SE per ``se_style``."""
    downsample = None
    if spatial_stride != 1 or inplanes != outplanes:
        downsample = ConvModule(
            inplanes,
            outplanes,
            1,
            stride=(1, spatial_stride, spatial_stride),
            bias=False,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            act_cfg=None,
        )
    common = dict(
        use_swish=use_swish, conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg, with_cp=with_cp
    )
    layers = []
    for i in range(num_blocks):
        with_se = se_style == 'all' or i % 2 == 0
        layers.append(
            BlockX3D(
                inplanes if i == 0 else outplanes,
                planes,
                outplanes,
                spatial_stride=spatial_stride if i == 0 else 1,
                downsample=downsample if i == 0 else None,
                se_ratio=se_ratio if with_se else None,
                **common,
            )
        )
    return nn.Sequential(*layers)
