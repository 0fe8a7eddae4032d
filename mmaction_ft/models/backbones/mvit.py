"""MViTv2 (Li et al., "MViTv2: Improved Multiscale Vision Transformers for Classification and
Detection", CVPR 2022) as a video backbone, with MMAction2 1.2.0's arguments and state dict.

A clip ``[N, C, T, H, W]`` becomes tokens through a strided 3D conv (``patch_embed``), a class
token is prepended, and ``num_layers`` :class:`MultiScaleBlock` s follow. At each of the
``downscale_indices`` the query grid is pooled by 2 in H and W and the width and the head count
are multiplied, so the blocks form ``len(downscale_indices) + 1`` scales. The state dict reads
``patch_embed.projection.weight``, ``cls_token``, ``blocks.3.attn.pool_q.weight``,
``blocks.3.attn.rel_pos_t``, ``blocks.3.proj.weight``, ``norm3.weight``.

Loading lives in :func:`mmaction_ft.engine.weight_loading.load_pretrained`; this file provides the
pure converter :func:`resize_rel_pos_state_dict` for MaskFeat-pretrained weights.
"""

import logging
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmengine.logging import print_log
from mmengine.model import BaseModule, ModuleList
from mmengine.model.weight_init import trunc_normal_

from mmaction_ft.registry import MODELS

from .mvit_blocks import MultiScaleBlock, MViTPatchEmbed

_ARCH_KEYS = ('embed_dims', 'num_layers', 'num_heads', 'downscale_indices')
_PRETRAINED_TYPES = (None, 'maskfeat')

# A stage's output: the patch tokens [N, C, T, H, W] and the class token [N, C] (or None), or
# the patch tokens alone when output_cls_token is False.
StageOutput = Union[List[Optional[torch.Tensor]], torch.Tensor]


