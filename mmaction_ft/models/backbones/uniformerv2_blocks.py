"""The blocks of UniFormerV2 (Li et al., "UniFormerV2: Spatiotemporal Learning by Arming Image
ViTs with Video UniFormer", arXiv:2211.09552), in MMAction2 1.2.0's state-dict layout.

- :class:`LocalMHRA`: local temporal relation aggregation, a depthwise temporal conv between two
  pointwise convs (``pos_embed.0`` BN, ``pos_embed.1..3`` convs).
- :class:`LocalUniBlock`: one CLIP ViT block (``attn`` / ``ln_1`` / ``mlp.c_fc`` /
  ``mlp.c_proj`` / ``ln_2``, OpenAI names) with optional local MHRA before and after attention
  (``lmhra1`` / ``lmhra2``).
- :class:`GlobalUniBlock`: a query token attending to every token of every frame (a decoder
  layer with ``ln_1`` on the query, ``ln_3`` on the tokens).

Tokens travel in CLIP's sequence-first layout ``[L, N * T, C]``: ``L = 1 + H * W`` with the class
token first, the patch ``(h, w)`` at ``1 + h * W + w``, and the clip ``n``'s frame ``t`` at
``n * T + t``.
"""

from collections import OrderedDict

import torch
import torch.nn as nn
from mmcv.cnn.bricks import DropPath


