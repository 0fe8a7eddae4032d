"""torchvision's video classifiers (``torchvision.models.video``) as mmaction_ft recognizers.

For each model, :data:`TORCHVISION_VIDEO_MODELS` holds the recognizer config that rebuilds its
architecture from this package's backbones and heads, and a pure converter from torchvision's
state dict to that recognizer's (``backbone.*`` and ``cls_head.fc_cls.*``):

============  ==============================================================================
torchvision   mmaction_ft
============  ==============================================================================
r3d_18        ``ResNet3d`` depth 18, 3x7x7 stem without max pool, time strided like space
mc3_18        ``ResNet3d`` depth 18, 3x3x3 convs in stage 1 only (``inflate=(1, 0, 0, 0)``)
r2plus1d_18   ``ResNet2Plus1d`` depth 18, ``layout='torchvision'`` (its middle widths differ)
s3d           ``S3D`` (written for it; MMAction2 has none)
mvit_v1_b     ``MViT``: absolute position embedding, no relative positions or residual
              pooling, width changed in the MLP, queries pooled only where a stage starts
mvit_v2_s     ``MViT`` ``arch='small'`` (the same MViTv2-S as MMAction2's)
swin3d_t/s/b  ``SwinTransformer3D`` ``arch='tiny'`` / ``'small'`` / ``'base'``
============  ==============================================================================

Heads are ``I3DHead`` (``MViTHead`` for the MViTs) with torchvision's dropout. The files are
found through ``torchvision://NAME`` (``r3d_18``, ``r3d_18.kinetics400_v1`` or
``R3D_18_Weights.KINETICS400_V1``, see :func:`mmaction_ft.engine.checkpoint.torchvision_weights`)
and converted on loading by :func:`convert_torchvision_checkpoint`, so ``load_from`` gets a
400-class recognizer and ``model.backbone.pretrained`` its backbone.
"""

import re
from collections import OrderedDict
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple

import torch
from mmengine.config import Config

__all__ = [
    'TORCHVISION_VIDEO_MODELS',
    'convert_mvit',
    'convert_s3d',
    'convert_swin3d',
    'convert_torchvision_checkpoint',
    'convert_video_resnet',
    'torchvision_video_model_cfg',
]

StateDict = Mapping[str, torch.Tensor]
Rules = Sequence[Tuple[str, str]]


def _rename(state_dict: StateDict, rules: Rules, head: str) -> 'OrderedDict[str, torch.Tensor]':
    """Apply the first matching ``(pattern, replacement)`` rule to each key; keys under
    ``head.`` become ``cls_head.fc_cls.``, all others gain ``backbone.``."""
    out = OrderedDict()
    for key, value in state_dict.items():
        if key.startswith(head + '.'):
            out['cls_head.fc_cls.' + key[len(head) + 1 :]] = value
            continue
        for pattern, replacement in rules:
            new_key, count = re.subn(pattern, replacement, key, count=1)
            if count:
                key = new_key
                break
        out['backbone.' + key] = value
    return out


# torchvision.models.video.resnet: ``stem`` and every block conv are Sequential(conv, BN[, ReLU]);
# in R(2+1)D each conv is itself Sequential(conv_s, BN, ReLU, conv_t).
_DOWNSAMPLE = [
    (r'\.downsample\.0\.', '.downsample.conv.'),
    (r'\.downsample\.1\.', '.downsample.bn.'),
]
_R3D_RULES = [
    (r'^stem\.0\.', 'conv1.conv.'),
    (r'^stem\.1\.', 'conv1.bn.'),
    (r'\.(conv[12])\.0\.', r'.\1.conv.'),
    (r'\.(conv[12])\.1\.', r'.\1.bn.'),
    *_DOWNSAMPLE,
]
_R2PLUS1D_RULES = [
    (r'^stem\.0\.', 'conv1.conv.conv_s.'),
    (r'^stem\.1\.', 'conv1.conv.bn_s.'),
    (r'^stem\.3\.', 'conv1.conv.conv_t.'),
    (r'^stem\.4\.', 'conv1.bn.'),
    (r'\.(conv[12])\.0\.0\.', r'.\1.conv.conv_s.'),
    (r'\.(conv[12])\.0\.1\.', r'.\1.conv.bn_s.'),
    (r'\.(conv[12])\.0\.3\.', r'.\1.conv.conv_t.'),
    (r'\.(conv[12])\.1\.', r'.\1.bn.'),
    *_DOWNSAMPLE,
]


