"""TimeSformer (Bertasius et al., "Is Space-Time Attention All You Need for Video
Understanding?", ICML 2021) in MMAction2 1.2.0's layout.

Every frame is cut into ``patch_size`` patches (one 2D conv, ``patch_embed.projection``), a class
token and a position embedding are added per frame, then, unless ``attention_type`` is
``'space_only'``, a time embedding per frame; the tokens go through ``num_transformer_layers``
layers (``transformer_layers.layers.<i>``, see :mod:`.timesformer_layers`) and the normalised
class token is the clip's feature ``[N, embed_dims]``.

``pretrained`` is usually an ImageNet ViT-B/16; :func:`vit_to_timesformer` turns it into this
model's tensors the way MMAction2 does (both attentions of a divided layer start from the
image attention, the time embedding and ``temporal_fc`` start at zero).
"""

from collections import OrderedDict
from typing import Dict, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmcv.cnn import build_norm_layer
from mmengine.logging import print_log
from mmengine.model import BaseModule, kaiming_init
from torch.nn.modules.utils import _pair

from mmaction_ft.registry import MODELS

from .timesformer_layers import DividedSpaceTimeLayer, PreNormLayer

ATTENTION_TYPES = ('divided_space_time', 'space_only', 'joint_space_time')
# MMAction2 fixes the stochastic depth of the last layer at 0.1 (linear from 0 at the first).
_MAX_DROP_PATH = 0.1
# timm's ViT key -> MMAction2's, within ``blocks.<i>.`` / ``transformer_layers.layers.<i>.``.
_TIMM_BLOCK_KEYS = {
    'norm1.': 'norms.0.',
    'attn.qkv.weight': 'attentions.0.attn.in_proj_weight',
    'attn.qkv.bias': 'attentions.0.attn.in_proj_bias',
    'attn.proj.': 'attentions.0.attn.out_proj.',
    'norm2.': 'norms.1.',
    'mlp.fc1.': 'ffns.0.layers.0.0.',
    'mlp.fc2.': 'ffns.0.layers.1.',
}


def _timm_vit_to_mmcv(state_dict: Dict[str, torch.Tensor]) -> Dict[str, torch.Tensor]:
    """Rename a timm ``VisionTransformer`` state dict to the mmcv layout of MMAction2's ViT."""
    converted = OrderedDict()
    for key, value in state_dict.items():
        if key.startswith('blocks.'):
            _, index, rest = key.split('.', 2)
            for old, new in _TIMM_BLOCK_KEYS.items():
                if rest.startswith(old):
                    rest = new + rest[len(old) :]
                    break
            key = f'transformer_layers.layers.{index}.{rest}'
        elif key.startswith('patch_embed.proj.'):
            key = 'patch_embed.projection.' + key[len('patch_embed.proj.') :]
        converted[key] = value
    return converted


def _divided_key(key: str) -> str:
    """An image layer's first norm goes to the time attention, its second to the MLP."""
    return key.replace('.norms.0.', '.attentions.0.norm.').replace('.norms.1.', '.ffns.0.norm.')


def vit_to_timesformer(
    state_dict: Dict[str, torch.Tensor], model: 'TimeSformer'
) -> Dict[str, torch.Tensor]:
    """Turn an image ViT's tensors into ``model``'s (a pure function for ``load_pretrained``).

    Takes MMAction2's ``vit_base_patch16_224.pth`` layout (``transformer_layers.layers.<i>``
    with ``norms.0`` / ``attentions.0`` / ``norms.1`` / ``ffns.0``) or timm's (``blocks.<i>``).
    As MMAction2 1.2.0 does, for ``'divided_space_time'`` each layer's ``norms.0`` becomes the
    norm of the time attention and ``norms.1`` the MLP's, and the image attention is copied to
    both the time (``attentions.0``) and the space (``attentions.1``) attention. The tensors an
    image ViT lacks, ``time_embed`` and every ``temporal_fc``, are added as zeros (MMAction2
    leaves them at their zero init), so a divided layer starts as an image layer with an
    identity step along time. A state dict that already has this layout (a TimeSformer
    checkpoint) is returned unchanged.

    Args:
        state_dict: The file's tensors (``backbone.`` already dropped).
        model: The TimeSformer being loaded (its ``attention_type`` and tensor shapes).

    Returns:
        The converted state dict; extra tensors (e.g. an ImageNet ``head``) are kept, for the
        loader to report as unused.
    """
    if any(key.startswith('blocks.') for key in state_dict):
        state_dict = _timm_vit_to_mmcv(state_dict)
    converted = OrderedDict(state_dict)
    is_video = 'time_embed' in converted or any('.attentions.1.' in k for k in converted)
    if is_video or model.attention_type == 'space_only':
        return converted
    if model.attention_type == 'divided_space_time':
        converted = OrderedDict((_divided_key(k), v) for k, v in converted.items())
        for key in [k for k in converted if '.attentions.0.' in k]:
            converted[key.replace('.attentions.0.', '.attentions.1.')] = converted[key].clone()
    added = []
    for key, value in model.state_dict().items():
        if key not in converted and (key == 'time_embed' or '.temporal_fc.' in key):
            converted[key] = torch.zeros_like(value)
            added.append(key)
    if added:
        print_log(
            f'TimeSformer: an image ViT has no {len(added)} time tensors; '
            f'time_embed and temporal_fc start at zero',
            logger='current',
        )
    return converted


