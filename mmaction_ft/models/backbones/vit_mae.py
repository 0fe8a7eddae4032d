"""The ViT that VideoMAE (Tong et al., NeurIPS 2022) and VideoMAE V2 (Wang et al., CVPR 2023)
finetune, in MMAction2 1.2.0's layout (``VisionTransformer`` of ``vit_mae.py``).

A clip is cut into ``tubelet_size x patch_size x patch_size`` tubelets (one 3D conv,
``patch_embed.projection``), a fixed sinusoidal (or learned) position embedding is added and
``depth`` pre-norm blocks (``blocks.<i>.{norm1,attn,norm2,mlp}``) follow. There is no class
token: the feature is the ``fc_norm`` of the mean token (``use_mean_pooling``), the first token
after ``norm`` otherwise, or the token grid ``[N, C, T', H', W']`` (``return_feat_map``, for
detection heads).
"""

from typing import Dict, List, Optional, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmcv.cnn.bricks import DropPath
from mmengine.model import BaseModule
from torch.utils.checkpoint import checkpoint

from mmaction_ft.registry import MODELS

from .transformer_ffn import TransformerFFN


def sinusoid_position_encoding(num_positions: int, embed_dims: int) -> torch.Tensor:
    """The fixed position table of "Attention Is All You Need" (Vaswani et al., 2017):
    channel ``2i`` is ``sin(pos / 10000^(2i / C))`` and channel ``2i + 1`` its cosine.

    Computed in float64 and returned as float32 ``[1, num_positions, embed_dims]`` (the
    values of MMAction2's table).
    """
    channel = torch.arange(embed_dims, dtype=torch.float64)
    frequency = torch.pow(10000, -(channel - channel % 2) / embed_dims)  # [C]
    table = torch.arange(num_positions, dtype=torch.float64)[:, None] * frequency  # [L, C]
    table[:, 0::2] = table[:, 0::2].sin()
    table[:, 1::2] = table[:, 1::2].cos()
    return table.float().unsqueeze(0)  # [1, L, C]