def convert_video_resnet(state_dict: StateDict) -> 'OrderedDict[str, torch.Tensor]':
    """torchvision ``r3d_18`` / ``mc3_18`` / ``r2plus1d_18`` tensors -> recognizer keys
    (``stem.0.weight`` -> ``backbone.conv1.conv.weight``, ``layer2.0.conv1.0.3.weight`` ->
    ``backbone.layer2.0.conv1.conv.conv_t.weight``, ``fc`` -> ``cls_head.fc_cls``)."""
    rules = _R2PLUS1D_RULES if 'stem.3.weight' in state_dict else _R3D_RULES
    return _rename(state_dict, rules, head='fc')


# torchvision.models.video.s3d.S3D.features: index -> our block.
_S3D_FEATURES = {
    0: 'conv1',
    2: 'conv2',
    3: 'conv3',
    5: 'mixed_3b',
    6: 'mixed_3c',
    8: 'mixed_4b',
    9: 'mixed_4c',
    10: 'mixed_4d',
    11: 'mixed_4e',
    12: 'mixed_4f',
    14: 'mixed_5b',
    15: 'mixed_5c',
}


def convert_s3d(state_dict: StateDict) -> 'OrderedDict[str, torch.Tensor]':
    """torchvision ``s3d`` tensors -> recognizer keys of ``S3D`` + ``I3DHead``.

    Every torchvision conv is ``Conv3dNormActivation`` (index 0 conv, 1 BN) -> ``conv`` /
    ``bn``; a ``TemporalSeparableConv`` (``features.0``, ``features.3`` and the second module of
    branches 1 and 2) has children 0 / 1 -> ``conv_s`` / ``conv_t``. The classifier is a 1x1x1
    conv ``[400, 1024, 1, 1, 1]`` -> ``fc_cls.weight`` ``[400, 1024]``.
    """
    out = OrderedDict()
    for key, value in state_dict.items():
        if key.startswith('classifier.1.'):
            param = key[len('classifier.1.') :]
            out['cls_head.fc_cls.' + param] = value.flatten(1) if param == 'weight' else value
            continue
        match = re.fullmatch(r'features\.(\d+)\.(.+)', key)
        if match is None or int(match.group(1)) not in _S3D_FEATURES:
            out['backbone.' + key] = value  # reported as unexpected by the loader
            continue
        block = _S3D_FEATURES[int(match.group(1))]
        parts = match.group(2).split('.')
        parts[-2] = {'0': 'conv', '1': 'bn'}[parts[-2]]
        separable = block in ('conv1', 'conv3') or parts[:2] in (['branch1', '1'], ['branch2', '1'])
        if separable:
            parts[-3] = {'0': 'conv_s', '1': 'conv_t'}[parts[-3]]
        out['.'.join(['backbone', block, *parts])] = value
    return out


_MVIT_RULES = [
    (r'^conv_proj\.', 'patch_embed.projection.'),
    (r'\.attn\.project\.0\.', '.attn.proj.'),
    (r'\.attn\.pool_([qkv])\.pool\.', r'.attn.pool_\1.'),
    (r'\.attn\.pool_([qkv])\.norm_act\.0\.', r'.attn.norm_\1.'),
    (r'\.mlp\.0\.', '.mlp.fc1.'),
    (r'\.mlp\.3\.', '.mlp.fc2.'),
    (r'^(blocks\.\d+)\.project\.', r'\1.proj.'),
    # Both torchvision MViTs have 4 scales; the last one's norm is MViT's ``norm3``.
    (r'^norm\.', 'norm3.'),
]


def convert_mvit(state_dict: StateDict) -> 'OrderedDict[str, torch.Tensor]':
    """torchvision ``mvit_v1_b`` / ``mvit_v2_s`` tensors -> recognizer keys of ``MViT`` +
    ``MViTHead``.

    The class token ``[C]`` becomes ``cls_token`` ``[1, 1, C]``. MViTv1's separable absolute
    position embedding (``class_pos`` ``[C]``, ``temporal_pos`` ``[T, C]``, ``spatial_pos``
    ``[H * W, C]``, summed per token by torchvision) becomes the one table ``pos_embed``
    ``[1, 1 + T * H * W, C]`` with the same sums, in the token order ``(t, h, w)``.
    """
    state = dict(state_dict)
    pos = {
        name: state.pop(f'pos_encoding.{name}', None)
        for name in ('class_pos', 'temporal_pos', 'spatial_pos')
    }
    class_token = state.pop('pos_encoding.class_token')
    out = _rename(state, _MVIT_RULES, head='head.1')
    out['backbone.cls_token'] = class_token.reshape(1, 1, -1)
    if pos['spatial_pos'] is not None:
        temporal, spatial = pos['temporal_pos'], pos['spatial_pos']
        grid = temporal[:, None, :] + spatial[None, :, :]  # [T, H * W, C]
        table = torch.cat((pos['class_pos'][None], grid.flatten(0, 1)), dim=0)  # [1 + THW, C]
        out['backbone.pos_embed'] = table[None]
    return out


