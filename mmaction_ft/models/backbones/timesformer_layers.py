"""The transformer layers of TimeSformer (Bertasius et al., ICML 2021), with the state-dict keys
that MMAction2 1.2.0 gets from mmcv's ``BaseTransformerLayer``.

Tokens are ``[N, 1 + P * T, C]``: one class token, then the patch tokens of every frame with
the patch index major and the frame index minor (token ``1 + p * T + t``).

* :class:`DividedSpaceTimeLayer` (``'divided_space_time'``): time attention among the T tokens of
  each patch, then space attention among the patches of each frame, then the MLP. Keys
  ``attentions.0.{norm,attn,temporal_fc}``, ``attentions.1.{norm,attn}``,
  ``ffns.0.{norm,layers}``.
* :class:`PreNormLayer` (``'joint_space_time'`` over all tokens, ``'space_only'`` over each
  frame): a plain pre-norm ViT layer. Keys ``norms.0``, ``attentions.0.attn``, ``norms.1``,
  ``ffns.0.layers``.

``attn`` is ``nn.MultiheadAttention`` (``in_proj_weight``, ``out_proj.weight`` ...), as in
MMAction2.
"""

from typing import Dict

import torch
import torch.nn as nn
from mmcv.cnn import build_norm_layer
from mmcv.cnn.bricks import DropPath

from .transformer_ffn import TransformerFFN


def _drop_path(rate: float) -> nn.Module:
    return DropPath(rate) if rate > 0 else nn.Identity()


