"""3D ResNet (I3D: Carreira & Zisserman, CVPR 2017) for 3D recognizers, in MMAction2's layout.

Clips ``[N, C, T, H, W]`` go through a ResNet whose convs may be "inflated" along time: a 2D
kxk kernel becomes 3xkxk (``inflate_style='3x3x3'``) or gains a separate 3x1x1 conv
(``'3x1x1'``), per block as ``inflate`` says. Every conv is an mmcv ``ConvModule`` with
children ``conv`` / ``bn``, so the state dict reads like MMAction2's: ``conv1.conv.weight``,
``layer2.1.conv2.bn.running_var``, ``layer3.0.downsample.conv.weight``,
``layer3.0.non_local_block.g.0.conv.weight``.

Subclasses choose their block through ``arch_settings`` and their conv through ``conv_cfg``;
extra keyword arguments go to every block. Loading lives in
:func:`mmaction_ft.engine.weight_loading.load_pretrained`; this file only provides the pure
2D -> 3D converter :func:`inflate_2d_state_dict`.

Where MMAction2 1.2.0 would fail or silently undo something, this one does not (key layout and
outputs are unchanged for every config MMAction2 builds): the scratch init leaves the non-local
blocks' zero output init alone, a temporal stride alone also gets an identity projection, and
per-stage sequences may be longer than ``num_stages`` (PoseC3D's 3 stages with 4-stage defaults).
"""

import logging
from typing import Dict, Mapping, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.logging import print_log
from mmengine.model import BaseModule, constant_init, kaiming_init
from torch.nn.modules.batchnorm import _BatchNorm

from mmaction_ft.registry import MODELS

from .non_local import NonLocal3d
from .resnet import _torchvision_to_ours
from .resnet3d_blocks import BasicBlock3d, Bottleneck3d

_INFLATE_STYLES = ('3x1x1', '3x3x3')


def _per_block(value: Union[int, Sequence[int]], num_blocks: int, name: str, stage: int):
    """A stage's ``inflate`` / ``non_local`` flag (one for all blocks, or one per block)."""
    if isinstance(value, int):
        return (value,) * num_blocks
    value = tuple(value)
    if len(value) != num_blocks:
        raise ValueError(
            f'ResNet3d {name}[{stage}] needs one flag per block of stage {stage} '
            f'({num_blocks} blocks), got {value}'
        )
    return value


def _per_stage(value, num_stages: int, name: str) -> tuple:
    """One ``inflate`` / ``non_local`` entry per stage; extra entries (a 4-stage default of a
    3-stage net) are ignored, as in MMAction2."""
    if isinstance(value, int):
        return (value,) * num_stages
    value = tuple(value)
    if len(value) < num_stages:
        raise ValueError(f'ResNet3d {name} needs one entry per stage ({num_stages}), got {value}')
    return value[:num_stages]