class Attention(nn.Module):
    """Multi-head self-attention with BEiT-style biases: learned ``q_bias`` and ``v_bias``, a
    zero key bias (``qkv`` itself has none).

    Args:
        embed_dims: Token channels.
        num_heads: Attention heads.
        qkv_bias: Whether to have ``q_bias`` / ``v_bias``.
        qk_scale: Attention scale; None (or 0) means ``head_dims ** -0.5``.
        attn_drop_rate: Dropout on the attention weights.
        drop_rate: Dropout after ``proj``.
    """

    def __init__(
        self,
        embed_dims: int,
        num_heads: int,
        qkv_bias: bool = True,
        qk_scale: Optional[float] = None,
        attn_drop_rate: float = 0.0,
        drop_rate: float = 0.0,
    ):
        super().__init__()
        self.num_heads = num_heads
        self.scale = qk_scale or (embed_dims // num_heads) ** -0.5
        self.attn_drop_rate = attn_drop_rate
        if qkv_bias:
            self.q_bias = nn.Parameter(torch.zeros(embed_dims))
            self.v_bias = nn.Parameter(torch.zeros(embed_dims))
        else:
            self.q_bias = self.v_bias = None
        self.qkv = nn.Linear(embed_dims, embed_dims * 3, bias=False)
        self.proj = nn.Linear(embed_dims, embed_dims)
        self.proj_drop = nn.Dropout(drop_rate)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[N, L, C] -> [N, L, C]``."""
        n, length, c = x.shape
        bias = None
        if self.q_bias is not None:
            bias = torch.cat((self.q_bias, torch.zeros_like(self.v_bias), self.v_bias))
        qkv = F.linear(x, self.qkv.weight, bias)  # [N, L, 3 * C]
        q, k, v = qkv.reshape(n, length, 3, self.num_heads, -1).permute(2, 0, 3, 1, 4)
        # each [N, heads, L, C / heads]
        x = F.scaled_dot_product_attention(
            q, k, v, dropout_p=self.attn_drop_rate if self.training else 0.0, scale=self.scale
        )
        x = x.transpose(1, 2).reshape(n, length, c)  # [N, L, C]
        return self.proj_drop(self.proj(x))


class Block(nn.Module):
    """``x + drop_path(gamma_1 * attn(norm1(x)))``, then the same with ``mlp`` / ``norm2``.

    Args:
        embed_dims: Token channels.
        num_heads: Attention heads.
        mlp_ratio: Hidden channels of ``mlp`` over ``embed_dims``.
        qkv_bias, qk_scale, attn_drop_rate: See :class:`Attention`.
        drop_rate: Dropout after the attention projection and inside the MLP.
        drop_path_rate: Stochastic depth of both residual branches.
        init_values: Initial value of the layer-scale vectors ``gamma_1`` / ``gamma_2``
            (CaiT); 0 means no layer scale.
        norm_cfg: Norm layer config.
    """

    def __init__(
        self,
        embed_dims: int,
        num_heads: int,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        qk_scale: Optional[float] = None,
        drop_rate: float = 0.0,
        attn_drop_rate: float = 0.0,
        drop_path_rate: float = 0.0,
        init_values: float = 0.0,
        norm_cfg: Dict = dict(type='LN', eps=1e-6),  # noqa: B006 (never mutated)
    ):
        super().__init__()
        self.norm1 = build_norm_layer(norm_cfg, embed_dims)[1]
        self.attn = Attention(embed_dims, num_heads, qkv_bias, qk_scale, attn_drop_rate, drop_rate)
        self.drop_path = DropPath(drop_path_rate) if drop_path_rate > 0 else nn.Identity()
        self.norm2 = build_norm_layer(norm_cfg, embed_dims)[1]
        self.mlp = TransformerFFN(embed_dims, int(embed_dims * mlp_ratio), ffn_drop=drop_rate)
        if init_values > 0:
            self.gamma_1 = nn.Parameter(torch.full((embed_dims,), float(init_values)))
            self.gamma_2 = nn.Parameter(torch.full((embed_dims,), float(init_values)))
        else:
            self.gamma_1 = self.gamma_2 = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[N, L, C] -> [N, L, C]``."""
        attn = self.attn(self.norm1(x))
        if self.gamma_1 is not None:
            attn = self.gamma_1 * attn
        x = x + self.drop_path(attn)
        mlp = self.mlp(self.norm2(x))
        if self.gamma_2 is not None:
            mlp = self.gamma_2 * mlp
        return x + self.drop_path(mlp)


@MODELS.register_module()
class VisionTransformer(BaseModule):
    """VideoMAE's ViT: ``[N, C, T, H, W]`` clips -> ``[N, embed_dims]`` features.

    Args:
        img_size: Frame side the position embedding is made for; other sizes get it resized
            bicubically at every forward.
        patch_size: Spatial side of a tubelet.
        in_channels: Input channels.
        embed_dims: Token channels.
        depth: Number of blocks.
        num_heads: Attention heads; must divide ``embed_dims``.
        mlp_ratio: Hidden channels of the MLPs over ``embed_dims``.
        qkv_bias: Learned query and value biases in the attention.
        qk_scale: Attention scale; None means ``head_dims ** -0.5``.
        drop_rate: Dropout after the position embedding, the attention projection and in the
            MLPs.
        attn_drop_rate: Dropout on the attention weights.
        drop_path_rate: Stochastic depth of the last block; linear from 0 at the first.
        norm_cfg: Norm layer config.
        fc_norm_cfg: Config of ``fc_norm`` (with ``use_mean_pooling``); None means
            ``norm_cfg``. Hugging Face's VideoMAE uses ``nn.LayerNorm``'s default eps there.
        init_values: Layer scale (``gamma_1`` / ``gamma_2``) init; 0 disables layer scale.
            (MMAction2 only creates them for a float; here any positive number does.)
        use_learnable_pos_emb: A learned position embedding (a parameter, truncated-normal
            init) instead of the sinusoidal table (a buffer, saved in the state dict).
        num_frames: Frames T of a clip, for the size of the position embedding.
        tubelet_size: Temporal side of a tubelet; must divide ``num_frames``.
        use_mean_pooling: Feature = ``fc_norm`` of the mean of all tokens (VideoMAE
            finetuning); False: ``norm`` of all tokens, then the first one.
        pretrained: Backbone-only weights in this layout (e.g. an MMAction2 VideoMAE
            checkpoint), loaded by ``init_weights`` after the ``init_cfg`` init. MMAction2
            1.2.0 accepts this argument but never loads it.
        return_feat_map: Return the token grid ``[N, embed_dims, T', H', W']`` (after ``norm``,
            before pooling) instead of one vector per clip.
        with_cp: Gradient checkpointing of every block while training: recompute activations
            in the backward pass to save memory (same outputs and gradients).
        init_cfg: mmengine init config; MMAction2's default is truncated-normal (std 0.02)
            linears with zero bias and unit LayerNorms.
    """

    def __init__(
        self,
        img_size: int = 224,
        patch_size: int = 16,
        in_channels: int = 3,
        embed_dims: int = 768,
        depth: int = 12,
        num_heads: int = 12,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        qk_scale: Optional[float] = None,
        drop_rate: float = 0.0,
        attn_drop_rate: float = 0.0,
        drop_path_rate: float = 0.0,
        norm_cfg: Dict = dict(type='LN', eps=1e-6),  # noqa: B006 (never mutated)
        fc_norm_cfg: Optional[Dict] = None,
        init_values: float = 0.0,
        use_learnable_pos_emb: bool = False,
        num_frames: int = 16,
        tubelet_size: int = 2,
        use_mean_pooling: bool = True,
        pretrained: Optional[str] = None,
        return_feat_map: bool = False,
        with_cp: bool = False,
        init_cfg: Optional[Union[Dict, List[Dict]]] = [  # noqa: B006 (never mutated)
            dict(type='TruncNormal', layer='Linear', std=0.02, bias=0.0),
            dict(type='Constant', layer='LayerNorm', val=1.0, bias=0.0),
        ],
    ):
        super().__init__(init_cfg=init_cfg)
        for name, value in [
            ('img_size', img_size),
            ('patch_size', patch_size),
            ('embed_dims', embed_dims),
            ('depth', depth),
            ('num_heads', num_heads),
            ('num_frames', num_frames),
            ('tubelet_size', tubelet_size),
        ]:
            if not isinstance(value, int) or value <= 0:
                raise ValueError(f'VisionTransformer {name} must be a positive int, got {value!r}')
        if img_size % patch_size:
            raise ValueError(
                f'VisionTransformer img_size={img_size} must be divisible by '
                f'patch_size={patch_size}'
            )
        if num_frames % tubelet_size:
            raise ValueError(
                f'VisionTransformer num_frames={num_frames} must be divisible by '
                f'tubelet_size={tubelet_size}'
            )
        if embed_dims % num_heads:
            raise ValueError(
                f'VisionTransformer embed_dims={embed_dims} must be divisible by '
                f'num_heads={num_heads}'
            )
        for name, value in [
            ('drop_rate', drop_rate),
            ('attn_drop_rate', attn_drop_rate),
            ('drop_path_rate', drop_path_rate),
        ]:
            if not 0 <= value < 1:
                raise ValueError(f'VisionTransformer {name} must be in [0, 1), got {value}')
        if pretrained is not None and not isinstance(pretrained, str):
            raise TypeError(
                f'VisionTransformer pretrained must be a path/URL string or None, '
                f'got {pretrained!r}'
            )

        self.embed_dims = embed_dims
        self.patch_size = patch_size
        self.tubelet_size = tubelet_size
        self.num_frames = num_frames
        self.pretrained = pretrained
        self.return_feat_map = return_feat_map
        self.with_cp = with_cp
        self.grid_size = (img_size // patch_size, img_size // patch_size)

        self.patch_embed = nn.Module()  # mmcv's PatchEmbed layout: ``patch_embed.projection``
        self.patch_embed.projection = nn.Conv3d(
            in_channels,
            embed_dims,
            kernel_size=(tubelet_size, patch_size, patch_size),
            stride=(tubelet_size, patch_size, patch_size),
        )
        num_patches = self.grid_size[0] * self.grid_size[1] * (num_frames // tubelet_size)
        if use_learnable_pos_emb:
            self.pos_embed = nn.Parameter(torch.zeros(1, num_patches, embed_dims))
            nn.init.trunc_normal_(self.pos_embed, std=0.02)
        else:
            self.register_buffer('pos_embed', sinusoid_position_encoding(num_patches, embed_dims))
        self.pos_drop = nn.Dropout(p=drop_rate)

        drop_path_rates = torch.linspace(0, drop_path_rate, depth, device='cpu').tolist()
        self.blocks = nn.ModuleList(
            Block(
                embed_dims,
                num_heads,
                mlp_ratio=mlp_ratio,
                qkv_bias=qkv_bias,
                qk_scale=qk_scale,
                drop_rate=drop_rate,
                attn_drop_rate=attn_drop_rate,
                drop_path_rate=rate,
                init_values=init_values,
                norm_cfg=norm_cfg,
            )
            for rate in drop_path_rates
        )
        if use_mean_pooling:
            self.norm = nn.Identity()
            self.fc_norm = build_norm_layer(fc_norm_cfg or norm_cfg, embed_dims)[1]
        else:
            self.norm = build_norm_layer(norm_cfg, embed_dims)[1]
            self.fc_norm = None

    def init_weights(self) -> None:
        """``init_cfg`` init, then ``pretrained`` (this model's own layout) if set."""
        super().init_weights()
        if self.pretrained:
            from mmaction_ft.engine.weight_loading import load_pretrained

            load_pretrained(
                self,
                self.pretrained,
                hint='is it a VideoMAE ViT checkpoint in MMAction2 layout, of the same size?',
            )

    def _position_embedding(self, grid: tuple) -> torch.Tensor:
        """``pos_embed`` for a token grid ``(T', H', W')``, resized bicubically per frame when
        the frames are not ``img_size``."""
        pos_embed = self.pos_embed  # [1, T0' * H0' * W0', C]
        if grid[1:] != self.grid_size:
            pos_embed = pos_embed.reshape(-1, *self.grid_size, self.embed_dims)
            # [T0', H0', W0', C]
            pos_embed = F.interpolate(
                pos_embed.permute(0, 3, 1, 2), size=grid[1:], mode='bicubic', align_corners=False
            )  # [T0', C, H', W']
            pos_embed = pos_embed.permute(0, 2, 3, 1).reshape(1, -1, self.embed_dims)
            # [1, T0' * H' * W', C]
        if pos_embed.shape[1] != grid[0] * grid[1] * grid[2]:
            raise ValueError(
                f'VisionTransformer: a clip of {grid[0] * self.tubelet_size} frames gives '
                f'{grid[0]} tubelets, but the position embedding was made for '
                f'num_frames={self.num_frames} ({self.num_frames // self.tubelet_size} tubelets)'
            )
        return pos_embed

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Features of a batch of clips.

        Args:
            x: ``[N, C, T, H, W]`` with ``T = num_frames`` and ``H, W`` multiples of
                ``patch_size``.

        Returns:
            ``[N, embed_dims]``, or ``[N, embed_dims, T', H', W']`` with ``return_feat_map``.
        """
        if x.ndim != 5:
            raise ValueError(
                f'VisionTransformer expects clips [N, C, T, H, W], got {list(x.shape)}'
            )
        x = self.patch_embed.projection(x)  # [N, C', T', H', W']
        n, c, *grid = x.shape
        x = x.flatten(2).transpose(1, 2)  # [N, T' * H' * W', C']
        x = self.pos_drop(x + self._position_embedding(tuple(grid)))

        for block in self.blocks:
            if self.with_cp and self.training and torch.is_grad_enabled():
                x = checkpoint(block, x, use_reentrant=False)
            else:
                x = block(x)
        x = self.norm(x)

        if self.return_feat_map:
            return x.reshape(n, *grid, c).permute(0, 4, 1, 2, 3)  # [N, C', T', H', W']
        if self.fc_norm is not None:
            return self.fc_norm(x.mean(dim=1))  # [N, C']
        return x[:, 0]  # [N, C']: the first tubelet's token, as MMAction2 does