_SWIN_RULES = [
    (r'^features\.(\d+)\.(\d+)\.mlp\.0\.', lambda m: f'{_swin_stage(m)}.blocks.{m[2]}.mlp.fc1.'),
    (r'^features\.(\d+)\.(\d+)\.mlp\.3\.', lambda m: f'{_swin_stage(m)}.blocks.{m[2]}.mlp.fc2.'),
    (r'^features\.(\d+)\.(\d+)\.', lambda m: f'{_swin_stage(m)}.blocks.{m[2]}.'),
    (r'^features\.(\d+)\.', lambda m: f'{_swin_stage(m)}.downsample.'),
    # The four-stage Swin3Ds output the last stage, normalised by ``norm3``.
    (r'^norm\.', 'norm3.'),
]


def _swin_stage(match: re.Match) -> str:
    # ``features`` alternates stages (even indices) and patch mergings (odd): 2i, 2i + 1 -> i.
    return f'layers.{int(match[1]) // 2}'


def convert_swin3d(state_dict: StateDict) -> 'OrderedDict[str, torch.Tensor]':
    """torchvision ``swin3d_t`` / ``_s`` / ``_b`` tensors -> recognizer keys of
    ``SwinTransformer3D`` + ``I3DHead`` (``features.2.1.attn.qkv.weight`` ->
    ``backbone.layers.1.blocks.1.attn.qkv.weight``, ``features.1.reduction.weight`` ->
    ``backbone.layers.0.downsample.reduction.weight``, ``head`` -> ``cls_head.fc_cls``)."""
    return _rename(state_dict, _SWIN_RULES, head='head')


def _resnet3d(**kwargs) -> Dict:
    # torchvision.models.video.resnet.VideoResNet: BasicStem (3x7x7, stride 1x2x2, no max
    # pool), stages strided in time as in space unless the conv has no temporal kernel.
    return dict(
        type='ResNet3d',
        depth=18,
        pretrained=None,
        pretrained2d=False,
        conv1_kernel=(3, 7, 7),
        conv1_stride_t=1,
        with_pool1=False,
        with_pool2=False,
        spatial_strides=(1, 2, 2, 2),
        norm_cfg=dict(type='BN3d'),
        **kwargs,
    )


def _i3d_head(in_channels: int, dropout_ratio: float) -> Dict:
    return dict(
        type='I3DHead',
        in_channels=in_channels,
        num_classes=400,
        spatial_type='avg',
        dropout_ratio=dropout_ratio,
        average_clips='prob',
    )


def _mvit_head(dropout_ratio: float) -> Dict:
    return dict(
        type='MViTHead',
        in_channels=768,
        num_classes=400,
        dropout_ratio=dropout_ratio,
        average_clips='prob',
    )


def _swin(arch: str, channels: int) -> Tuple[Dict, Dict]:
    backbone = dict(
        type='SwinTransformer3D',
        arch=arch,
        pretrained=None,
        pretrained2d=False,
        patch_size=(2, 4, 4),
        window_size=(8, 7, 7),
        drop_path_rate=0.1,
    )
    return backbone, _i3d_head(channels, 0.0)


