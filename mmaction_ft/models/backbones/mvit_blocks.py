"""Building blocks of MViTv2 (Li et al., "MViTv2: Improved Multiscale Vision Transformers for
Classification and Detection", CVPR 2022), in MMAction2 1.2.0's key layout.

A block is pooling attention (sec. 3 of the paper: queries, keys and values are each pooled by a
depthwise 3D conv + LayerNorm, which is how the token grid shrinks between stages), decomposed
relative position embeddings along T, H and W (sec. 4.1), residual pooling (``q`` added back to
the attention output, sec. 4.2), then an MLP, each with a pre-norm residual. Tokens are
``[B, L, C]`` with ``L = (1 +) T * H * W``: the optional class token comes first.
"""

from typing import Dict, Optional, Sequence, Tuple

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_activation_layer, build_norm_layer
from mmcv.cnn.bricks import DropPath
from mmengine.model import BaseModule
from mmengine.model.weight_init import trunc_normal_

Size3d = Tuple[int, int, int]


def pool_tokens(
    x: torch.Tensor,
    pool: nn.Module,
    thw: Sequence[int],
    with_cls_token: bool,
    norm: Optional[nn.Module] = None,
) -> Tuple[torch.Tensor, Size3d]:
    """Pool the ``T x H x W`` grid of tokens with a 3D module, passing the class token through.

    Args:
        x: ``[B, heads, L, C]`` (per-head tokens) or ``[B, L, C]``.
        pool: A module on ``[B * heads, C, T, H, W]`` (a depthwise conv or a max pool).
        thw: The grid ``(T, H, W)`` of ``x``.
        with_cls_token: Whether token 0 is the class token (kept, not pooled).
        norm: Applied to all tokens after pooling (over ``C``).

    Returns:
        The pooled tokens, shaped like ``x``, and their grid ``(T', H', W')``.
    """
    per_head = x.ndim == 4
    if not per_head:
        x = x.unsqueeze(1)  # [B, 1, L, C]
    batch, heads, length, channels = x.shape
    t, h, w = thw
    if length != t * h * w + int(with_cls_token):
        raise ValueError(
            f'{length} tokens do not fit the grid {tuple(thw)}'
            f'{" plus a class token" if with_cls_token else ""}'
        )
    if with_cls_token:
        cls_token, x = x[:, :, :1], x[:, :, 1:]
    x = x.reshape(batch * heads, t, h, w, channels).permute(0, 4, 1, 2, 3)
    # [B * heads, C, T, H, W]
    x = pool(x.contiguous())
    out_thw = tuple(x.shape[2:])
    x = x.reshape(batch, heads, channels, -1).transpose(2, 3)  # [B, heads, T'H'W', C]
    if with_cls_token:
        x = torch.cat((cls_token, x), dim=2)
    if norm is not None:
        x = norm(x)
    return (x if per_head else x.squeeze(1)), out_thw


def _relative_table(rel_pos: torch.Tensor, q_size: int, k_size: int) -> torch.Tensor:
    """Embedding of each (query, key) offset along one axis: ``[q_size, k_size, C]``.

    The learned table has ``2 * max(q, k) - 1`` rows for the sizes of the configured input; at
    another input size it is linearly resized. When ``q`` and ``k`` have different lengths, the
    shorter axis' coordinates are scaled to the longer one (as in the MViTv2 reference code).
    """
    num_rows = 2 * max(q_size, k_size) - 1
    if rel_pos.shape[0] != num_rows:
        rel_pos = F.interpolate(
            rel_pos.transpose(0, 1).unsqueeze(0), size=num_rows, mode='linear'
        )  # [1, C, num_rows]
        rel_pos = rel_pos.squeeze(0).transpose(0, 1)  # [num_rows, C]
    q_ratio = max(k_size / q_size, 1.0)
    k_ratio = max(q_size / k_size, 1.0)
    q_coords = torch.arange(q_size)[:, None] * q_ratio
    k_coords = torch.arange(k_size)[None, :] * k_ratio
    offsets = q_coords - k_coords + (k_size - 1) * k_ratio  # [q_size, k_size], >= 0
    return rel_pos[offsets.long()]


