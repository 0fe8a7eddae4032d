"""(2+1)D convolution (Tran et al., "A Closer Look at Spatiotemporal Convolutions for Action
Recognition", CVPR 2018): a ``t x d x d`` conv factorised into a ``1 x d x d`` spatial conv, BN,
ReLU and a ``t x 1 x 1`` temporal conv.

Registered in ``MODELS`` so that ``conv_cfg=dict(type='Conv2plus1d')`` makes mmcv's
``ConvModule`` build it (``build_conv_layer`` looks in the registry of the default scope,
``mmaction_ft``). Its children read ``conv_s`` / ``bn_s`` / ``conv_t``: MMAction2's layout.
"""

from typing import Dict, Optional, Tuple, Union

import torch
import torch.nn as nn
from mmcv.cnn import build_norm_layer
from mmengine.model import constant_init, kaiming_init
from torch.nn.modules.utils import _triple

from mmaction_ft.registry import MODELS

IntOrTriple = Union[int, Tuple[int, int, int]]


@MODELS.register_module()
class Conv2plus1d(nn.Module):
    """A drop-in for ``nn.Conv3d`` (same constructor and attributes, which ``ConvModule``
    reads) made of a spatial and a temporal conv.

    The middle width ``M = floor(3 * d^2 * N_in * N_out / (d^2 * N_in + 3 * N_out))`` gives about
    the parameters of a 3 x d x d conv (paper, sec. 3.5). The 3 is fixed whatever the temporal
    kernel, as in MMAction2, so that 1x1x1 projections get the same widths as its checkpoints.

    Args:
        in_channels, out_channels, kernel_size, stride, padding: As for ``nn.Conv3d``;
            ``(t, h, w)`` order.
        dilation: Accepted for the ``nn.Conv3d`` interface and stored; both convs use 1.
        groups: Accepted and stored; both convs are dense (groups=1), as in MMAction2.
        bias: Bias in both convs.
        norm_cfg: Norm between the two convs. ``ConvModule`` does not pass its own ``norm_cfg``
            here, so this stays BN3d with default eps in R(2+1)D, as in MMAction2.
        mid_channels: The middle width ``M``; None computes it from this conv's own channels as
            above. torchvision's R(2+1)D sets it per block (see :class:`ResNet2Plus1d`).
    """

    def __init__(
        self,
        in_channels: int,
        out_channels: int,
        kernel_size: IntOrTriple,
        stride: IntOrTriple = 1,
        padding: IntOrTriple = 0,
        dilation: IntOrTriple = 1,
        groups: int = 1,
        bias: bool = True,
        norm_cfg: Dict = dict(type='BN3d'),  # noqa: B006 (never mutated)
        mid_channels: Optional[int] = None,
    ):
        super().__init__()
        kernel_size, stride, padding = _triple(kernel_size), _triple(stride), _triple(padding)
        # Attributes of nn.Conv3d that ConvModule and init code read.
        self.in_channels = in_channels
        self.out_channels = out_channels
        self.kernel_size = kernel_size
        self.stride = stride
        self.padding = padding
        self.dilation = dilation
        self.groups = groups
        self.bias = bias
        self.norm_cfg = norm_cfg
        self.output_padding = (0, 0, 0)
        self.transposed = False

        if mid_channels is None:
            spatial = kernel_size[1] * kernel_size[2]
            mid_channels = int(
                3
                * in_channels
                * out_channels
                * spatial
                / (in_channels * spatial + 3 * out_channels)
            )
        self.conv_s = nn.Conv3d(
            in_channels,
            mid_channels,
            kernel_size=(1, kernel_size[1], kernel_size[2]),
            stride=(1, stride[1], stride[2]),
            padding=(0, padding[1], padding[2]),
            bias=bias,
        )
        _, self.bn_s = build_norm_layer(norm_cfg, mid_channels)
        self.relu = nn.ReLU(inplace=True)
        self.conv_t = nn.Conv3d(
            mid_channels,
            out_channels,
            kernel_size=(kernel_size[0], 1, 1),
            stride=(stride[0], 1, 1),
            padding=(padding[0], 0, 0),
            bias=bias,
        )
        self.init_weights()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.relu(self.bn_s(self.conv_s(x)))  # [N, M, T, H', W']
        return self.conv_t(x)  # [N, out_channels, T', H', W']

    def init_weights(self) -> None:
        """Kaiming convs and unit BN (``ConvModule`` calls this instead of its own init)."""
        kaiming_init(self.conv_s)
        kaiming_init(self.conv_t)
        constant_init(self.bn_s, 1, bias=0)