class _PatchEmbed(nn.Module):
    """Every frame to ``patch_size`` patch tokens with one 2D conv (key ``projection``)."""

    def __init__(self, img_size: Tuple[int, int], patch_size: int, in_channels: int, dims: int):
        super().__init__()
        self.projection = nn.Conv2d(in_channels, dims, patch_size, stride=patch_size)
        # LeCun normal, as ClassyVision / MMAction2 initialise the patch projection.
        kaiming_init(self.projection, mode='fan_in', nonlinearity='linear')

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[N, C, T, H, W] -> [N * T, P, embed_dims]``."""
        n, c, t, h, w = x.shape
        x = x.transpose(1, 2).reshape(n * t, c, h, w)  # [N * T, C, H, W]
        return self.projection(x).flatten(2).transpose(1, 2)  # [N * T, P, embed_dims]


class _LayerSequence(nn.Module):
    """The layers in order (mmcv's ``TransformerLayerSequence``: key ``layers.<i>``)."""

    def __init__(self, layers: Sequence[nn.Module]):
        super().__init__()
        self.layers = nn.ModuleList(layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for layer in self.layers:
            x = layer(x)
        return x


@MODELS.register_module()
class TimeSformer(BaseModule):
    """TimeSformer backbone: ``[N, C, T, H, W]`` clips -> class-token features ``[N, C']``.

    Args:
        num_frames: Frames T of every clip (the time embedding has one entry per frame).
        img_size: Frame size, an int or ``(H, W)``; the position embedding is made for it.
        patch_size: Side of the square patches; must divide ``img_size``.
        pretrained: Backbone-only weights loaded by ``init_weights``: a path or an http(s)
            URL of an image ViT (see :func:`vit_to_timesformer`) or of a TimeSformer; None
            keeps the scratch init.
        embed_dims: Token channels C'.
        num_heads: Attention heads; must divide ``embed_dims``.
        num_transformer_layers: Number of layers.
        in_channels: Input channels.
        dropout_ratio: Dropout after the position and the time embedding.
        transformer_layers: Must be None: MMAction2 accepts an mmcv layer config here; every
            published config leaves it None, and this implementation builds its layers from
            ``attention_type``.
        attention_type: ``'divided_space_time'`` (time then space attention in every layer),
            ``'joint_space_time'`` (attention over all tokens of the clip) or ``'space_only'``
            (frames attend separately; their class tokens are averaged at the end).
        norm_cfg: Config of the final norm (the layers' norms are ``LN`` with eps 1e-6, as in
            MMAction2).
    """

    supported_attention_types = ATTENTION_TYPES

    def __init__(
        self,
        num_frames: int,
        img_size: Union[int, Tuple[int, int]],
        patch_size: int,
        pretrained: Optional[str] = None,
        embed_dims: int = 768,
        num_heads: int = 12,
        num_transformer_layers: int = 12,
        in_channels: int = 3,
        dropout_ratio: float = 0.0,
        transformer_layers: Optional[Dict] = None,
        attention_type: str = 'divided_space_time',
        norm_cfg: Dict = dict(type='LN', eps=1e-6),  # noqa: B006 (never mutated)
    ):
        super().__init__()
        if attention_type not in ATTENTION_TYPES:
            raise ValueError(
                f'TimeSformer attention_type must be one of {ATTENTION_TYPES}, '
                f'got {attention_type!r}'
            )
        if transformer_layers is not None:
            raise ValueError(
                'TimeSformer transformer_layers must be None: the layers are built from '
                f'attention_type={attention_type!r} (got {transformer_layers!r})'
            )
        if pretrained is not None and not isinstance(pretrained, str):
            raise TypeError(
                f'TimeSformer pretrained must be a path/URL string or None, got {pretrained!r}'
            )
        img_size = _pair(img_size)
        for name, value in [
            ('num_frames', num_frames),
            ('patch_size', patch_size),
            ('embed_dims', embed_dims),
            ('num_heads', num_heads),
            ('num_transformer_layers', num_transformer_layers),
        ]:
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f'TimeSformer {name} must be a positive int, got {value!r}')
        if any(side % patch_size for side in img_size):
            raise ValueError(
                f'TimeSformer img_size {img_size} must be divisible by patch_size={patch_size}'
            )
        if embed_dims % num_heads:
            raise ValueError(
                f'TimeSformer embed_dims={embed_dims} must be divisible by num_heads={num_heads}'
            )
        if not 0 <= dropout_ratio < 1:
            raise ValueError(f'TimeSformer dropout_ratio must be in [0, 1), got {dropout_ratio}')

        self.num_frames = num_frames
        self.img_size = img_size
        self.patch_size = patch_size
        self.pretrained = pretrained
        self.embed_dims = embed_dims
        self.num_transformer_layers = num_transformer_layers
        self.attention_type = attention_type
        self.num_patches = (img_size[0] // patch_size) * (img_size[1] // patch_size)

        self.patch_embed = _PatchEmbed(img_size, patch_size, in_channels, embed_dims)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, embed_dims))
        self.pos_embed = nn.Parameter(torch.zeros(1, self.num_patches + 1, embed_dims))
        self.drop_after_pos = nn.Dropout(p=dropout_ratio)
        if attention_type != 'space_only':
            self.time_embed = nn.Parameter(torch.zeros(1, num_frames, embed_dims))
            self.drop_after_time = nn.Dropout(p=dropout_ratio)
        self.norm = build_norm_layer(norm_cfg, embed_dims)[1]

        layer_norm = dict(type='LN', eps=1e-6)
        drop_path_rates = torch.linspace(
            0, _MAX_DROP_PATH, num_transformer_layers, device='cpu'
        ).tolist()
        if attention_type == 'divided_space_time':
            layers = [
                DividedSpaceTimeLayer(embed_dims, num_heads, num_frames, rate, layer_norm)
                for rate in drop_path_rates
            ]
        else:
            layers = [
                PreNormLayer(embed_dims, num_heads, rate, layer_norm) for rate in drop_path_rates
            ]
        self.transformer_layers = _LayerSequence(layers)

    def init_weights(self) -> None:
        """Truncated-normal (std 0.02) position embedding and class token, then ``pretrained``
        if set (:func:`vit_to_timesformer`); everything else keeps its construction init."""
        nn.init.trunc_normal_(self.pos_embed, std=0.02)
        nn.init.trunc_normal_(self.cls_token, std=0.02)
        if self.pretrained:
            from mmaction_ft.engine.weight_loading import load_pretrained

            load_pretrained(
                self,
                self.pretrained,
                convert=vit_to_timesformer,
                hint='is it a ViT / TimeSformer checkpoint of the same size?',
            )
        self._is_init = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Class-token features of a batch of clips.

        Args:
            x: ``[N, C, T, H, W]`` with ``T = num_frames`` and ``(H, W) = img_size``.

        Returns:
            ``[N, embed_dims]``.
        """
        if x.ndim != 5 or x.shape[2] != self.num_frames or tuple(x.shape[3:]) != self.img_size:
            raise ValueError(
                f'TimeSformer expects clips [N, C, {self.num_frames}, {self.img_size[0]}, '
                f'{self.img_size[1]}] (num_frames, img_size), got {list(x.shape)}'
            )
        n, t, p = x.shape[0], self.num_frames, self.num_patches
        x = self.patch_embed(x)  # [N * T, P, C]
        x = torch.cat((self.cls_token.expand(x.shape[0], -1, -1), x), dim=1)  # [N * T, 1 + P, C]
        x = self.drop_after_pos(x + self.pos_embed)

        if self.attention_type != 'space_only':
            cls_token = x.reshape(n, t, 1 + p, -1)[:, 0, :1]  # [N, 1, C]: frame 0's
            x = x[:, 1:].reshape(n, t, p, -1).transpose(1, 2).reshape(n * p, t, -1)
            # [N * P, T, C]
            x = self.drop_after_time(x + self.time_embed)
            x = x.reshape(n, p * t, -1)  # [N, P * T, C]: patch major, frame minor
            x = torch.cat((cls_token, x), dim=1)  # [N, 1 + P * T, C]

        x = self.transformer_layers(x)
        if self.attention_type == 'space_only':
            x = x.reshape(n, t, 1 + p, -1).mean(dim=1)  # [N, 1 + P, C]
        return self.norm(x)[:, 0]  # [N, C]
