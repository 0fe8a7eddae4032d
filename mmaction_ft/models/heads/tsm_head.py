"""The TSM classification head (Lin et al., TSM: Temporal Shift Module, ICCV 2019)."""

from typing import Dict, Optional

import torch
import torch.nn as nn
from mmengine.model import normal_init

from mmaction_ft.registry import MODELS

from .base_head import BaseHead


@MODELS.register_module()
class TSMHead(BaseHead):
    """Classify every frame, then merge the ``num_segments`` frames of each clip by consensus.

    Unlike :class:`TSNHead`, ``fc_cls`` runs before the consensus: the temporal shift already
    mixed the frames of a clip inside the backbone. A test batch with several clips (or crops)
    per video keeps one score row per clip; ``predict`` averages them (``average_clips``).

    Args:
        num_classes: Number of classes.
        in_channels: Channels of the backbone feature (2048 for ResNet-50).
        num_segments: Frames per clip, the backbone's ``num_segments``.
        loss_cls: Config of the classification loss.
        spatial_type: ``'avg'`` for global average pooling; anything else skips pooling.
        consensus: Config of the segmental consensus module (``AvgConsensus``).
        dropout_ratio: Dropout probability before ``fc_cls``; 0 disables it.
        init_std: Std of the normal initialisation of ``fc_cls``.
        is_shift: Whether the backbone shifts features (with ``temporal_pool``, it halves the
            frames).
        temporal_pool: Whether the backbone pools over time, leaving ``num_segments // 2``
            frames per clip when ``is_shift`` is set.
        **kwargs: ``multi_class``, ``label_smooth_eps``, ``topk``, ``average_clips``,
            ``init_cfg`` of :class:`BaseHead`.
    """

    def __init__(
        self,
        num_classes: int,
        in_channels: int,
        num_segments: int = 8,
        loss_cls: Dict = dict(type='CrossEntropyLoss'),  # noqa: B006 (never mutated)
        spatial_type: Optional[str] = 'avg',
        consensus: Dict = dict(type='AvgConsensus', dim=1),  # noqa: B006 (never mutated)
        dropout_ratio: float = 0.8,
        init_std: float = 0.001,
        is_shift: bool = True,
        temporal_pool: bool = False,
        **kwargs,
    ):
        super().__init__(num_classes, in_channels, loss_cls=loss_cls, **kwargs)
        if num_segments <= 0:
            raise ValueError(f'num_segments must be positive, got {num_segments}')
        self.num_segments = num_segments
        self.spatial_type = spatial_type
        self.dropout_ratio = dropout_ratio
        self.init_std = init_std
        self.is_shift = is_shift
        self.temporal_pool = temporal_pool
        self.consensus = MODELS.build(consensus)
        self.avg_pool = nn.AdaptiveAvgPool2d(1) if spatial_type == 'avg' else None
        self.dropout = nn.Dropout(p=dropout_ratio) if dropout_ratio != 0 else None
        self.fc_cls = nn.Linear(in_channels, num_classes)

    def init_weights(self) -> None:
        """Normal init of ``fc_cls`` with std ``init_std``, bias 0."""
        normal_init(self.fc_cls, std=self.init_std)
        self._is_init = True

    def forward(self, x: torch.Tensor, num_segs: int = 1, **kwargs) -> torch.Tensor:
        """Class scores of each clip.

        Args:
            x: Backbone features ``[N * num_views, C, H, W]``; every ``num_segments``
                consecutive frames form one clip.
            num_segs: Views per video; unused, the clip length is ``num_segments``.
            **kwargs: Ignored (the recognizer passes its extra head arguments).

        Returns:
            ``[N * num_clips, num_classes]`` where ``num_clips = num_views / num_segments``.
        """
        if self.avg_pool is not None:
            x = self.avg_pool(x)  # [N * num_views, C, 1, 1]
        x = x.flatten(1)  # [N * num_views, C]
        if self.dropout is not None:
            x = self.dropout(x)
        self._check_in_channels(x)
        cls_scores = self.fc_cls(x)  # [N * num_views, num_classes]
        frames = (
            self.num_segments // 2 if self.is_shift and self.temporal_pool else self.num_segments
        )
        if cls_scores.shape[0] % frames:
            raise ValueError(
                f'TSMHead got {cls_scores.shape[0]} frames, not a multiple of the '
                f'{frames} frames per clip (cls_head.num_segments={self.num_segments}); the '
                f'sampled clip_len x num_clips must match it'
            )
        cls_scores = cls_scores.view((-1, frames) + cls_scores.shape[1:])
        # [N * num_clips, frames, num_classes]
        return self.consensus(cls_scores).squeeze(1)  # [N * num_clips, num_classes]
