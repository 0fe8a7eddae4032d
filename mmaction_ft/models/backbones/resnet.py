"""ResNet (He et al., CVPR 2016) for 2D recognizers, with MMAction2's parameter names.

Every conv is an mmcv ``ConvModule`` whose children are ``conv`` / ``bn``, so a state dict reads
``conv1.conv.weight``, ``layer1.0.conv2.bn.running_mean``, ``layer2.0.downsample.conv.weight``:
the layout of MMAction2 checkpoints. ``pretrained`` loads backbone-only weights, either
torchvision's layout (``torchvision://resnet50``, mapped) or ours.
"""

import re
from collections import OrderedDict
from typing import Dict, Mapping, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.utils.checkpoint as cp
from mmcv.cnn import ConvModule, build_activation_layer
from mmengine.model import BaseModule, constant_init, kaiming_init
from torch.nn.modules.batchnorm import _BatchNorm

from mmaction_ft.registry import MODELS


def add_identity(out: torch.Tensor, identity: torch.Tensor) -> torch.Tensor:
    """``out + identity`` for a residual block, added in place when the dtypes agree.

    ``out`` is the branch's last conv or norm output, whose backward does not read it, so the
    sum may overwrite it: one feature map less per block, and 3-4 % off a TSN-R50 training
    step on a CPU (float32 and bfloat16 alike). Mixed dtypes (bfloat16 next to float32 under
    autocast) keep the out-of-place sum and its type promotion.
    """
    if out.dtype == identity.dtype and out.shape == identity.shape:
        return out.add_(identity)
    return out + identity