def decomposed_rel_pos_bias(
    q: torch.Tensor,
    q_thw: Sequence[int],
    k_thw: Sequence[int],
    rel_pos_t: torch.Tensor,
    rel_pos_h: torch.Tensor,
    rel_pos_w: torch.Tensor,
) -> torch.Tensor:
    """The MViTv2 attention bias ``q . (R_t + R_h + R_w)`` of grid tokens (sec. 4.1).

    Args:
        q: Grid queries ``[B, heads, Tq * Hq * Wq, C]`` (no class token).
        q_thw: The query grid.
        k_thw: The key grid.
        rel_pos_t: Temporal table ``[rows, C]``; likewise ``rel_pos_h``, ``rel_pos_w``.

    Returns:
        ``[B, heads, Tq * Hq * Wq, Tk * Hk * Wk]``.
    """
    batch, heads, _, channels = q.shape
    (qt, qh, qw), (kt, kh, kw) = q_thw, k_thw
    r_t = _relative_table(rel_pos_t, qt, kt)  # [qt, kt, C]
    r_h = _relative_table(rel_pos_h, qh, kh)
    r_w = _relative_table(rel_pos_w, qw, kw)
    q = q.reshape(batch, heads, qt, qh, qw, channels)
    bias_t = torch.einsum('bythwc,tkc->bythwk', q, r_t)  # [B, heads, qt, qh, qw, kt]
    bias_h = torch.einsum('bythwc,hkc->bythwk', q, r_h)  # [..., kh]
    bias_w = torch.einsum('bythwc,wkc->bythwk', q, r_w)  # [..., kw]
    bias = (
        bias_t[..., :, None, None] + bias_h[..., None, :, None] + bias_w[..., None, None, :]
    )  # [B, heads, qt, qh, qw, kt, kh, kw]
    return bias.reshape(batch, heads, qt * qh * qw, kt * kh * kw)