class QuickGELU(nn.Module):
    """``x * sigmoid(1.702 x)``: the GELU approximation CLIP was trained with (OpenAI CLIP,
    ``clip/model.py``); swapping in the exact GELU changes a pretrained model's outputs."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(1.702 * x)


class LocalMHRA(nn.Module):
    """Local temporal aggregation of each patch over its neighbouring frames.

    Args:
        d_model: Channels of the tokens.
        dw_reduction: The middle conv has ``int(d_model // dw_reduction)`` channels.
        pos_kernel_size: Temporal kernel size of the depthwise conv (odd, padded to keep T).
    """

    def __init__(self, d_model: int, dw_reduction: float = 1.5, pos_kernel_size: int = 3):
        super().__init__()
        mid = int(d_model // dw_reduction)
        self.pos_embed = nn.Sequential(
            nn.BatchNorm3d(d_model),
            nn.Conv3d(d_model, mid, kernel_size=1),
            nn.Conv3d(
                mid,
                mid,
                kernel_size=(pos_kernel_size, 1, 1),
                padding=(pos_kernel_size // 2, 0, 0),
                groups=mid,
            ),
            nn.Conv3d(mid, d_model, kernel_size=1),
        )
        # The last conv starts at zero so the block starts as the identity around the CLIP
        # weights (UniFormerV2, sec. 3.2).
        nn.init.zeros_(self.pos_embed[3].weight)
        nn.init.zeros_(self.pos_embed[3].bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[N, C, T, H, W]`` -> the same shape (the residual is added by the caller)."""
        return self.pos_embed(x)


class LocalUniBlock(nn.Module):
    """A CLIP ViT block with local temporal MHRA around its self-attention.

    Args:
        d_model: Channels of the tokens.
        n_head: Attention heads.
        drop_path: Stochastic depth rate of every residual branch.
        dw_reduction: Channel reduction of the local MHRA (see :class:`LocalMHRA`).
        no_lmhra: Leave out the local MHRA: a plain CLIP block.
        double_lmhra: Add a second local MHRA after the attention (ignored with ``no_lmhra``).
    """

    def __init__(
        self,
        d_model: int,
        n_head: int,
        drop_path: float = 0.0,
        dw_reduction: float = 1.5,
        no_lmhra: bool = False,
        double_lmhra: bool = True,
    ):
        super().__init__()
        self.no_lmhra = no_lmhra
        self.double_lmhra = double_lmhra
        if not no_lmhra:
            self.lmhra1 = LocalMHRA(d_model, dw_reduction=dw_reduction)
            if double_lmhra:
                self.lmhra2 = LocalMHRA(d_model, dw_reduction=dw_reduction)
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        self.attn = nn.MultiheadAttention(d_model, n_head)
        self.ln_1 = nn.LayerNorm(d_model)
        self.mlp = nn.Sequential(
            OrderedDict(
                c_fc=nn.Linear(d_model, d_model * 4),
                gelu=QuickGELU(),
                c_proj=nn.Linear(d_model * 4, d_model),
            )
        )
        self.ln_2 = nn.LayerNorm(d_model)

    def _local_mhra(self, x: torch.Tensor, mhra: LocalMHRA, num_frames: int) -> torch.Tensor:
        """Add ``mhra`` of the patch tokens of ``x`` ``[L, N * T, C]``; the class token passes."""
        cls_token, patches = x[:1], x[1:]
        hw, nt, c = patches.shape
        n, side = nt // num_frames, int(hw**0.5)
        video = patches.reshape(side, side, n, num_frames, c).permute(2, 4, 3, 0, 1)
        # [N, C, T, H, W]
        video = video + self.drop_path(mhra(video.contiguous()))
        patches = video.reshape(n, c, num_frames, hw).permute(3, 0, 2, 1).reshape(hw, nt, c)
        # [H * W, N * T, C]
        return torch.cat([cls_token, patches], dim=0)

    def forward(self, x: torch.Tensor, num_frames: int = 8) -> torch.Tensor:
        """``[L, N * T, C]`` tokens of ``num_frames``-frame clips -> the same shape."""
        if not self.no_lmhra:
            x = self._local_mhra(x, self.lmhra1, num_frames)
        y = self.ln_1(x)
        x = x + self.drop_path(self.attn(y, y, y, need_weights=False)[0])
        if not self.no_lmhra and self.double_lmhra:
            x = self._local_mhra(x, self.lmhra2, num_frames)
        return x + self.drop_path(self.mlp(self.ln_2(x)))


class GlobalUniBlock(nn.Module):
    """Cross-attention of a video query token to all tokens of all frames, then an MLP.

    The output projections start at zero (and the input ones Xavier-uniform), so the query token
    passes unchanged until training moves them, as in MMAction2.

    Args:
        d_model: Channels of the query and of the tokens.
        n_head: Attention heads.
        mlp_factor: Hidden width of the MLP is ``round(mlp_factor * d_model)``.
        dropout: Dropout inside the MLP, after the activation.
        drop_path: Stochastic depth rate of both residual branches.
    """

    def __init__(
        self,
        d_model: int,
        n_head: int,
        mlp_factor: float = 4.0,
        dropout: float = 0.0,
        drop_path: float = 0.0,
    ):
        super().__init__()
        self.drop_path = DropPath(drop_path) if drop_path > 0 else nn.Identity()
        self.attn = nn.MultiheadAttention(d_model, n_head)
        self.ln_1 = nn.LayerNorm(d_model)
        d_mlp = round(mlp_factor * d_model)
        self.mlp = nn.Sequential(
            OrderedDict(
                c_fc=nn.Linear(d_model, d_mlp),
                gelu=QuickGELU(),
                dropout=nn.Dropout(dropout),
                c_proj=nn.Linear(d_mlp, d_model),
            )
        )
        self.ln_2 = nn.LayerNorm(d_model)
        self.ln_3 = nn.LayerNorm(d_model)
        nn.init.xavier_uniform_(self.attn.in_proj_weight)
        nn.init.zeros_(self.attn.out_proj.weight)
        nn.init.zeros_(self.attn.out_proj.bias)
        nn.init.xavier_uniform_(self.mlp.c_fc.weight)
        nn.init.zeros_(self.mlp.c_proj.weight)
        nn.init.zeros_(self.mlp.c_proj.bias)

    def forward(self, query: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
        """Update ``query`` ``[1, N, C]`` from ``tokens`` ``[T * L, N, C]``."""
        tokens = self.ln_3(tokens)
        attended = self.attn(self.ln_1(query), tokens, tokens, need_weights=False)[0]
        query = query + self.drop_path(attended)
        return query + self.drop_path(self.mlp(self.ln_2(query)))