class BasicBlock(nn.Module):
    """Two 3x3 convs with a residual connection (ResNet-18/34).

    Args:
        inplanes: Input channels.
        planes: Output channels.
        stride: Stride of the first conv.
        dilation: Dilation of the first conv.
        downsample: Projection of the identity when the shape changes.
        style: Unused here (both styles put the stride on the first 3x3 conv).
        conv_cfg, norm_cfg, act_cfg: Layer configs of the ``ConvModule`` s.
        with_cp: Recompute the block in backward to save memory.
    """

    expansion = 1

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        dilation: int = 1,
        downsample: Optional[nn.Module] = None,
        style: str = 'pytorch',
        conv_cfg: Dict = dict(type='Conv'),  # noqa: B006 (never mutated)
        norm_cfg: Dict = dict(type='BN2d', requires_grad=True),  # noqa: B006
        act_cfg: Dict = dict(type='ReLU', inplace=True),  # noqa: B006
        with_cp: bool = False,
    ):
        super().__init__()
        common = dict(bias=False, conv_cfg=conv_cfg, norm_cfg=norm_cfg)
        self.conv1 = ConvModule(
            inplanes,
            planes,
            3,
            stride,
            padding=dilation,
            dilation=dilation,
            act_cfg=act_cfg,
            **common,
        )
        self.conv2 = ConvModule(planes, planes, 3, 1, padding=1, act_cfg=None, **common)
        self.relu = build_activation_layer(act_cfg)  # after the residual add
        self.downsample = downsample
        self.with_cp = with_cp

    def _residual(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        return add_identity(self.conv2(self.conv1(x)), identity)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.with_cp and x.requires_grad:
            out = cp.checkpoint(self._residual, x, use_reentrant=False)
        else:
            out = self._residual(x)
        return self.relu(out)


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3, 1x1 expand (x4) with a residual connection (ResNet-50/101/152).

    Args:
        inplanes: Input channels.
        planes: Channels of the 3x3 conv; the block outputs ``planes * 4``.
        stride: Spatial stride, on the 3x3 conv for ``style='pytorch'`` and on the first 1x1
            conv for ``style='caffe'``.
        dilation: Dilation of the 3x3 conv.
        downsample: Projection of the identity when the shape changes.
        style: ``'pytorch'`` or ``'caffe'``.
        conv_cfg, norm_cfg, act_cfg: Layer configs of the ``ConvModule`` s.
        with_cp: Recompute the block in backward to save memory.
    """

    expansion = 4

    def __init__(
        self,
        inplanes: int,
        planes: int,
        stride: int = 1,
        dilation: int = 1,
        downsample: Optional[nn.Module] = None,
        style: str = 'pytorch',
        conv_cfg: Dict = dict(type='Conv'),  # noqa: B006 (never mutated)
        norm_cfg: Dict = dict(type='BN2d', requires_grad=True),  # noqa: B006
        act_cfg: Dict = dict(type='ReLU', inplace=True),  # noqa: B006
        with_cp: bool = False,
    ):
        super().__init__()
        conv1_stride, conv2_stride = (1, stride) if style == 'pytorch' else (stride, 1)
        common = dict(bias=False, conv_cfg=conv_cfg, norm_cfg=norm_cfg)
        self.conv1 = ConvModule(inplanes, planes, 1, conv1_stride, act_cfg=act_cfg, **common)
        self.conv2 = ConvModule(
            planes,
            planes,
            3,
            conv2_stride,
            padding=dilation,
            dilation=dilation,
            act_cfg=act_cfg,
            **common,
        )
        self.conv3 = ConvModule(planes, planes * self.expansion, 1, act_cfg=None, **common)
        self.relu = build_activation_layer(act_cfg)  # after the residual add
        self.downsample = downsample
        self.with_cp = with_cp

    def _residual(self, x: torch.Tensor) -> torch.Tensor:
        identity = x if self.downsample is None else self.downsample(x)
        return add_identity(self.conv3(self.conv2(self.conv1(x))), identity)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.with_cp and x.requires_grad:
            out = cp.checkpoint(self._residual, x, use_reentrant=False)
        else:
            out = self._residual(x)
        return self.relu(out)


@MODELS.register_module()
class ResNet(BaseModule):
    """ResNet backbone: ``[N, C, H, W]`` images -> stage feature maps.

    Args:
        depth: 18, 34, 50, 101 or 152.
        pretrained: Backbone-only weights to load in ``init_weights``: ``'torchvision://NAME'``,
            a local path or an http(s) URL; None initialises from scratch.
        torchvision_pretrain: Whether ``pretrained`` is in torchvision's layout (``conv1``,
            ``bn1``, ``layer1.0.bn1``, ``downsample.0`` ...); if False it is in ours (optionally
            prefixed ``backbone.``). Either way every backbone tensor must be found with the
            right shape.
        in_channels: Input channels (3 for RGB).
        num_stages: Number of residual stages, 1 to 4.
        out_indices: Stages whose output is returned (0-based).
        strides: Stride of the first block of each stage.
        dilations: Dilation of each stage.
        style: ``'pytorch'`` (stride on the 3x3 conv) or ``'caffe'`` (on the first 1x1).
        frozen_stages: Freeze the stem and stages ``1..frozen_stages`` (BN in eval mode,
            ``requires_grad=False``); -1 freezes nothing, 0 only the stem.
        conv_cfg: Conv layer config.
        norm_cfg: Norm layer config.
        act_cfg: Activation config.
        norm_eval: Keep every BN in eval mode while training (frozen running stats).
        partial_bn: Freeze every BN but the first (``conv1.bn``), as TSN does.
        with_cp: Gradient checkpointing in the residual blocks.
        init_cfg: mmengine initialisation config, used when ``pretrained`` is None.
    """

    arch_settings = {
        18: (BasicBlock, (2, 2, 2, 2)),
        34: (BasicBlock, (3, 4, 6, 3)),
        50: (Bottleneck, (3, 4, 6, 3)),
        101: (Bottleneck, (3, 4, 23, 3)),
        152: (Bottleneck, (3, 8, 36, 3)),
    }

    def __init__(
        self,
        depth: int,
        pretrained: Optional[str] = None,
        torchvision_pretrain: bool = True,
        in_channels: int = 3,
        num_stages: int = 4,
        out_indices: Sequence[int] = (3,),
        strides: Sequence[int] = (1, 2, 2, 2),
        dilations: Sequence[int] = (1, 1, 1, 1),
        style: str = 'pytorch',
        frozen_stages: int = -1,
        conv_cfg: Dict = dict(type='Conv'),  # noqa: B006 (never mutated)
        norm_cfg: Dict = dict(type='BN2d', requires_grad=True),  # noqa: B006
        act_cfg: Dict = dict(type='ReLU', inplace=True),  # noqa: B006
        norm_eval: bool = False,
        partial_bn: bool = False,
        with_cp: bool = False,
        init_cfg: Optional[Union[Dict, Sequence[Dict]]] = None,
    ):
        super().__init__(init_cfg=init_cfg)
        if depth not in self.arch_settings:
            raise KeyError(f'ResNet depth must be one of {sorted(self.arch_settings)}, got {depth}')
        if not 1 <= num_stages <= 4:
            raise ValueError(f'ResNet num_stages must be 1 to 4, got {num_stages}')
        out_indices = tuple(out_indices)
        if not out_indices or any(not 0 <= i < num_stages for i in out_indices):
            raise ValueError(f'ResNet out_indices must be in [0, {num_stages}), got {out_indices}')
        if len(strides) < num_stages or len(dilations) < num_stages:
            raise ValueError(
                f'ResNet needs one stride and one dilation per stage ({num_stages}), got '
                f'strides={tuple(strides)}, dilations={tuple(dilations)}'
            )
        if style not in ('pytorch', 'caffe'):
            raise ValueError(f"ResNet style must be 'pytorch' or 'caffe', got {style!r}")
        if not -1 <= frozen_stages <= num_stages:
            raise ValueError(
                f'ResNet frozen_stages must be -1 to {num_stages}, got {frozen_stages}'
            )
        if pretrained is not None and not isinstance(pretrained, str):
            raise TypeError(
                "ResNet pretrained must be a path, URL or 'torchvision://NAME' string, or None "
                f'for no pretrained weights; got {pretrained!r} ({type(pretrained).__name__})'
            )
        self.depth = depth
        self.pretrained = pretrained
        self.torchvision_pretrain = torchvision_pretrain
        self.in_channels = in_channels
        self.num_stages = num_stages
        self.out_indices = out_indices
        self.strides = tuple(strides)
        self.dilations = tuple(dilations)
        self.style = style
        self.frozen_stages = frozen_stages
        self.norm_eval = norm_eval
        self.partial_bn = partial_bn
        self.with_cp = with_cp

        block, stage_blocks = self.arch_settings[depth]
        self.conv1 = ConvModule(
            in_channels,
            64,
            7,
            stride=2,
            padding=3,
            bias=False,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            act_cfg=act_cfg,
        )
        self.maxpool = nn.MaxPool2d(kernel_size=3, stride=2, padding=1)
        self.res_layers = []
        inplanes = 64
        for i in range(num_stages):
            planes = 64 * 2**i
            layer = _make_res_layer(
                block,
                inplanes,
                planes,
                stage_blocks[i],
                self.strides[i],
                self.dilations[i],
                style=style,
                conv_cfg=conv_cfg,
                norm_cfg=norm_cfg,
                act_cfg=act_cfg,
                with_cp=with_cp,
            )
            inplanes = planes * block.expansion
            self.add_module(f'layer{i + 1}', layer)
            self.res_layers.append(f'layer{i + 1}')
        self.feat_dim = inplanes

    def init_weights(self) -> None:
        """Load ``pretrained`` if set, else Kaiming convs and unit BN (or ``init_cfg``)."""
        if self.pretrained:
            self.load_pretrained(self.pretrained, torchvision_layout=self.torchvision_pretrain)
        elif self.init_cfg:
            super().init_weights()
        else:
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    kaiming_init(m)
                elif isinstance(m, _BatchNorm):
                    constant_init(m, 1)
        self._is_init = True

    def load_pretrained(self, source: str, torchvision_layout: bool = True) -> None:
        """Copy backbone weights from ``source`` into this module, every tensor or an error.

        Args:
            source: ``'torchvision://NAME'``, a local path or an http(s) URL.
            torchvision_layout: Whether the file uses torchvision's key names.

        Raises:
            CheckpointMismatchError: Listing every backbone tensor missing in the file, and
                every shape mismatch.
        """
        from mmaction_ft.engine.weight_loading import load_pretrained

        if torchvision_layout:
            load_pretrained(
                self,
                source,
                convert=torchvision_to_mmaction,
                file_key=lambda key: _rename(key, _OURS_TO_TORCHVISION),
                hint='is the file a ResNet in torchvision layout? (try torchvision_pretrain=False)',
            )
        else:
            load_pretrained(
                self,
                source,
                hint='is the file a ResNet in MMAction2 layout? (try torchvision_pretrain=True)',
            )

    def forward(self, x: torch.Tensor) -> Union[torch.Tensor, Tuple[torch.Tensor, ...]]:
        """Features of ``x`` ``[N, C, H, W]``: the ``out_indices`` stage output(s)."""
        x = self.maxpool(self.conv1(x))  # [N, 64, H / 4, W / 4]
        outs = []
        for i, name in enumerate(self.res_layers):
            x = getattr(self, name)(x)
            if i in self.out_indices:
                outs.append(x)
        return outs[0] if len(outs) == 1 else tuple(outs)

    def train(self, mode: bool = True) -> 'ResNet':
        """Switch mode, keeping frozen stages, ``norm_eval`` and ``partial_bn`` BN in eval."""
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, _BatchNorm):
                    m.eval()
        if mode and self.partial_bn:
            self._partial_bn()
        return self

    def _freeze_stages(self) -> None:
        if self.frozen_stages < 0:
            return
        frozen = [self.conv1] + [
            getattr(self, f'layer{i}') for i in range(1, self.frozen_stages + 1)
        ]
        for module in frozen:
            module.eval()
            for param in module.parameters():
                param.requires_grad = False

    def _partial_bn(self) -> None:
        # TSN (Wang et al. 2016, sec. 3.2): only the first BN adapts to the new data.
        bns = [m for m in self.modules() if isinstance(m, _BatchNorm)]
        for m in bns[1:]:
            m.eval()
            for param in m.parameters():
                param.requires_grad = False


def _make_res_layer(
    block: type,
    inplanes: int,
    planes: int,
    num_blocks: int,
    stride: int,
    dilation: int,
    style: str,
    conv_cfg: Dict,
    norm_cfg: Dict,
    act_cfg: Dict,
    with_cp: bool,
) -> nn.Sequential:
    """One stage: ``num_blocks`` blocks, the first one strided and projecting the identity."""
    downsample = None
    if stride != 1 or inplanes != planes * block.expansion:
        downsample = ConvModule(
            inplanes,
            planes * block.expansion,
            1,
            stride=stride,
            bias=False,
            conv_cfg=conv_cfg,
            norm_cfg=norm_cfg,
            act_cfg=None,
        )
    common = dict(
        style=style, conv_cfg=conv_cfg, norm_cfg=norm_cfg, act_cfg=act_cfg, with_cp=with_cp
    )
    layers = [block(inplanes, planes, stride, dilation, downsample, **common)]
    inplanes = planes * block.expansion
    layers += [block(inplanes, planes, 1, dilation, **common) for _ in range(1, num_blocks)]
    return nn.Sequential(*layers)


_TORCHVISION_TO_OURS = (
    (r'^conv1\.', 'conv1.conv.'),
    (r'^bn1\.', 'conv1.bn.'),
    (r'^(layer\d+\.\d+)\.conv(\d+)\.', r'\1.conv\2.conv.'),
    (r'^(layer\d+\.\d+)\.bn(\d+)\.', r'\1.conv\2.bn.'),
    (r'^(layer\d+\.\d+\.downsample)\.0\.', r'\1.conv.'),
    (r'^(layer\d+\.\d+\.downsample)\.1\.', r'\1.bn.'),
)
_OURS_TO_TORCHVISION = (
    (r'^conv1\.conv\.', 'conv1.'),
    (r'^conv1\.bn\.', 'bn1.'),
    (r'^(layer\d+\.\d+)\.conv(\d+)\.conv\.', r'\1.conv\2.'),
    (r'^(layer\d+\.\d+)\.conv(\d+)\.bn\.', r'\1.bn\2.'),
    (r'^(layer\d+\.\d+\.downsample)\.conv\.', r'\1.0.'),
    (r'^(layer\d+\.\d+\.downsample)\.bn\.', r'\1.1.'),
)


def _rename(key: str, rules: Sequence[Tuple[str, str]]) -> str:
    for pattern, replacement in rules:
        new_key, count = re.subn(pattern, replacement, key)
        if count:
            return new_key
    return key


def _torchvision_to_ours(key: str) -> str:
    """``layer1.0.bn2.weight`` -> ``layer1.0.conv2.bn.weight``; ``fc.*`` stays as is."""
    return _rename(key, _TORCHVISION_TO_OURS)


def torchvision_to_mmaction(
    state_dict: Mapping[str, torch.Tensor], module: Optional[nn.Module] = None
) -> 'OrderedDict[str, torch.Tensor]':
    """A torchvision ResNet state dict with MMAction2's key names (``bn1`` -> ``conv1.bn``...).

    Keys outside torchvision's ResNet layout (``fc.*``) keep their names; a file already in
    MMAction2's layout must not go through it (``conv1.conv.weight`` would become
    ``conv1.conv.conv.weight``). ``module`` is unused: it is part of the converter signature of
    :func:`mmaction_ft.engine.weight_loading.load_pretrained`.
    """
    return OrderedDict((_torchvision_to_ours(key), value) for key, value in state_dict.items())