class MLP(BaseModule):
    """``fc1 -> act -> fc2``, whose output width may differ from its input (unlike mmcv's FFN).

    Args:
        in_channels: Input channels.
        hidden_channels: Hidden channels; None means ``in_channels``.
        out_channels: Output channels; None means ``in_channels``.
        act_cfg: Activation config.
        init_cfg: mmengine initialisation config.
    """

    def __init__(
        self,
        in_channels: int,
        hidden_channels: Optional[int] = None,
        out_channels: Optional[int] = None,
        act_cfg: Dict = dict(type='GELU'),  # noqa: B006 (never mutated)
        init_cfg: Optional[Dict] = None,
    ):
        super().__init__(init_cfg=init_cfg)
        hidden_channels = hidden_channels or in_channels
        self.fc1 = nn.Linear(in_channels, hidden_channels)
        self.act = build_activation_layer(act_cfg)
        self.fc2 = nn.Linear(hidden_channels, out_channels or in_channels)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class MultiScaleAttention(BaseModule):
    """Multi-head pooling attention with decomposed relative positions and residual pooling.

    Args:
        in_dims: Input channels.
        out_dims: Output channels (split over the heads).
        num_heads: Attention heads.
        qkv_bias: Whether the ``qkv`` projection has a bias.
        norm_cfg: Norm applied to the pooled ``q``, ``k``, ``v`` (per head).
        pool_kernel: Kernel of the depthwise pooling convs (padding ``k // 2``).
        stride_q: Stride of the query pooling (``(1, 2, 2)`` where a stage starts).
        stride_kv: Stride of the key / value pooling.
        rel_pos_embed: Whether to add decomposed relative position embeddings.
        residual_pooling: Whether to add the pooled queries to the attention output.
        input_size: The token grid ``(T, H, W)`` of the configured input; sizes the relative
            position tables (``H == W`` is required for them).
        rel_pos_zero_init: Leave the relative position tables at zero in ``init_weights``
            instead of a truncated normal (std 0.02).
        with_cls_token: Whether token 0 is a class token.
        with_q_pool: Whether the queries are pooled (``pool_q`` / ``norm_q``). MViTv2 pools
            them in every block; MViTv1 (torchvision's ``mvit_v1_b``) only where
            ``stride_q`` > 1, elsewhere the queries pass unchanged.
        init_cfg: mmengine initialisation config.
    """

    def __init__(
        self,
        in_dims: int,
        out_dims: int,
        num_heads: int,
        qkv_bias: bool = True,
        norm_cfg: Dict = dict(type='LN'),  # noqa: B006 (never mutated)
        pool_kernel: Sequence[int] = (3, 3, 3),
        stride_q: Sequence[int] = (1, 1, 1),
        stride_kv: Sequence[int] = (1, 1, 1),
        rel_pos_embed: bool = True,
        residual_pooling: bool = True,
        input_size: Optional[Sequence[int]] = None,
        rel_pos_zero_init: bool = False,
        with_cls_token: bool = True,
        with_q_pool: bool = True,
        init_cfg: Optional[Dict] = None,
    ):
        super().__init__(init_cfg=init_cfg)
        if out_dims % num_heads:
            raise ValueError(f'out_dims={out_dims} must be divisible by num_heads={num_heads}')
        self.num_heads = num_heads
        self.in_dims = in_dims
        self.out_dims = out_dims
        self.with_cls_token = with_cls_token
        self.residual_pooling = residual_pooling
        self.rel_pos_embed = rel_pos_embed
        self.rel_pos_zero_init = rel_pos_zero_init
        head_dim = out_dims // num_heads
        self.scale = head_dim**-0.5

        self.qkv = nn.Linear(in_dims, out_dims * 3, bias=qkv_bias)
        self.proj = nn.Linear(out_dims, out_dims)
        padding = tuple(k // 2 for k in pool_kernel)
        pooled = (('q', stride_q),) if with_q_pool else ()
        self.with_q_pool = with_q_pool
        for name, stride in pooled + (('k', stride_kv), ('v', stride_kv)):
            pool = nn.Conv3d(
                head_dim,
                head_dim,
                tuple(pool_kernel),
                stride=tuple(stride),
                padding=padding,
                groups=head_dim,  # depthwise: pooling, not mixing channels
                bias=False,
            )
            self.add_module(f'pool_{name}', pool)
            self.add_module(f'norm_{name}', build_norm_layer(norm_cfg, head_dim)[1])

        if rel_pos_embed:
            if input_size is None or input_size[1] != input_size[2]:
                raise ValueError(
                    'rel_pos_embed needs a square token grid input_size=(T, H, W) with H == W, '
                    f'got {input_size}'
                )
            size = input_size[1]
            rows = 2 * max(size // stride_q[1], size // stride_kv[1]) - 1
            self.rel_pos_h = nn.Parameter(torch.zeros(rows, head_dim))
            self.rel_pos_w = nn.Parameter(torch.zeros(rows, head_dim))
            self.rel_pos_t = nn.Parameter(torch.zeros(2 * input_size[0] - 1, head_dim))

    def init_weights(self) -> None:
        """Truncated-normal (std 0.02) relative position tables unless ``rel_pos_zero_init``;
        the linear layers and norms are initialised by the backbone's ``init_cfg``."""
        if self.rel_pos_embed and not self.rel_pos_zero_init:
            for table in (self.rel_pos_h, self.rel_pos_w, self.rel_pos_t):
                trunc_normal_(table, std=0.02)
        self._is_init = True

    def forward(self, x: torch.Tensor, thw: Sequence[int]) -> Tuple[torch.Tensor, Size3d]:
        """Attend ``x`` ``[B, L, in_dims]`` on grid ``thw``; returns ``[B, L', out_dims]``
        and the pooled query grid."""
        batch, length, _ = x.shape
        qkv = self.qkv(x).reshape(batch, length, 3, self.num_heads, -1)
        q, k, v = qkv.permute(2, 0, 3, 1, 4).unbind(0)  # each [B, heads, L, head_dim]
        cls = self.with_cls_token
        q_thw = tuple(thw)
        if self.with_q_pool:
            q, q_thw = pool_tokens(q, self.pool_q, thw, cls, norm=self.norm_q)
        k, k_thw = pool_tokens(k, self.pool_k, thw, cls, norm=self.norm_k)
        v, _ = pool_tokens(v, self.pool_v, thw, cls, norm=self.norm_v)

        attn = (q * self.scale) @ k.transpose(-2, -1)  # [B, heads, Lq, Lk]
        if self.rel_pos_embed:
            start = int(cls)  # the class token gets no position bias
            bias = decomposed_rel_pos_bias(
                q[:, :, start:], q_thw, k_thw, self.rel_pos_t, self.rel_pos_h, self.rel_pos_w
            )
            attn = attn + F.pad(bias, (start, 0, start, 0))
        x = attn.softmax(dim=-1) @ v  # [B, heads, Lq, head_dim]
        if self.residual_pooling:
            if cls:
                x = torch.cat((x[:, :, :1], x[:, :, 1:] + q[:, :, 1:]), dim=2)
            else:
                x = x + q
        x = x.transpose(1, 2).reshape(batch, -1, self.out_dims)  # [B, Lq, out_dims]
        return self.proj(x), q_thw


class MultiScaleBlock(BaseModule):
    """Pre-norm MViTv2 block: pooling attention and an MLP, each with a residual.

    Where the width changes, the skip path gets a linear ``proj`` of the normalised input: in
    the attention residual (``dim_mul_in_attention=True``) or in the MLP residual. Where the
    queries are pooled, the skip path is max-pooled to the same grid (``pool_skip``).

    Args:
        in_dims: Input channels.
        out_dims: Output channels.
        num_heads: Attention heads.
        mlp_ratio: MLP hidden width / its input width.
        qkv_bias: Whether the ``qkv`` projection has a bias.
        drop_path: Stochastic depth rate of both residual branches.
        norm_cfg: Norm config.
        act_cfg: MLP activation config.
        qkv_pool_kernel: Kernel of the pooling convs.
        stride_q: Query pooling stride.
        stride_kv: Key / value pooling stride.
        rel_pos_embed: Whether attention adds relative position embeddings.
        residual_pooling: Whether attention adds the pooled queries back.
        with_cls_token: Whether token 0 is a class token.
        dim_mul_in_attention: Change the width in the attention (True) or in the MLP (False).
        input_size: Token grid of the configured input (sizes the relative position tables).
        rel_pos_zero_init: See :class:`MultiScaleAttention`.
        with_q_pool: See :class:`MultiScaleAttention`.
        init_cfg: mmengine initialisation config.
    """

    def __init__(
        self,
        in_dims: int,
        out_dims: int,
        num_heads: int,
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        drop_path: float = 0.0,
        norm_cfg: Dict = dict(type='LN'),  # noqa: B006 (never mutated)
        act_cfg: Dict = dict(type='GELU'),  # noqa: B006 (never mutated)
        qkv_pool_kernel: Sequence[int] = (3, 3, 3),
        stride_q: Sequence[int] = (1, 1, 1),
        stride_kv: Sequence[int] = (1, 1, 1),
        rel_pos_embed: bool = True,
        residual_pooling: bool = True,
        with_cls_token: bool = True,
        dim_mul_in_attention: bool = True,
        input_size: Optional[Sequence[int]] = None,
        rel_pos_zero_init: bool = False,
        with_q_pool: bool = True,
        init_cfg: Optional[Dict] = None,
    ):
        super().__init__(init_cfg=init_cfg)
        self.in_dims = in_dims
        self.out_dims = out_dims
        self.with_cls_token = with_cls_token
        self.dim_mul_in_attention = dim_mul_in_attention
        attn_dims = out_dims if dim_mul_in_attention else in_dims

        self.norm1 = build_norm_layer(norm_cfg, in_dims)[1]
        self.attn = MultiScaleAttention(
            in_dims,
            attn_dims,
            num_heads=num_heads,
            qkv_bias=qkv_bias,
            norm_cfg=norm_cfg,
            pool_kernel=qkv_pool_kernel,
            stride_q=stride_q,
            stride_kv=stride_kv,
            rel_pos_embed=rel_pos_embed,
            residual_pooling=residual_pooling,
            input_size=input_size,
            rel_pos_zero_init=rel_pos_zero_init,
            with_cls_token=with_cls_token,
            with_q_pool=with_q_pool,
        )
        self.drop_path = DropPath(drop_path) if drop_path > 0.0 else nn.Identity()
        self.norm2 = build_norm_layer(norm_cfg, attn_dims)[1]
        self.mlp = MLP(attn_dims, int(attn_dims * mlp_ratio), out_dims, act_cfg=act_cfg)
        self.proj = nn.Linear(in_dims, out_dims) if in_dims != out_dims else None

        if any(s > 1 for s in stride_q):
            # Max pool of kernel stride + 1 (MViTv2 reference code) on the skip path.
            kernel = [s + 1 if s > 1 else s for s in stride_q]
            self.pool_skip = nn.MaxPool3d(kernel, tuple(stride_q), [k // 2 for k in kernel])
            self.init_out_size = (
                None if input_size is None else [n // s for n, s in zip(input_size, stride_q)]
            )
        else:
            self.pool_skip = None
            self.init_out_size = input_size

    def forward(self, x: torch.Tensor, thw: Sequence[int]) -> Tuple[torch.Tensor, Size3d]:
        """``[B, L, in_dims]`` on grid ``thw`` -> ``[B, L', out_dims]`` and its grid."""
        x_norm = self.norm1(x)
        x_attn, out_thw = self.attn(x_norm, thw)
        skip = self.proj(x_norm) if self.dim_mul_in_attention and self.proj is not None else x
        if self.pool_skip is not None:
            skip, _ = pool_tokens(skip, self.pool_skip, thw, self.with_cls_token)
        x = skip + self.drop_path(x_attn)
        x_norm = self.norm2(x)
        skip = self.proj(x_norm) if not self.dim_mul_in_attention and self.proj is not None else x
        return skip + self.drop_path(self.mlp(x_norm)), out_thw


class MViTPatchEmbed(BaseModule):
    """A strided 3D conv that turns a clip into tokens (key ``projection``, as MMAction2's
    ``PatchEmbed3D`` of ``models/utils/embed.py``).

    Args:
        in_channels: Input channels.
        embed_dims: Token width.
        kernel_size: Conv kernel ``(t, h, w)``.
        stride: Conv stride.
        padding: Conv padding (numbers only: MMAction2 1.2.0's adaptive ``'corner'`` /
            ``'same'`` padding fails in its forward).
        dilation: Conv dilation.
        bias: Whether the conv has a bias.
        norm_cfg: Optional norm over the tokens (key ``norm``).
        input_size: The configured clip size ``(T, H, W)``; sets ``init_out_size``.
        init_cfg: mmengine initialisation config.
    """

    def __init__(
        self,
        in_channels: int = 3,
        embed_dims: int = 768,
        kernel_size: Sequence[int] = (2, 4, 4),
        stride: Optional[Sequence[int]] = (2, 4, 4),
        padding: Sequence[int] = (0, 0, 0),
        dilation: Sequence[int] = (1, 1, 1),
        bias: bool = True,
        norm_cfg: Optional[Dict] = None,
        input_size: Optional[Sequence[int]] = None,
        conv_type: str = 'Conv3d',
        init_cfg: Optional[Dict] = None,
    ):
        super().__init__(init_cfg=init_cfg)
        if conv_type != 'Conv3d':
            raise ValueError(f"patch_cfg.conv_type must be 'Conv3d', got {conv_type!r}")
        if isinstance(padding, str):
            raise ValueError(
                f'patch_cfg.padding must be numbers, e.g. (1, 3, 3), got {padding!r} (adaptive '
                'padding is not supported; it also fails in MMAction2 1.2.0)'
            )
        kernel_size, padding, dilation = _triple(kernel_size), _triple(padding), _triple(dilation)
        stride = kernel_size if stride is None else _triple(stride)
        self.embed_dims = embed_dims
        self.projection = nn.Conv3d(
            in_channels, embed_dims, kernel_size, stride, padding, dilation, bias=bias
        )
        self.norm = build_norm_layer(norm_cfg, embed_dims)[1] if norm_cfg else None
        self.init_out_size = None
        if input_size is not None:
            self.init_out_size = tuple(
                (n + 2 * p - d * (k - 1) - 1) // s + 1
                for n, p, d, k, s in zip(
                    _triple(input_size), padding, dilation, kernel_size, stride
                )
            )

    def forward(self, x: torch.Tensor) -> Tuple[torch.Tensor, Size3d]:
        """``[B, C, T, H, W]`` -> tokens ``[B, T' * H' * W', embed_dims]`` and ``(T', H', W')``."""
        x = self.projection(x)  # [B, embed_dims, T', H', W']
        thw = tuple(x.shape[2:])
        x = x.flatten(2).transpose(1, 2)  # [B, T'H'W', embed_dims]
        if self.norm is not None:
            x = self.norm(x)
        return x, thw


def _triple(value) -> Tuple[int, int, int]:
    return (value,) * 3 if isinstance(value, int) else tuple(value)