class DividedTemporalAttention(nn.Module):
    """Pre-norm attention along time, per patch; the class token passes through unchanged.

    ``temporal_fc`` starts at zero, so a layer loaded from an image ViT starts as the identity
    along time.

    Args:
        embed_dims: Token channels.
        num_heads: Attention heads.
        num_frames: Frames T of the token layout.
        drop_path_rate: Stochastic depth of the residual branch.
        norm_cfg: Norm layer config.
    """

    def __init__(
        self, embed_dims: int, num_heads: int, num_frames: int, drop_path_rate: float, norm_cfg
    ):
        super().__init__()
        self.num_frames = num_frames
        self.norm = build_norm_layer(norm_cfg, embed_dims)[1]
        self.attn = nn.MultiheadAttention(embed_dims, num_heads, batch_first=True)
        self.dropout_layer = _drop_path(drop_path_rate)
        self.temporal_fc = nn.Linear(embed_dims, embed_dims)
        nn.init.zeros_(self.temporal_fc.weight)
        nn.init.zeros_(self.temporal_fc.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[N, 1 + P * T, C] -> [N, 1 + P * T, C]``."""
        cls_token, patches = x[:, :1], x[:, 1:]
        n, pt, c = patches.shape
        t = self.num_frames
        query = self.norm(patches.reshape(n * pt // t, t, c))  # [N * P, T, C]
        out = self.attn(query, query, query, need_weights=False)[0]
        out = self.temporal_fc(self.dropout_layer(out))
        out = out.reshape(n, pt, c)  # [N, P * T, C]
        return torch.cat((cls_token, patches + out), dim=1)


class DividedSpatialAttention(nn.Module):
    """Pre-norm attention among the patches of each frame, each frame with a copy of the class
    token; the class token's update is the mean over the frames.

    Args:
        embed_dims: Token channels.
        num_heads: Attention heads.
        num_frames: Frames T of the token layout.
        drop_path_rate: Stochastic depth of the residual branch.
        norm_cfg: Norm layer config.
    """

    def __init__(
        self, embed_dims: int, num_heads: int, num_frames: int, drop_path_rate: float, norm_cfg
    ):
        super().__init__()
        self.num_frames = num_frames
        self.norm = build_norm_layer(norm_cfg, embed_dims)[1]
        self.attn = nn.MultiheadAttention(embed_dims, num_heads, batch_first=True)
        self.dropout_layer = _drop_path(drop_path_rate)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[N, 1 + P * T, C] -> [N, 1 + P * T, C]``."""
        n, _, c = x.shape
        t = self.num_frames
        p = (x.shape[1] - 1) // t
        cls_token = x[:, :1].expand(n, t, c).reshape(n * t, 1, c)  # [N * T, 1, C]
        patches = x[:, 1:].reshape(n, p, t, c).transpose(1, 2).reshape(n * t, p, c)
        # [N * T, P, C]
        query = self.norm(torch.cat((cls_token, patches), dim=1))  # [N * T, 1 + P, C]
        out = self.dropout_layer(self.attn(query, query, query, need_weights=False)[0])
        cls_out = out[:, 0].reshape(n, t, c).mean(dim=1, keepdim=True)  # [N, 1, C]
        patch_out = out[:, 1:].reshape(n, t, p, c).transpose(1, 2).reshape(n, p * t, c)
        # [N, P * T, C]
        return x + torch.cat((cls_out, patch_out), dim=1)


class _FFNWithNorm(TransformerFFN):
    """Pre-norm MLP with its residual: keys ``layers`` and ``norm`` (mmcv's ``FFNWithNorm``)."""

    def __init__(self, embed_dims: int, drop_path_rate: float, norm_cfg: Dict):
        super().__init__(embed_dims, embed_dims * 4)
        self.dropout_layer = _drop_path(drop_path_rate)
        self.norm = build_norm_layer(norm_cfg, embed_dims)[1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.dropout_layer(super().forward(self.norm(x)))


class DividedSpaceTimeLayer(nn.Module):
    """Time attention, space attention, MLP; each pre-norm with a residual.

    Args:
        embed_dims: Token channels.
        num_heads: Attention heads.
        num_frames: Frames T of the token layout.
        drop_path_rate: Stochastic depth of each residual branch.
        norm_cfg: Norm layer config of the three branches.
    """

    def __init__(
        self,
        embed_dims: int,
        num_heads: int,
        num_frames: int,
        drop_path_rate: float,
        norm_cfg: Dict,
    ):
        super().__init__()
        args = (embed_dims, num_heads, num_frames, drop_path_rate, norm_cfg)
        self.attentions = nn.ModuleList(
            [DividedTemporalAttention(*args), DividedSpatialAttention(*args)]
        )
        self.ffns = nn.ModuleList([_FFNWithNorm(embed_dims, drop_path_rate, norm_cfg)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[N, 1 + P * T, C] -> [N, 1 + P * T, C]``."""
        for attention in self.attentions:
            x = attention(x)
        return self.ffns[0](x)


class _SelfAttention(nn.Module):
    """mmcv's ``MultiheadAttention`` layout: the torch module lives under ``attn``."""

    def __init__(self, embed_dims: int, num_heads: int):
        super().__init__()
        self.attn = nn.MultiheadAttention(embed_dims, num_heads, batch_first=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.attn(x, x, x, need_weights=False)[0]


class PreNormLayer(nn.Module):
    """``x + attn(norm(x))``, then ``x + mlp(norm(x))``, over every token of the sequence.

    Args:
        embed_dims: Token channels.
        num_heads: Attention heads.
        drop_path_rate: Stochastic depth of each residual branch.
        norm_cfg: Norm layer config.
    """

    def __init__(self, embed_dims: int, num_heads: int, drop_path_rate: float, norm_cfg: Dict):
        super().__init__()
        self.attentions = nn.ModuleList([_SelfAttention(embed_dims, num_heads)])
        self.ffns = nn.ModuleList([TransformerFFN(embed_dims, embed_dims * 4)])
        self.norms = nn.ModuleList([build_norm_layer(norm_cfg, embed_dims)[1] for _ in range(2)])
        self.drop_path = _drop_path(drop_path_rate)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[N, L, C] -> [N, L, C]``."""
        x = x + self.drop_path(self.attentions[0](self.norms[0](x)))
        return x + self.drop_path(self.ffns[0](self.norms[1](x)))
