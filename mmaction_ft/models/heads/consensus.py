"""Segmental consensus: how TSN merges the per-view features of one video."""

import torch
import torch.nn as nn

from mmaction_ft.registry import MODELS


@MODELS.register_module()
class AvgConsensus(nn.Module):
    """Average over the view dimension, keeping it as size 1 (TSN, Wang et al. 2016).

    Args:
        dim: The view dimension of the input, 1 for ``[N, num_segs, ...]``.
    """

    def __init__(self, dim: int = 1):
        super().__init__()
        self.dim = dim

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Average ``x`` over ``dim``; ``[N, num_segs, C, ...]`` -> ``[N, 1, C, ...]``."""
        return x.mean(dim=self.dim, keepdim=True)

    def extra_repr(self) -> str:
        return f'dim={self.dim}'