@MODELS.register_module()
class ResNet3d(BaseModule):
    """3D ResNet backbone: ``[N, C, T, H, W]`` clips -> stage feature maps.

    Args:
        depth: 18, 34, 50, 101 or 152.
        pretrained: Backbone-only weights loaded by ``init_weights``: a path, an http(s) URL
            or ``'torchvision://NAME'``; None initialises from scratch.
        stage_blocks: Blocks per stage, overriding the ones of ``depth`` (PoseC3D uses
            ``(4, 6, 3)``).
        pretrained2d: Whether ``pretrained`` holds a 2D ResNet (torchvision's or MMAction2's
            layout) to inflate with :func:`inflate_2d_state_dict`; if False it holds this 3D
            backbone's own tensors.
        in_channels: Input channels (3 for RGB, 17 for PoseC3D keypoint heatmaps).
        num_stages: Number of residual stages, 1 to 4.
        base_channels: Output channels of the stem; stage ``i`` has ``base_channels * 2**i``
            (times the block expansion).
        out_indices: Stages whose output is returned (0-based).
        spatial_strides, temporal_strides, dilations: Per stage, for its first block.
        conv1_kernel: Stem kernel ``(t, h, w)``, padded to keep the centre.
        conv1_stride_s, conv1_stride_t: Stem strides.
        pool1_stride_s, pool1_stride_t: Strides of the 1x3x3 max pool after the stem.
        with_pool1: Whether to have that max pool.
        with_pool2: Halve the time after stage 1 with a 2x1x1 max pool (I3D).
        style: ``'pytorch'`` (stride on the 3x3 conv) or ``'caffe'`` (on the first 1x1).
        frozen_stages: Freeze the stem and stages ``1..frozen_stages`` (BN in eval mode,
            ``requires_grad=False``); -1 freezes nothing, 0 only the stem.
        inflate: Temporal kernels on (1) or off (0), per stage or per block of each stage.
        inflate_style: ``'3x1x1'`` or ``'3x3x3'`` (see :class:`Bottleneck3d`).
        conv_cfg: Conv layer config (``Conv3d``; subclasses use e.g. ``Conv2plus1d``).
        norm_cfg: Norm layer config.
        act_cfg: Activation config.
        norm_eval: Keep every BN in eval mode while training (frozen running stats).
        with_cp: Gradient checkpointing in the residual blocks.
        non_local: Non-local block after a residual block (1) or not (0), per stage or per
            block of each stage.
        non_local_cfg: Keyword arguments of :class:`NonLocal3d`.
        zero_init_residual: From scratch, start the last BN of every residual branch at 0,
            so that every block starts as the identity (Goyal et al., 2017).
        lateral_inplanes: Extra input channels of each stage, concatenated by the lateral
            connections of a SlowFast pathway; set by :class:`ResNet3dPathway`.
        init_cfg: mmengine initialisation config, used when ``pretrained`` is None.
        **block_kwargs: Passed to every block (for subclasses' blocks).
    """

    arch_settings = {
        18: (BasicBlock3d, (2, 2, 2, 2)),
        34: (BasicBlock3d, (3, 4, 6, 3)),
        50: (Bottleneck3d, (3, 4, 6, 3)),
        101: (Bottleneck3d, (3, 4, 23, 3)),
        152: (Bottleneck3d, (3, 8, 36, 3)),
    }

    def __init__(
        self,
        depth: int = 50,
        pretrained: Optional[str] = None,
        stage_blocks: Optional[Sequence[int]] = None,
        pretrained2d: bool = True,
        in_channels: int = 3,
        num_stages: int = 4,
        base_channels: int = 64,
        out_indices: Sequence[int] = (3,),
        spatial_strides: Sequence[int] = (1, 2, 2, 2),
        temporal_strides: Sequence[int] = (1, 1, 1, 1),
        dilations: Sequence[int] = (1, 1, 1, 1),
        conv1_kernel: Sequence[int] = (3, 7, 7),
        conv1_stride_s: int = 2,
        conv1_stride_t: int = 1,
        pool1_stride_s: int = 2,
        pool1_stride_t: int = 1,
        with_pool1: bool = True,
        with_pool2: bool = True,
        style: str = 'pytorch',
        frozen_stages: int = -1,
        inflate: Union[int, Sequence] = (1, 1, 1, 1),
        inflate_style: str = '3x1x1',
        conv_cfg: Dict = dict(type='Conv3d'),  # noqa: B006 (never mutated)
        norm_cfg: Dict = dict(type='BN3d', requires_grad=True),  # noqa: B006
        act_cfg: Dict = dict(type='ReLU', inplace=True),  # noqa: B006
        norm_eval: bool = False,
        with_cp: bool = False,
        non_local: Union[int, Sequence] = (0, 0, 0, 0),
        non_local_cfg: Dict = dict(),  # noqa: B006
        zero_init_residual: bool = True,
        lateral_inplanes: Optional[Sequence[int]] = None,
        init_cfg: Optional[Union[Dict, Sequence[Dict]]] = None,
        **block_kwargs,
    ):
        super().__init__(init_cfg=init_cfg)
        name = type(self).__name__
        if depth not in self.arch_settings:
            raise KeyError(f'{name} depth must be one of {sorted(self.arch_settings)}, got {depth}')
        if pretrained is not None and not isinstance(pretrained, str):
            raise TypeError(
                f'{name} pretrained must be a path/URL string or None, got {pretrained!r}'
            )
        if not 1 <= num_stages <= 4:
            raise ValueError(f'{name} num_stages must be 1 to 4, got {num_stages}')
        out_indices = tuple(out_indices)
        if not out_indices or any(not 0 <= i < num_stages for i in out_indices):
            raise ValueError(f'{name} out_indices must be in [0, {num_stages}), got {out_indices}')
        for arg, value in [
            ('spatial_strides', spatial_strides),
            ('temporal_strides', temporal_strides),
            ('dilations', dilations),
        ]:
            if len(value) < num_stages:  # extra entries (4-stage defaults) are ignored
                raise ValueError(
                    f'{name} {arg} needs one entry per stage ({num_stages}), got {tuple(value)}'
                )
        if style not in ('pytorch', 'caffe'):
            raise ValueError(f"{name} style must be 'pytorch' or 'caffe', got {style!r}")
        if inflate_style not in _INFLATE_STYLES:
            raise ValueError(
                f'{name} inflate_style must be one of {_INFLATE_STYLES}, got {inflate_style!r}'
            )
        if not -1 <= frozen_stages <= num_stages:
            raise ValueError(
                f'{name} frozen_stages must be -1 to {num_stages}, got {frozen_stages}'
            )
        self.block, default_blocks = self.arch_settings[depth]
        stage_blocks = tuple(default_blocks[:num_stages] if stage_blocks is None else stage_blocks)
        if len(stage_blocks) != num_stages:
            raise ValueError(f'{name} stage_blocks needs {num_stages} entries, got {stage_blocks}')
        stage_inflations = _per_stage(inflate, num_stages, 'inflate')
        non_local_stages = _per_stage(non_local, num_stages, 'non_local')
        lateral_inplanes = tuple(lateral_inplanes or (0,) * num_stages)

        self.depth = depth
        self.pretrained = pretrained
        self.pretrained2d = pretrained2d
        self.in_channels = in_channels
        self.num_stages = num_stages
        self.base_channels = base_channels
        self.stage_blocks = stage_blocks
        self.out_indices = out_indices
        self.spatial_strides = tuple(spatial_strides)[:num_stages]
        self.temporal_strides = tuple(temporal_strides)[:num_stages]
        self.dilations = tuple(dilations)[:num_stages]
        self.conv1_kernel = tuple(conv1_kernel)
        self.conv1_stride_s, self.conv1_stride_t = conv1_stride_s, conv1_stride_t
        self.pool1_stride_s, self.pool1_stride_t = pool1_stride_s, pool1_stride_t
        self.with_pool1 = with_pool1
        self.with_pool2 = with_pool2
        self.style = style
        self.frozen_stages = frozen_stages
        self.inflate_style = inflate_style
        self.conv_cfg, self.norm_cfg, self.act_cfg = conv_cfg, norm_cfg, act_cfg
        self.norm_eval = norm_eval
        self.with_cp = with_cp
        self.non_local_cfg = non_local_cfg
        self.zero_init_residual = zero_init_residual
        self.lateral_inplanes = lateral_inplanes

        self._make_stem_layer()
        self.res_layers = []
        inplanes = base_channels
        for i, num_blocks in enumerate(stage_blocks):
            planes = base_channels * 2**i
            layer = self.make_res_layer(
                self.block,
                inplanes + lateral_inplanes[i],
                planes,
                num_blocks,
                spatial_stride=self.spatial_strides[i],
                temporal_stride=self.temporal_strides[i],
                dilation=self.dilations[i],
                inflate=_per_block(stage_inflations[i], num_blocks, 'inflate', i),
                non_local=_per_block(non_local_stages[i], num_blocks, 'non_local', i),
                **block_kwargs,
            )
            inplanes = planes * self.block.expansion
            self.add_module(f'layer{i + 1}', layer)
            self.res_layers.append(f'layer{i + 1}')
        self.feat_dim = inplanes

    def _make_stem_layer(self) -> None:
        """``conv1`` (conv + BN + ReLU), ``maxpool`` (1x3x3) and ``pool2`` (2x1x1)."""
        self.conv1 = ConvModule(
            self.in_channels,
            self.base_channels,
            self.conv1_kernel,
            stride=(self.conv1_stride_t, self.conv1_stride_s, self.conv1_stride_s),
            padding=tuple((k - 1) // 2 for k in self.conv1_kernel),
            bias=False,
            conv_cfg=self._conv_cfg('stem'),
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg,
        )
        self.maxpool = nn.MaxPool3d(
            kernel_size=(1, 3, 3),
            stride=(self.pool1_stride_t, self.pool1_stride_s, self.pool1_stride_s),
            padding=(0, 1, 1),
        )
        self.pool2 = nn.MaxPool3d(kernel_size=(2, 1, 1), stride=(2, 1, 1))

    def make_res_layer(
        self,
        block: type,
        inplanes: int,
        planes: int,
        num_blocks: int,
        spatial_stride: int,
        temporal_stride: int,
        dilation: int,
        inflate: Sequence[int],
        non_local: Sequence[int],
        **block_kwargs,
    ) -> nn.Sequential:
        """One stage: ``num_blocks`` blocks, the first one strided and projecting the identity."""
        downsample = None
        # MMAction2 projects on a spatial stride or channel change; a temporal stride alone
        # would make the residual add fail there, so it projects here too.
        strided = spatial_stride != 1 or temporal_stride != 1
        if strided or inplanes != planes * block.expansion:
            downsample = ConvModule(
                inplanes,
                planes * block.expansion,
                1,
                stride=(temporal_stride, spatial_stride, spatial_stride),
                bias=False,
                conv_cfg=self._conv_cfg('downsample'),
                norm_cfg=self.norm_cfg,
                act_cfg=None,
            )
        common = dict(
            dilation=dilation,
            style=self.style,
            inflate_style=self.inflate_style,
            non_local_cfg=self.non_local_cfg,
            norm_cfg=self.norm_cfg,
            act_cfg=self.act_cfg,
            with_cp=self.with_cp,
            **block_kwargs,
        )
        layers = []
        for j in range(num_blocks):
            first = j == 0
            block_inplanes = inplanes if first else planes * block.expansion
            layers.append(
                block(
                    block_inplanes,
                    planes,
                    spatial_stride=spatial_stride if first else 1,
                    temporal_stride=temporal_stride if first else 1,
                    downsample=downsample if first else None,
                    inflate=inflate[j] == 1,
                    non_local=non_local[j] == 1,
                    conv_cfg=self._conv_cfg('block', block_inplanes, planes),
                    **common,
                )
            )
        return nn.Sequential(*layers)

    def _conv_cfg(self, part: str, inplanes: int = 0, planes: int = 0) -> Dict:
        """Conv config of the ``'stem'``, a ``'downsample'`` projection or a ``'block'`` (with
        the block's input and middle channels); ``conv_cfg`` for all here, a hook for subclasses
        whose convs differ per place (:class:`ResNet2Plus1d` in torchvision's layout)."""
        return self.conv_cfg

    def init_weights(self) -> None:
        """Load ``pretrained`` (inflating 2D weights if ``pretrained2d``), else init from
        scratch: ``init_cfg`` if given, otherwise Kaiming convs and unit BN."""
        if self.pretrained:
            from mmaction_ft.engine.weight_loading import load_pretrained

            if self.pretrained2d:
                # Blocks a 2D ResNet lacks (non-local, laterals) keep a fresh init.
                self._init_modules_absent_in_2d()
                load_pretrained(
                    self,
                    self.pretrained,
                    convert=inflate_2d_state_dict,
                    hint=f'is it a 2D ResNet-{self.depth}? (a 3D checkpoint needs '
                    'pretrained2d=False)',
                )
            else:
                load_pretrained(
                    self,
                    self.pretrained,
                    hint='is it a 2D ResNet? (those need pretrained2d=True)',
                )
        elif self.init_cfg:
            super().init_weights()
        else:
            self._init_from_scratch()
        self._is_init = True

    def _init_from_scratch(self) -> None:
        for name, m in self.named_modules():
            if '.non_local_block' in name:
                continue  # NonLocal3d inits itself (zero output: identity at start)
            if isinstance(m, nn.Conv3d):
                kaiming_init(m)
            elif isinstance(m, _BatchNorm):
                constant_init(m, 1)
        if self.zero_init_residual:
            for m in self.modules():
                if isinstance(m, Bottleneck3d):
                    constant_init(m.conv3.bn, 0)
                elif isinstance(m, BasicBlock3d):
                    constant_init(m.conv2.bn, 0)

    def _init_modules_absent_in_2d(self) -> None:
        for m in self.modules():
            if isinstance(m, NonLocal3d):
                m.init_weights()

    def forward(self, x: torch.Tensor) -> Union[torch.Tensor, Tuple[torch.Tensor, ...]]:
        """Features of ``x`` ``[N, C, T, H, W]``: the ``out_indices`` stage output(s)."""
        x = self.conv1(x)  # [N, base_channels, T / conv1_stride_t, H / 2, W / 2]
        if self.with_pool1:
            x = self.maxpool(x)
        outs = []
        for i, name in enumerate(self.res_layers):
            x = getattr(self, name)(x)
            if i == 0 and self.with_pool2:
                x = self.pool2(x)  # [N, C, T / 2, H, W]
            if i in self.out_indices:
                outs.append(x)
        return outs[0] if len(outs) == 1 else tuple(outs)

    def train(self, mode: bool = True) -> 'ResNet3d':
        """Switch mode, keeping frozen stages and (with ``norm_eval``) every BN in eval."""
        super().train(mode)
        self._freeze_stages()
        if mode and self.norm_eval:
            for m in self.modules():
                if isinstance(m, _BatchNorm):
                    m.eval()
        return self

    def _frozen_modules(self) -> list:
        if self.frozen_stages < 0:
            return []
        return [self.conv1] + [getattr(self, f'layer{i}') for i in range(1, self.frozen_stages + 1)]

    def _freeze_stages(self) -> None:
        for module in self._frozen_modules():
            module.eval()
            for param in module.parameters():
                param.requires_grad = False


def _is_absent_in_2d(key: str) -> bool:
    """Tensors a 2D ResNet has no counterpart for: non-local blocks and SlowFast laterals."""
    return '.non_local_block.' in key or key.split('.')[0].endswith('_lateral')


def _is_lateral_projection(key: str, model: ResNet3d) -> bool:
    """An identity projection that exists only because laterals widen the stage input (stage 1
    of a SlowFast ResNet-18/34 pathway), so a 2D ResNet has none."""
    parts = key.split('.')
    if len(parts) < 3 or parts[1:3] != ['0', 'downsample'] or not parts[0].startswith('layer'):
        return False
    return model.lateral_inplanes[int(parts[0][len('layer') :]) - 1] > 0


def _owner_absent_in_2d(key: str) -> str:
    """``layer2.1.non_local_block.g.0.conv.weight`` -> ``layer2.1.non_local_block``."""
    for marker in ('.non_local_block', '.downsample'):
        if marker in key:
            return key[: key.index(marker) + len(marker)]
    return key.split('.')[0]  # conv1_lateral, layer1_lateral


def _to_2d_layout(state_dict_2d: Mapping[str, torch.Tensor]) -> Dict[str, str]:
    """Our 2D key (``layer1.0.conv1.bn.weight``) -> the file's key, for torchvision's layout
    (``layer1.0.bn1.weight``) or MMAction2's / ours (the same name)."""
    torchvision_layout = 'conv1.weight' in state_dict_2d
    if torchvision_layout:
        return {_torchvision_to_ours(k): k for k in state_dict_2d}
    return {k: k for k in state_dict_2d}


def inflate_2d_state_dict(
    state_dict_2d: Mapping[str, torch.Tensor], model: ResNet3d
) -> Dict[str, torch.Tensor]:
    """2D ResNet tensors -> ``model``'s 3D keys, without changing ``state_dict_2d``.

    A 2D kernel ``[O, I, kh, kw]`` becomes ``[O, I, kt, kh, kw]``: repeated ``kt`` times and
    divided by ``kt``, so that on a clip of identical frames the 3D conv gives the 2D output
    (I3D's "boring video" argument, Carreira & Zisserman 2017, sec. 2.3). BN tensors are
    copied. Where the 3D conv has more input channels because a SlowFast lateral connection
    concatenates features (``model.lateral_inplanes``), those extra channels get zero weights,
    as in MMAction2's ``ResNet3dPathway``. Non-local blocks and lateral convs have no 2D
    counterpart: the result holds ``model``'s own (freshly initialised) tensors for them, and
    the log says so. So does it for BN ``num_batches_tracked`` counters that old torchvision
    files lack. Other missing tensors are left out, so the loader reports them; 2D tensors
    that were not used (``fc.*``) are passed through under their own names for the same reason.

    Args:
        state_dict_2d: Tensors of a 2D ResNet, in torchvision's or MMAction2's layout.
        model: The 3D backbone whose keys the result uses.

    Returns:
        A new state dict in ``model``'s layout.
    """
    own = model.state_dict()
    file_keys = _to_2d_layout(state_dict_2d)
    out, kept, used = {}, [], set()
    for key, target in own.items():
        if _is_absent_in_2d(key):
            out[key] = target.detach().clone()
            kept.append(key)
            continue
        file_key = file_keys.get(key)
        if file_key is None:
            if key.endswith('num_batches_tracked'):
                out[key] = target.detach().clone()
            elif _is_lateral_projection(key, model):
                out[key] = target.detach().clone()
                kept.append(key)
            continue
        used.add(file_key)
        tensor = state_dict_2d[file_key]
        if target.dim() == 5 and tensor.dim() == 4:
            tensor = _inflate_conv_weight(tensor, target.shape, key, model)
        out[key] = tensor
    for file_key, tensor in state_dict_2d.items():
        if file_key not in used and file_key not in out:
            out[file_key] = tensor
    if kept:
        modules = sorted({_owner_absent_in_2d(k) for k in kept})
        print_log(
            f'{type(model).__name__}: {len(modules)} modules have no 2D counterpart and keep '
            f'their fresh init: {", ".join(modules)}',
            logger='current',
            level=logging.INFO,
        )
    return out


def _inflate_conv_weight(
    weight: torch.Tensor, shape_3d: torch.Size, key: str, model: ResNet3d
) -> torch.Tensor:
    out_c, in_c, kt = shape_3d[0], shape_3d[1], shape_3d[2]
    extra = in_c - weight.shape[1]
    if extra > 0 and extra in _lateral_extra_channels(key, model):
        zeros = weight.new_zeros((weight.shape[0], extra) + tuple(weight.shape[2:]))
        weight = torch.cat([weight, zeros], dim=1)
    if weight.shape[:2] != (out_c, in_c) or weight.shape[2:] != shape_3d[3:]:
        return weight  # the loader reports the mismatch with both shapes
    # [O, I, kh, kw] -> [O, I, kt, kh, kw]
    return weight.unsqueeze(2).expand(-1, -1, kt, -1, -1) / kt


def _lateral_extra_channels(key: str, model: ResNet3d) -> Tuple[int, ...]:
    """Lateral input channels of the conv ``key`` (the first convs of a stage), else ()."""
    parts = key.split('.')
    if len(parts) < 4 or not parts[0].startswith('layer') or parts[1] != '0':
        return ()
    if parts[2] not in ('conv1', 'downsample'):
        return ()
    stage = int(parts[0][len('layer') :]) - 1
    extra = model.lateral_inplanes[stage]
    return (extra,) if extra else ()
