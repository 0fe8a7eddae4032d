"""The two-layer MLP of a transformer block, in mmcv's ``FFN`` key layout.

MMAction2's transformers (TimeSformer, the VideoMAE ViT) use mmcv's ``FFN``, whose state dict
reads ``layers.0.0.weight`` (first linear) and ``layers.1.weight`` (second linear). This module
keeps those names without importing ``mmcv.cnn.bricks.transformer`` (which warns about missing
compiled ops under mmcv-lite); residual connections and drop path stay with the caller.
"""

import torch
import torch.nn as nn


class TransformerFFN(nn.Module):
    """``Linear -> GELU -> Dropout -> Linear -> Dropout`` on the last dimension.

    Args:
        embed_dims: Input and output channels.
        feedforward_channels: Hidden channels (``embed_dims * mlp_ratio``).
        ffn_drop: Dropout probability after the activation and after the second linear.
    """

    def __init__(self, embed_dims: int, feedforward_channels: int, ffn_drop: float = 0.0):
        super().__init__()
        if embed_dims <= 0 or feedforward_channels <= 0:
            raise ValueError(
                f'TransformerFFN embed_dims and feedforward_channels must be positive, got '
                f'{embed_dims} and {feedforward_channels}'
            )
        self.embed_dims = embed_dims
        self.feedforward_channels = feedforward_channels
        self.layers = nn.Sequential(
            nn.Sequential(
                nn.Linear(embed_dims, feedforward_channels), nn.GELU(), nn.Dropout(ffn_drop)
            ),
            nn.Linear(feedforward_channels, embed_dims),
            nn.Dropout(ffn_drop),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[..., embed_dims] -> [..., embed_dims]`` (no residual)."""
        return self.layers(x)