@MODELS.register_module()
class MViT(BaseModule):
    """Multiscale Vision Transformer v2: ``[N, C, T, H, W]`` clips -> per-scale features.

    Args:
        arch: ``'tiny'``, ``'small'``, ``'base'``, ``'large'``, or a dict with
            ``embed_dims``, ``num_layers``, ``num_heads`` (of the first block),
            ``downscale_indices`` and optionally ``dim_mul_indices`` (blocks that multiply the
            width; the downscale blocks by default).
        spatial_size: Configured input height = width; sizes the relative position tables
            (another size still runs: the tables are interpolated).
        temporal_size: Configured input frames, likewise.
        in_channels: Input channels.
        pretrained: Backbone-only weights loaded by ``init_weights`` (path or URL).
        pretrained_type: None for weights of this same architecture and input size;
            ``'maskfeat'`` for MaskFeat-pretrained weights, whose relative position tables are
            resized by :func:`resize_rel_pos_state_dict`. (MMAction2 1.2.0 also accepts
            ``'imagenet'`` but then loads nothing; here it is an error.)
        out_scales: Indices of the scales to output (negative counts from the end).
        drop_path_rate: Stochastic depth rate of the last block (linear from 0).
        use_abs_pos_embed: Add a learned absolute position embedding (``pos_embed``).
        interpolate_mode: How ``pos_embed`` is resized for another input size.
        pool_kernel: Kernel of the q/k/v pooling convs.
        dim_mul: Width multiplier at each ``dim_mul_indices`` block.
        head_mul: Head-count multiplier at each downscale / dim-mul block.
        adaptive_kv_stride: Key / value pooling stride of the first block, halved (to at least
            1) at each downscale block.
        rel_pos_embed: Use decomposed relative position embeddings.
        residual_pooling: Add the pooled queries to the attention output.
        dim_mul_in_attention: Change the width in the attention (True) or the MLP (False).
        with_cls_token: Prepend a class token to the transformer input.
        output_cls_token: Output ``[patch_tokens, cls_token]`` per scale (needs
            ``with_cls_token``); otherwise the patch tokens alone.
        rel_pos_zero_init: Leave relative position tables at zero when initialising.
        mlp_ratio: MLP hidden width / input width.
        qkv_bias: Whether the ``qkv`` projections have a bias.
        pool_q_every_block: Pool the queries in every block (MViTv2, MMAction2); False pools
            them only in the downscale blocks (MViTv1, torchvision's ``mvit_v1_b``).
        norm_cfg: Norm config of every block and of the scale outputs (``norm{i}``).
        patch_cfg: Arguments of the patch embedding conv (``kernel_size``, ``stride``,
            ``padding``, ``norm_cfg``, ...).
        init_cfg: mmengine initialisation config (MMAction2's default: truncated-normal convs
            and linear layers, LayerNorm 1 / bias 0.02).
    """

    arch_zoo = {
        'tiny': dict(embed_dims=96, num_layers=10, num_heads=1, downscale_indices=[1, 3, 8]),
        'small': dict(embed_dims=96, num_layers=16, num_heads=1, downscale_indices=[1, 3, 14]),
        'base': dict(embed_dims=96, num_layers=24, num_heads=1, downscale_indices=[2, 5, 21]),
        'large': dict(embed_dims=144, num_layers=48, num_heads=2, downscale_indices=[2, 8, 44]),
    }
    num_extra_tokens = 1

    def __init__(
        self,
        arch: Union[str, Dict] = 'base',
        spatial_size: int = 224,
        temporal_size: int = 16,
        in_channels: int = 3,
        pretrained: Optional[str] = None,
        pretrained_type: Optional[str] = None,
        out_scales: Union[int, Sequence[int]] = -1,
        drop_path_rate: float = 0.0,
        use_abs_pos_embed: bool = False,
        interpolate_mode: str = 'trilinear',
        pool_kernel: Sequence[int] = (3, 3, 3),
        dim_mul: int = 2,
        head_mul: int = 2,
        adaptive_kv_stride: Sequence[int] = (1, 8, 8),
        rel_pos_embed: bool = True,
        residual_pooling: bool = True,
        dim_mul_in_attention: bool = True,
        with_cls_token: bool = True,
        output_cls_token: bool = True,
        rel_pos_zero_init: bool = False,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        pool_q_every_block: bool = True,
        norm_cfg: Dict = dict(type='LN', eps=1e-6),  # noqa: B006 (never mutated)
        patch_cfg: Dict = dict(kernel_size=(3, 7, 7), stride=(2, 4, 4), padding=(1, 3, 3)),  # noqa: B006
        init_cfg: Optional[Union[Dict, List[Dict]]] = [  # noqa: B006 (copied, never mutated)
            dict(type='TruncNormal', layer=['Conv2d', 'Conv3d'], std=0.02),
            dict(type='TruncNormal', layer='Linear', std=0.02, bias=0.02),
            dict(type='Constant', layer='LayerNorm', val=1.0, bias=0.02),
        ],
    ):
        super().__init__(init_cfg=[dict(c) for c in init_cfg] if init_cfg else None)
        self.arch_settings = _arch_settings(arch, self.arch_zoo)
        if pretrained_type not in _PRETRAINED_TYPES:
            raise ValueError(
                f"pretrained_type must be None or 'maskfeat', got {pretrained_type!r}"
                + (
                    " (MMAction2 1.2.0 loads nothing for 'imagenet')"
                    if pretrained_type == 'imagenet'
                    else ''
                )
            )
        if output_cls_token and not with_cls_token:
            raise ValueError('output_cls_token=True needs with_cls_token=True')
        self.pretrained = pretrained
        self.pretrained_type = pretrained_type
        self.embed_dims = self.arch_settings['embed_dims']
        self.num_layers = self.arch_settings['num_layers']
        self.num_heads = self.arch_settings['num_heads']
        self.downscale_indices = list(self.arch_settings['downscale_indices'])
        self.dim_mul_indices = list(
            self.arch_settings.get('dim_mul_indices', self.downscale_indices)
        )
        self.num_scales = len(self.downscale_indices) + 1
        # last block of each scale -> scale index
        self.stage_indices = {index - 1: i for i, index in enumerate(self.downscale_indices)}
        self.stage_indices[self.num_layers - 1] = self.num_scales - 1
        self.out_scales = _out_scales(out_scales, self.num_scales)
        self.use_abs_pos_embed = use_abs_pos_embed
        self.interpolate_mode = interpolate_mode
        self.with_cls_token = with_cls_token
        self.output_cls_token = output_cls_token

        self.patch_embed = MViTPatchEmbed(
            **{
                'in_channels': in_channels,
                'input_size': (temporal_size, spatial_size, spatial_size),
                'embed_dims': self.embed_dims,
                **patch_cfg,
            }
        )
        self.patch_resolution = self.patch_embed.init_out_size
        # Always a parameter (also without with_cls_token), as in MMAction2's state dict.
        self.cls_token = nn.Parameter(torch.zeros(1, 1, self.embed_dims))
        if use_abs_pos_embed:
            num_patches = int(np.prod(self.patch_resolution))
            self.pos_embed = nn.Parameter(
                torch.zeros(1, num_patches + self.num_extra_tokens, self.embed_dims)
            )

        drop_path_rates = np.linspace(0, drop_path_rate, self.num_layers)
        self.blocks = ModuleList()
        dims, num_heads = self.embed_dims, self.num_heads
        stride_kv, grid = list(adaptive_kv_stride), self.patch_resolution
        for i in range(self.num_layers):
            if i in self.downscale_indices or i in self.dim_mul_indices:
                num_heads *= head_mul
            if i in self.downscale_indices:
                stride_q = [1, 2, 2]
                stride_kv = [max(s // 2, 1) for s in stride_kv]
            else:
                stride_q = [1, 1, 1]
            widens = (
                i in self.dim_mul_indices if dim_mul_in_attention else i + 1 in self.dim_mul_indices
            )
            out_dims = dims * dim_mul if widens else dims
            block = MultiScaleBlock(
                in_dims=dims,
                out_dims=out_dims,
                num_heads=num_heads,
                mlp_ratio=mlp_ratio,
                qkv_bias=qkv_bias,
                drop_path=float(drop_path_rates[i]),
                norm_cfg=norm_cfg,
                qkv_pool_kernel=pool_kernel,
                stride_q=stride_q,
                stride_kv=stride_kv,
                rel_pos_embed=rel_pos_embed,
                residual_pooling=residual_pooling,
                with_cls_token=with_cls_token,
                dim_mul_in_attention=dim_mul_in_attention,
                input_size=grid,
                rel_pos_zero_init=rel_pos_zero_init,
                with_q_pool=pool_q_every_block or i in self.downscale_indices,
            )
            self.blocks.append(block)
            grid, dims = block.init_out_size, out_dims
            if self.stage_indices.get(i) in self.out_scales:
                self.add_module(f'norm{self.stage_indices[i]}', build_norm_layer(norm_cfg, dims)[1])

    def init_weights(self) -> None:
        """Load ``pretrained`` (resizing MaskFeat's relative position tables), else ``init_cfg``
        plus truncated-normal relative position tables (and ``pos_embed``)."""
        if self.pretrained:
            from mmaction_ft.engine.weight_loading import load_pretrained

            convert = resize_rel_pos_state_dict if self.pretrained_type == 'maskfeat' else None
            load_pretrained(self, self.pretrained, convert=convert)
        else:
            super().init_weights()
            if self.use_abs_pos_embed:
                trunc_normal_(self.pos_embed, std=0.02)
        self._is_init = True

    def forward(self, x: torch.Tensor) -> Tuple[StageOutput, ...]:
        """Features of ``x`` ``[N, C, T, H, W]``: one entry per ``out_scales`` scale."""
        batch = x.shape[0]
        x, thw = self.patch_embed(x)  # [N, T'H'W', C], (T', H', W')
        x = torch.cat((self.cls_token.expand(batch, -1, -1), x), dim=1)  # [N, 1 + T'H'W', C]
        if self.use_abs_pos_embed:
            x = x + _resize_pos_embed(
                self.pos_embed, self.patch_resolution, thw, self.interpolate_mode
            )
        if not self.with_cls_token:
            x = x[:, 1:]  # [N, T'H'W', C]

        outs = []
        for i, block in enumerate(self.blocks):
            x, thw = block(x, thw)
            scale = self.stage_indices.get(i)
            if scale not in self.out_scales:
                continue
            x = getattr(self, f'norm{scale}')(x)
            tokens = x.transpose(1, 2)  # [N, C, L]
            channels = tokens.shape[1]
            start = int(self.with_cls_token)
            patch_tokens = tokens[:, :, start:].reshape(batch, channels, *thw)  # [N, C, T, H, W]
            if self.output_cls_token:
                outs.append([patch_tokens, tokens[:, :, 0]])  # [N, C, T, H, W], [N, C]
            else:
                outs.append(patch_tokens)
        return tuple(outs)


def _arch_settings(arch: Union[str, Dict], zoo: Mapping[str, Dict]) -> Dict:
    if isinstance(arch, str):
        if arch.lower() not in zoo:
            raise ValueError(f'MViT arch must be one of {sorted(zoo)} or a dict, got {arch!r}')
        return dict(zoo[arch.lower()])
    if not isinstance(arch, Mapping) or not set(_ARCH_KEYS) <= set(arch):
        raise ValueError(f'a custom MViT arch must be a dict with keys {_ARCH_KEYS}, got {arch!r}')
    return dict(arch)


def _out_scales(out_scales: Union[int, Sequence[int]], num_scales: int) -> List[int]:
    values = [out_scales] if isinstance(out_scales, int) else list(out_scales)
    resolved = []
    for value in values:
        index = value + num_scales if value < 0 else value
        if not 0 <= index < num_scales:
            raise ValueError(
                f'out_scales entries must be in [-{num_scales}, {num_scales - 1}] (this arch has '
                f'{num_scales} scales), got {value}'
            )
        resolved.append(index)
    return sorted(resolved)


def _resize_pos_embed(
    pos_embed: torch.Tensor, src_thw: Sequence[int], dst_thw: Sequence[int], mode: str
) -> torch.Tensor:
    """``[1, 1 + T * H * W, C]`` position embedding of grid ``src_thw`` -> of ``dst_thw``."""
    if tuple(src_thw) == tuple(dst_thw):
        return pos_embed
    channels = pos_embed.shape[-1]
    extra, grid = pos_embed[:, :1], pos_embed[:, 1:]
    grid = grid.reshape(1, *src_thw, channels).permute(0, 4, 1, 2, 3)  # [1, C, T, H, W]
    grid = F.interpolate(grid, size=tuple(dst_thw), mode=mode, align_corners=False)
    return torch.cat((extra, grid.flatten(2).transpose(1, 2)), dim=1)  # [1, 1 + T'H'W', C]


def resize_rel_pos_state_dict(
    state_dict: Mapping[str, torch.Tensor], model: MViT
) -> Dict[str, torch.Tensor]:
    """MaskFeat-pretrained MViT tensors -> ``model``'s, without changing ``state_dict``.

    MaskFeat pretrains at another input size, so each ``*.attn.rel_pos_{t,h,w}`` table
    ``[L1, C]`` is linearly interpolated to the model's ``[L2, C]`` (as MMAction2 does for
    ``pretrained_type='maskfeat'``). Tables whose width differs are left as they are, so the
    loader reports them. Other tensors pass through.

    Args:
        state_dict: The file's tensors, in this backbone's key layout.
        model: The backbone the result is for.

    Returns:
        A new state dict.
    """
    own = model.state_dict()
    out, resized = dict(state_dict), []
    for key, table in state_dict.items():
        if 'attn.rel_pos' not in key or key not in own:
            continue
        target = own[key]
        if table.shape[1] != target.shape[1] or table.shape[0] == target.shape[0]:
            continue
        table = F.interpolate(table.t().unsqueeze(0), size=target.shape[0], mode='linear')
        out[key] = table.reshape(target.shape[1], target.shape[0]).t()  # [L2, C]
        resized.append(key)
    if resized:
        print_log(
            f'MViT: resized {len(resized)} relative position tables to this input size',
            logger='current',
            level=logging.INFO,
        )
    return out
