"""Building blocks of the Video Swin Transformer (Liu et al., "Video Swin Transformer",
CVPR 2022), in MMAction2 1.2.0's key layout.

Self-attention runs inside non-overlapping 3D windows of ``Wd x Wh x Ww`` tokens, with a learned
bias per relative offset and head (``relative_position_bias_table``); every second block shifts
the windows by half a window (cyclic roll + a mask that keeps tokens from attending across the
wrap-around, sec. 3.2 of the paper). Features are channels-last ``[B, D, H, W, C]`` inside a
stage.
"""

from typing import Dict, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
import torch.utils.checkpoint as cp
from mmcv.cnn import build_activation_layer, build_norm_layer
from mmcv.cnn.bricks import DropPath
from mmengine.model import BaseModule, ModuleList
from mmengine.model.weight_init import trunc_normal_

Size3d = Tuple[int, int, int]
# Swin's attention mask value between tokens of different regions (its reference code).
_MASKED = -100.0


def window_partition(x: torch.Tensor, window_size: Sequence[int]) -> torch.Tensor:
    """``[B, D, H, W, C]`` (each a multiple of the window) -> ``[B * nW, Wd * Wh * Ww, C]``."""
    b, d, h, w, c = x.shape
    wd, wh, ww = window_size
    x = x.view(b, d // wd, wd, h // wh, wh, w // ww, ww, c)
    x = x.permute(0, 1, 3, 5, 2, 4, 6, 7).contiguous()  # [B, nD, nH, nW, Wd, Wh, Ww, C]
    return x.view(-1, wd * wh * ww, c)


def window_reverse(
    windows: torch.Tensor, window_size: Sequence[int], b: int, d: int, h: int, w: int
) -> torch.Tensor:
    """Inverse of :func:`window_partition`: ``[B * nW, Wd, Wh, Ww, C]`` -> ``[B, D, H, W, C]``."""
    wd, wh, ww = window_size
    x = windows.view(b, d // wd, h // wh, w // ww, wd, wh, ww, -1)
    x = x.permute(0, 1, 4, 2, 5, 3, 6, 7).contiguous()  # [B, nD, Wd, nH, Wh, nW, Ww, C]
    return x.view(b, d, h, w, -1)


def get_window_size(
    x_size: Sequence[int], window_size: Sequence[int], shift_size: Sequence[int]
) -> Tuple[Size3d, Size3d]:
    """The window and shift actually used: an axis no longer than the window is one window,
    unshifted."""
    window, shift = list(window_size), list(shift_size)
    for i, size in enumerate(x_size):
        if size <= window_size[i]:
            window[i], shift[i] = size, 0
    return tuple(window), tuple(shift)


def compute_mask(
    dhw: Sequence[int], window_size: Sequence[int], shift_size: Sequence[int], device
) -> torch.Tensor:
    """Attention mask of shifted windows: ``[nW, N, N]``, 0 within a region, -100 across.

    After the cyclic shift, the last window along each axis mixes tokens from the start and
    the end of the clip; labelling the 3 x 3 x 3 regions cut by the window and the shift and
    masking pairs with different labels keeps attention local.

    Args:
        dhw: The padded feature size ``(D, H, W)``, multiples of ``window_size``.
        window_size: The window.
        shift_size: The shift.
        device: Where to build it.
    """
    labels = torch.zeros((1, *dhw, 1), device=device)  # [1, D, H, W, 1]
    region = 0
    slices = [
        (slice(-win), slice(-win, -shift), slice(-shift, None))
        for win, shift in zip(window_size, shift_size)
    ]
    for sd in slices[0]:
        for sh in slices[1]:
            for sw in slices[2]:
                labels[:, sd, sh, sw, :] = region
                region += 1
    windows = window_partition(labels, window_size).squeeze(-1)  # [nW, N]
    mask = windows.unsqueeze(1) - windows.unsqueeze(2)  # [nW, N, N]
    return mask.masked_fill(mask != 0, _MASKED).masked_fill(mask == 0, 0.0)


class WindowAttention3D(BaseModule):
    """Multi-head self-attention inside windows, with a relative position bias table of
    ``(2Wd-1)(2Wh-1)(2Ww-1)`` rows (one per offset) x ``num_heads``.

    Args:
        embed_dims: Channels.
        window_size: ``(Wd, Wh, Ww)``.
        num_heads: Attention heads.
        qkv_bias: Whether ``qkv`` has a bias.
        qk_scale: Attention scale; None means ``head_dim ** -0.5``.
        attn_drop: Dropout on the attention weights.
        proj_drop: Dropout on the output.
        init_cfg: mmengine initialisation config.
    """

    def __init__(
        self,
        embed_dims: int,
        window_size: Sequence[int],
        num_heads: int,
        qkv_bias: bool = True,
        qk_scale: Optional[float] = None,
        attn_drop: float = 0.0,
        proj_drop: float = 0.0,
        init_cfg: Optional[Dict] = None,
    ):
        super().__init__(init_cfg=init_cfg)
        if embed_dims % num_heads:
            raise ValueError(f'embed_dims={embed_dims} must be divisible by num_heads={num_heads}')
        self.embed_dims = embed_dims
        self.window_size = tuple(window_size)
        self.num_heads = num_heads
        self.scale = qk_scale or (embed_dims // num_heads) ** -0.5
        wd, wh, ww = self.window_size
        self.relative_position_bias_table = nn.Parameter(
            torch.zeros((2 * wd - 1) * (2 * wh - 1) * (2 * ww - 1), num_heads)
        )
        self.register_buffer('relative_position_index', relative_position_index(self.window_size))
        self.qkv = nn.Linear(embed_dims, embed_dims * 3, bias=qkv_bias)
        self.attn_drop = nn.Dropout(attn_drop)
        self.proj = nn.Linear(embed_dims, embed_dims)
        self.proj_drop = nn.Dropout(proj_drop)
        trunc_normal_(self.relative_position_bias_table, std=0.02)

    def forward(self, x: torch.Tensor, mask: Optional[torch.Tensor] = None) -> torch.Tensor:
        """Attend ``x`` ``[B * nW, N, C]``; ``mask`` ``[nW, N, N]`` (0 / -100) or None."""
        b_nw, n, c = x.shape
        qkv = self.qkv(x).reshape(b_nw, n, 3, self.num_heads, c // self.num_heads)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # each [B * nW, heads, N, head_dim]
        attn = (q * self.scale) @ k.transpose(-2, -1)  # [B * nW, heads, N, N]
        index = self.relative_position_index[:n, :n].reshape(-1)
        bias = self.relative_position_bias_table[index].reshape(n, n, -1)  # [N, N, heads]
        attn = attn + bias.permute(2, 0, 1).unsqueeze(0)
        if mask is not None:
            num_windows = mask.shape[0]
            attn = attn.view(-1, num_windows, self.num_heads, n, n) + mask[None, :, None]
            attn = attn.view(-1, self.num_heads, n, n)  # [B * nW, heads, N, N]
        attn = self.attn_drop(attn.softmax(dim=-1))
        x = (attn @ v).transpose(1, 2).reshape(b_nw, n, c)  # [B * nW, N, C]
        return self.proj_drop(self.proj(x))


def relative_position_index(window_size: Sequence[int]) -> torch.Tensor:
    """``[N, N]`` row of the bias table for each (query, key) pair of a window's ``N`` tokens."""
    wd, wh, ww = window_size
    coords = torch.stack(
        torch.meshgrid(torch.arange(wd), torch.arange(wh), torch.arange(ww), indexing='ij')
    ).flatten(1)  # [3, N]
    offsets = (coords[:, :, None] - coords[:, None, :]).permute(1, 2, 0)  # [N, N, 3]
    offsets = offsets + torch.tensor([wd - 1, wh - 1, ww - 1])  # from 0
    return (offsets * torch.tensor([(2 * wh - 1) * (2 * ww - 1), 2 * ww - 1, 1])).sum(-1)


class Mlp(BaseModule):
    """``fc1 -> act -> drop -> fc2 -> drop``.

    Args:
        in_features: Input channels.
        hidden_features: Hidden channels; None means ``in_features``.
        out_features: Output channels; None means ``in_features``.
        act_cfg: Activation config.
        drop: Dropout rate.
        init_cfg: mmengine initialisation config.
    """

    def __init__(
        self,
        in_features: int,
        hidden_features: Optional[int] = None,
        out_features: Optional[int] = None,
        act_cfg: Dict = dict(type='GELU'),  # noqa: B006 (never mutated)
        drop: float = 0.0,
        init_cfg: Optional[Dict] = None,
    ):
        super().__init__(init_cfg=init_cfg)
        hidden_features = hidden_features or in_features
        self.fc1 = nn.Linear(in_features, hidden_features)
        self.act = build_activation_layer(act_cfg)
        self.fc2 = nn.Linear(hidden_features, out_features or in_features)
        self.drop = nn.Dropout(drop)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop(self.fc2(self.drop(self.act(self.fc1(x)))))


class SwinTransformerBlock3D(BaseModule):
    """(Shifted-)window attention and an MLP, each pre-norm with a residual.

    Args:
        embed_dims: Channels.
        num_heads: Attention heads.
        window_size: ``(Wd, Wh, Ww)``.
        shift_size: Window shift, each in ``[0, window)``; ``(0, 0, 0)`` for plain windows.
        mlp_ratio: MLP hidden width / channels.
        qkv_bias: Whether ``qkv`` has a bias.
        qk_scale: Attention scale override.
        drop: Dropout after the attention projection and in the MLP.
        attn_drop: Dropout on the attention weights.
        drop_path: Stochastic depth rate.
        act_cfg: MLP activation config.
        norm_cfg: Norm config.
        with_cp: Recompute the block in the backward pass (saves memory).
        init_cfg: mmengine initialisation config.
    """

    def __init__(
        self,
        embed_dims: int,
        num_heads: int,
        window_size: Sequence[int] = (8, 7, 7),
        shift_size: Sequence[int] = (0, 0, 0),
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        qk_scale: Optional[float] = None,
        drop: float = 0.0,
        attn_drop: float = 0.0,
        drop_path: float = 0.1,
        act_cfg: Dict = dict(type='GELU'),  # noqa: B006 (never mutated)
        norm_cfg: Dict = dict(type='LN'),  # noqa: B006 (never mutated)
        with_cp: bool = False,
        init_cfg: Optional[Dict] = None,
    ):
        super().__init__(init_cfg=init_cfg)
        for axis, (shift, win) in enumerate(zip(shift_size, window_size)):
            if not 0 <= shift < win:
                raise ValueError(
                    f'shift_size[{axis}]={shift} must be in [0, window_size[{axis}]={win})'
                )
        self.embed_dims = embed_dims
        self.num_heads = num_heads
        self.window_size = tuple(window_size)
        self.shift_size = tuple(shift_size)
        self.mlp_ratio = mlp_ratio
        self.with_cp = with_cp
        self.norm1 = build_norm_layer(norm_cfg, embed_dims)[1]
        self.attn = WindowAttention3D(
            embed_dims,
            window_size,
            num_heads,
            qkv_bias=qkv_bias,
            qk_scale=qk_scale,
            attn_drop=attn_drop,
            proj_drop=drop,
        )
        self.drop_path = DropPath(drop_path) if drop_path > 0.0 else nn.Identity()
        self.norm2 = build_norm_layer(norm_cfg, embed_dims)[1]
        self.mlp = Mlp(embed_dims, int(embed_dims * mlp_ratio), act_cfg=act_cfg, drop=drop)

    def _attention(self, x: torch.Tensor, mask: Optional[torch.Tensor]) -> torch.Tensor:
        """Norm, pad to whole windows, (shift,) attend per window, undo: ``[B, D, H, W, C]``."""
        b, d, h, w, c = x.shape
        window, shift = get_window_size((d, h, w), self.window_size, self.shift_size)
        x = self.norm1(x)
        pad_d, pad_h, pad_w = ((win - n % win) % win for n, win in zip((d, h, w), window))
        x = F.pad(x, (0, 0, 0, pad_w, 0, pad_h, 0, pad_d))  # [B, Dp, Hp, Wp, C]
        _, dp, hp, wp, _ = x.shape
        shifted = any(s > 0 for s in shift)
        if shifted:
            x = torch.roll(x, shifts=tuple(-s for s in shift), dims=(1, 2, 3))
        windows = self.attn(window_partition(x, window), mask if shifted else None)
        # [B * nW, Wd * Wh * Ww, C]
        x = window_reverse(windows.view(-1, *window, c), window, b, dp, hp, wp)
        # [B, Dp, Hp, Wp, C]
        if shifted:
            x = torch.roll(x, shifts=shift, dims=(1, 2, 3))
        if pad_d or pad_h or pad_w:
            x = x[:, :d, :h, :w, :].contiguous()
        return x

    def _mlp(self, x: torch.Tensor) -> torch.Tensor:
        return self.drop_path(self.mlp(self.norm2(x)))

    def forward(self, x: torch.Tensor, mask: Optional[torch.Tensor]) -> torch.Tensor:
        """``x`` ``[B, D, H, W, C]``; ``mask`` of :func:`compute_mask` (used when shifted)."""
        use_cp = self.with_cp and torch.is_grad_enabled()
        if use_cp:
            attn = cp.checkpoint(self._attention, x, mask, use_reentrant=False)
        else:
            attn = self._attention(x, mask)
        x = x + self.drop_path(attn)
        if use_cp:
            return x + cp.checkpoint(self._mlp, x, use_reentrant=False)
        return x + self._mlp(x)


class PatchMerging(BaseModule):
    """Halve H and W by concatenating each 2 x 2 neighbourhood (4C) and projecting to 2C.

    Args:
        embed_dims: Input channels ``C``.
        norm_cfg: Norm over the 4C concatenation.
        init_cfg: mmengine initialisation config.
    """

    def __init__(
        self,
        embed_dims: int,
        norm_cfg: Dict = dict(type='LN'),  # noqa: B006 (never mutated)
        init_cfg: Optional[Dict] = None,
    ):
        super().__init__(init_cfg=init_cfg)
        self.embed_dims = embed_dims
        self.mid_embed_dims = 4 * embed_dims
        self.out_embed_dims = 2 * embed_dims
        self.reduction = nn.Linear(self.mid_embed_dims, self.out_embed_dims, bias=False)
        self.norm = build_norm_layer(norm_cfg, self.mid_embed_dims)[1]

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, D, H, W, C]`` -> ``[B, D, ceil(H / 2), ceil(W / 2), 2C]``."""
        _, _, h, w, _ = x.shape
        if h % 2 or w % 2:
            x = F.pad(x, (0, 0, 0, w % 2, 0, h % 2))
        x = torch.cat(
            [x[:, :, 0::2, 0::2], x[:, :, 1::2, 0::2], x[:, :, 0::2, 1::2], x[:, :, 1::2, 1::2]],
            dim=-1,
        )  # [B, D, H / 2, W / 2, 4C]
        return self.reduction(self.norm(x))


class BasicLayer(BaseModule):
    """One stage: ``depth`` blocks alternating plain and shifted windows (shift = half the
    window), then an optional :class:`PatchMerging` (key ``downsample``).

    Args:
        embed_dims: Channels.
        depth: Number of blocks.
        num_heads: Attention heads.
        window_size: ``(Wd, Wh, Ww)``.
        mlp_ratio: MLP hidden width / channels.
        qkv_bias: Whether ``qkv`` has a bias.
        qk_scale: Attention scale override.
        drop: Dropout rate.
        attn_drop: Attention dropout rate.
        drop_paths: Stochastic depth rate, one for all blocks or one per block.
        act_cfg: MLP activation config.
        norm_cfg: Norm config.
        downsample: Whether the stage ends with a :class:`PatchMerging` (MMAction2 passes the
            class; any truthy value works here).
        with_cp: Recompute blocks in the backward pass.
        init_cfg: mmengine initialisation config.
    """

    def __init__(
        self,
        embed_dims: int,
        depth: int,
        num_heads: int,
        window_size: Sequence[int] = (8, 7, 7),
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        qk_scale: Optional[float] = None,
        drop: float = 0.0,
        attn_drop: float = 0.0,
        drop_paths: Union[float, Sequence[float]] = 0.0,
        act_cfg: Dict = dict(type='GELU'),  # noqa: B006 (never mutated)
        norm_cfg: Dict = dict(type='LN'),  # noqa: B006 (never mutated)
        downsample: bool = False,
        with_cp: bool = False,
        init_cfg: Optional[Dict] = None,
    ):
        super().__init__(init_cfg=init_cfg)
        self.embed_dims = embed_dims
        self.window_size = tuple(window_size)
        self.shift_size = tuple(i // 2 for i in window_size)
        self.depth = depth
        self.with_cp = with_cp
        if isinstance(drop_paths, (int, float)):
            drop_paths = [drop_paths] * depth
        if len(drop_paths) != depth:
            raise ValueError(f'drop_paths needs one rate per block ({depth}), got {drop_paths}')
        self.blocks = ModuleList(
            SwinTransformerBlock3D(
                embed_dims,
                num_heads,
                window_size=window_size,
                shift_size=(0, 0, 0) if i % 2 == 0 else self.shift_size,
                mlp_ratio=mlp_ratio,
                qkv_bias=qkv_bias,
                qk_scale=qk_scale,
                drop=drop,
                attn_drop=attn_drop,
                drop_path=drop_paths[i],
                act_cfg=act_cfg,
                norm_cfg=norm_cfg,
                with_cp=with_cp,
            )
            for i in range(depth)
        )
        self.downsample = PatchMerging(embed_dims, norm_cfg=norm_cfg) if downsample else None

    @property
    def out_embed_dims(self) -> int:
        return self.downsample.out_embed_dims if self.downsample is not None else self.embed_dims

    def forward(self, x: torch.Tensor, do_downsample: bool = True) -> torch.Tensor:
        """``[B, C, D, H, W]`` -> channels-last ``[B, D, H, W, C]`` (merged if
        ``do_downsample``)."""
        _, _, d, h, w = x.shape
        window, shift = get_window_size((d, h, w), self.window_size, self.shift_size)
        x = x.permute(0, 2, 3, 4, 1)  # [B, D, H, W, C]
        padded = tuple(-(-n // win) * win for n, win in zip((d, h, w), window))
        mask = compute_mask(padded, window, shift, x.device) if any(shift) else None
        for block in self.blocks:
            x = block(x, mask)
        if self.downsample is not None and do_downsample:
            x = self.downsample(x)
        return x


class PatchEmbed3D(BaseModule):
    """Non-overlapping ``patch_size`` patches -> ``embed_dims`` tokens (a strided 3D conv,
    key ``proj``; optional norm, key ``norm``). The clip is zero-padded at the end to whole
    patches.

    Args:
        patch_size: ``(pd, ph, pw)``.
        in_channels: Input channels.
        embed_dims: Token width.
        norm_cfg: Optional norm over the tokens.
        conv_cfg: Must be ``dict(type='Conv3d')`` (MMAction2's only use).
        init_cfg: mmengine initialisation config.
    """

    def __init__(
        self,
        patch_size: Union[int, Sequence[int]] = (2, 4, 4),
        in_channels: int = 3,
        embed_dims: int = 96,
        norm_cfg: Optional[Dict] = None,
        conv_cfg: Dict = dict(type='Conv3d'),  # noqa: B006 (never mutated)
        init_cfg: Optional[Dict] = None,
    ):
        super().__init__(init_cfg=init_cfg)
        if conv_cfg.get('type') != 'Conv3d':
            raise ValueError(f"conv_cfg must be dict(type='Conv3d'), got {conv_cfg}")
        self.patch_size = (patch_size,) * 3 if isinstance(patch_size, int) else tuple(patch_size)
        self.in_channels = in_channels
        self.embed_dims = embed_dims
        self.proj = nn.Conv3d(
            in_channels, embed_dims, kernel_size=self.patch_size, stride=self.patch_size
        )
        self.norm = build_norm_layer(norm_cfg, embed_dims)[1] if norm_cfg is not None else None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[B, C, D, H, W]`` -> ``[B, embed_dims, D / pd, H / ph, W / pw]`` (rounded up)."""
        pads = [(p - n % p) % p for n, p in zip(x.shape[2:], self.patch_size)]
        if any(pads):
            x = F.pad(x, (0, pads[2], 0, pads[1], 0, pads[0]))
        x = self.proj(x)  # [B, embed_dims, D', H', W']
        if self.norm is not None:
            d, h, w = x.shape[2:]
            x = self.norm(x.flatten(2).transpose(1, 2))  # [B, D'H'W', embed_dims]
            x = x.transpose(1, 2).reshape(-1, self.embed_dims, d, h, w)
        return x
