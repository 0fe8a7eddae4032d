"""Non-local block (Wang et al., "Non-local Neural Networks", CVPR 2018) for 3D backbones.

Every position of a ``[N, C, T, H, W]`` feature map attends to every other one; the result is
projected back to ``C`` channels and added to the input. The children follow the layout of
MMAction2 checkpoints (mmcv's ``NonLocal3d``): ``g`` / ``theta`` / ``phi`` / ``conv_out`` are
``ConvModule`` s (``g.conv.weight``, ``conv_out.bn.weight``); with ``sub_sample`` the keys and
values are max-pooled and ``g`` / ``phi`` become ``Sequential(conv, pool)`` (``g.0.conv.weight``).
"""

from typing import Dict, Optional

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.model import constant_init, normal_init

NON_LOCAL_MODES = ('embedded_gaussian', 'gaussian', 'dot_product')


class NonLocal3d(nn.Module):
    """Non-local block on ``[N, C, T, H, W]`` features, output of the same shape.

    Args:
        in_channels: Channels of the input (and of the output).
        sub_sample: Max-pool keys and values 2x spatially (paper, sec. 3.3), which divides the
            cost of the pairwise product by 4.
        reduction: The embedding has ``in_channels // reduction`` channels (at least 1).
        use_scale: Divide the ``'embedded_gaussian'`` affinities by ``sqrt(embedding channels)``
            before the softmax.
        conv_cfg: Conv layer config of the 1x1x1 projections.
        norm_cfg: Norm after the output projection (None: no norm, the conv has a bias).
        mode: Pairwise function: ``'embedded_gaussian'`` (softmax of projected dot products),
            ``'gaussian'`` (softmax of raw dot products) or ``'dot_product'`` (projected dot
            products divided by the number of keys).
        std: Std of the normal init of the projections.
        zeros_init: Start with a zero output projection (its BN scale when ``norm_cfg`` is set),
            so the block is the identity until it learns something (paper, sec. 4.1).
    """

    def __init__(
        self,
        in_channels: int,
        sub_sample: bool = False,
        reduction: int = 2,
        use_scale: bool = True,
        conv_cfg: Dict = dict(type='Conv3d'),  # noqa: B006 (never mutated)
        norm_cfg: Optional[Dict] = None,
        mode: str = 'embedded_gaussian',
        std: float = 0.01,
        zeros_init: bool = True,
    ):
        super().__init__()
        if mode not in NON_LOCAL_MODES:
            raise ValueError(f'NonLocal3d mode must be one of {NON_LOCAL_MODES}, got {mode!r}')
        if reduction < 1:
            raise ValueError(f'NonLocal3d reduction must be >= 1, got {reduction}')
        self.in_channels = in_channels
        self.inter_channels = max(in_channels // reduction, 1)
        self.sub_sample = sub_sample
        self.use_scale = use_scale
        self.mode = mode

        def projection(cin: int, cout: int, norm: Optional[Dict] = None) -> ConvModule:
            return ConvModule(cin, cout, 1, conv_cfg=conv_cfg, norm_cfg=norm, act_cfg=None)

        self.g = projection(in_channels, self.inter_channels)
        self.conv_out = projection(self.inter_channels, in_channels, norm_cfg)
        # The gaussian mode compares raw features: no theta, and phi is only the pooling.
        if mode != 'gaussian':
            self.theta = projection(in_channels, self.inter_channels)
            self.phi = projection(in_channels, self.inter_channels)
        self.init_weights(std, zeros_init)
        if sub_sample:
            pool = nn.MaxPool3d(kernel_size=(1, 2, 2))
            self.g = nn.Sequential(self.g, pool)
            self.phi = nn.Sequential(self.phi, pool) if mode != 'gaussian' else pool

    def init_weights(self, std: float = 0.01, zeros_init: bool = True) -> None:
        """Normal projections; a zero (or normal) output projection."""
        for name in ('g', 'theta', 'phi'):
            module = getattr(self, name, None)
            if isinstance(module, nn.Sequential):
                module = module[0]
            if isinstance(module, ConvModule):
                normal_init(module.conv, std=std)
        out = self.conv_out.norm if self.conv_out.with_norm else self.conv_out.conv
        if zeros_init:
            constant_init(out, 0)
        else:
            normal_init(out, std=std)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x + W_z(f(x) g(x))`` for ``x`` of shape ``[N, C, T, H, W]``."""
        n = x.size(0)
        value = self.g(x).reshape(n, self.inter_channels, -1).permute(0, 2, 1)  # [N, K, C']
        if self.mode == 'gaussian':
            query = x.reshape(n, self.in_channels, -1).permute(0, 2, 1)  # [N, THW, C]
            key = self.phi(x) if self.sub_sample else x
            key = key.reshape(n, self.in_channels, -1)  # [N, C, K]
        else:
            query = self.theta(x).reshape(n, self.inter_channels, -1).permute(0, 2, 1)
            key = self.phi(x).reshape(n, self.inter_channels, -1)  # [N, C', K]
        affinity = torch.matmul(query, key)  # [N, THW, K]
        if self.mode == 'dot_product':
            affinity = affinity / affinity.shape[-1]
        else:
            if self.mode == 'embedded_gaussian' and self.use_scale:
                affinity = affinity / query.shape[-1] ** 0.5
            affinity = affinity.softmax(dim=-1)
        y = torch.matmul(affinity, value)  # [N, THW, C']
        y = y.permute(0, 2, 1).reshape(n, self.inter_channels, *x.shape[2:])  # [N, C', T, H, W]
        return x + self.conv_out(y)