# name -> (backbone config, head config, converter). Dropout and drop-path rates are
# torchvision's training values (they do not change evaluation).
TORCHVISION_VIDEO_MODELS: Dict[str, Tuple[Dict, Dict, Callable[[StateDict], Dict]]] = {
    'r3d_18': (
        _resnet3d(temporal_strides=(1, 2, 2, 2), inflate=(1, 1, 1, 1), inflate_style='3x3x3'),
        _i3d_head(512, 0.0),
        convert_video_resnet,
    ),
    'mc3_18': (
        _resnet3d(temporal_strides=(1, 1, 1, 1), inflate=(1, 0, 0, 0), inflate_style='3x3x3'),
        _i3d_head(512, 0.0),
        convert_video_resnet,
    ),
    'r2plus1d_18': (
        dict(
            type='ResNet2Plus1d',
            layout='torchvision',
            depth=18,
            pretrained=None,
            pretrained2d=False,
            conv1_kernel=(3, 7, 7),
            conv1_stride_t=1,
            with_pool1=False,
            spatial_strides=(1, 2, 2, 2),
            temporal_strides=(1, 2, 2, 2),
            conv_cfg=dict(type='Conv2plus1d'),
            norm_cfg=dict(type='BN3d'),
        ),
        _i3d_head(512, 0.0),
        convert_video_resnet,
    ),
    's3d': (dict(type='S3D', avg_pool_kernel=(2, 7, 7)), _i3d_head(1024, 0.2), convert_s3d),
    'mvit_v1_b': (
        dict(
            type='MViT',
            arch=dict(embed_dims=96, num_layers=16, num_heads=1, downscale_indices=[1, 3, 14]),
            spatial_size=224,
            temporal_size=16,
            use_abs_pos_embed=True,
            rel_pos_embed=False,
            residual_pooling=False,
            dim_mul_in_attention=False,
            pool_q_every_block=False,
            drop_path_rate=0.2,
        ),
        _mvit_head(0.5),
        convert_mvit,
    ),
    'mvit_v2_s': (
        dict(type='MViT', arch='small', spatial_size=224, temporal_size=16, drop_path_rate=0.2),
        _mvit_head(0.5),
        convert_mvit,
    ),
    'swin3d_t': (*_swin('tiny', 768), convert_swin3d),
    'swin3d_s': (*_swin('small', 768), convert_swin3d),
    'swin3d_b': (*_swin('base', 1024), convert_swin3d),
}


def _model_name(weights) -> Optional[str]:
    """``R3D_18_Weights.KINETICS400_V1`` -> ``'r3d_18'`` (None for other torchvision weights)."""
    import torchvision

    for name in TORCHVISION_VIDEO_MODELS:
        if type(weights) is torchvision.models.get_model_weights(name):
            return name
    return None


def torchvision_video_model_cfg(name: str) -> Dict:
    """The recognizer config of torchvision video model ``name`` (a key of
    :data:`TORCHVISION_VIDEO_MODELS`), with the mean / std of its Kinetics-400 weights' own
    transforms (in 0-255 units, as ``ActionDataPreprocessor`` takes them)."""
    import torchvision

    if name not in TORCHVISION_VIDEO_MODELS:
        raise KeyError(
            f'no mmaction_ft config for torchvision model {name!r}; known: '
            f'{", ".join(TORCHVISION_VIDEO_MODELS)}'
        )
    backbone, head, _ = TORCHVISION_VIDEO_MODELS[name]
    transforms = torchvision.models.get_model_weights(name).DEFAULT.transforms()
    return dict(
        type='Recognizer3D',
        backbone=dict(backbone),
        cls_head=dict(head),
        data_preprocessor=dict(
            type='ActionDataPreprocessor',
            mean=[round(255 * m, 4) for m in transforms.mean],
            std=[round(255 * s, 4) for s in transforms.std],
            format_shape='NCTHW',
        ),
    )


def convert_torchvision_checkpoint(weights, checkpoint: Mapping, source: str) -> Mapping:
    """A torchvision file read for ``weights`` (a ``WeightsEnum`` entry) -> an mmaction_ft
    checkpoint: ``state_dict`` in the recognizer's keys and ``meta`` with the class names
    (``dataset_meta.classes``), ``converted_from`` and ``cfg`` (the recognizer config as
    ``model``, so ``init_recognizer('torchvision://r3d_18')`` needs no config file).

    Weights of models not in :data:`TORCHVISION_VIDEO_MODELS` (ImageNet ResNets, inflated by
    the backbones) are returned unchanged."""
    name = _model_name(weights)
    if name is None:
        return checkpoint
    convert = TORCHVISION_VIDEO_MODELS[name][2]
    categories: List[str] = list(weights.meta.get('categories') or [])
    return dict(
        state_dict=convert(checkpoint),
        meta=dict(
            dataset_meta=dict(classes=categories) if categories else {},
            converted_from=source,
            torchvision_weights=f'{type(weights).__name__}.{weights.name}',
            cfg=Config(dict(model=torchvision_video_model_cfg(name))),
        ),
    )
