"""The TSN classification head (Wang et al., Temporal Segment Networks, ECCV 2016)."""

from typing import Dict, Optional

import torch
import torch.nn as nn
from mmengine.model import normal_init

from mmaction_ft.registry import MODELS

from .base_head import BaseHead


@MODELS.register_module()
class TSNHead(BaseHead):
    """Pool each view, merge the views of a video by consensus, then classify.

    At test time the recognizer passes every view of a video as a segment (25 clips x 10 crops
    = 250), so the views are averaged *before* ``fc_cls``, as in MMAction2 1.x.

    Args:
        num_classes: Number of classes.
        in_channels: Channels of the backbone feature (2048 for ResNet-50).
        loss_cls: Config of the classification loss.
        spatial_type: ``'avg'`` for global average pooling; anything else skips pooling (the
            input must then already be ``[N * num_segs, C]`` or ``[N * num_segs, C, 1, 1]``).
        consensus: Config of the segmental consensus module (``AvgConsensus``).
        dropout_ratio: Dropout probability before ``fc_cls``; 0 disables it.
        init_std: Std of the normal initialisation of ``fc_cls``.
        **kwargs: ``multi_class``, ``label_smooth_eps``, ``topk``, ``average_clips``,
            ``init_cfg`` of :class:`BaseHead`.
    """

    def __init__(
        self,
        num_classes: int,
        in_channels: int,
        loss_cls: Dict = dict(type='CrossEntropyLoss'),  # noqa: B006 (never mutated)
        spatial_type: Optional[str] = 'avg',
        consensus: Dict = dict(type='AvgConsensus', dim=1),  # noqa: B006 (never mutated)
        dropout_ratio: float = 0.4,
        init_std: float = 0.01,
        **kwargs,
    ):
        super().__init__(num_classes, in_channels, loss_cls=loss_cls, **kwargs)
        self.spatial_type = spatial_type
        self.dropout_ratio = dropout_ratio
        self.init_std = init_std
        self.consensus = MODELS.build(consensus)
        self.avg_pool = nn.AdaptiveAvgPool2d((1, 1)) if spatial_type == 'avg' else None
        self.dropout = nn.Dropout(p=dropout_ratio) if dropout_ratio != 0 else None
        self.fc_cls = nn.Linear(in_channels, num_classes)

    def init_weights(self) -> None:
        """Normal init of ``fc_cls`` with std ``init_std``, bias 0."""
        normal_init(self.fc_cls, std=self.init_std)
        self._is_init = True

    def forward(self, x: torch.Tensor, num_segs: int = 1, **kwargs) -> torch.Tensor:
        """Class scores of each video.

        Args:
            x: Backbone features ``[N * num_segs, C, H, W]``.
            num_segs: Views per video.
            **kwargs: Ignored (the recognizer passes its extra head arguments).

        Returns:
            ``[N, num_classes]``.
        """
        if isinstance(x, (tuple, list)):
            raise TypeError(
                'TSNHead takes one feature map; give the backbone a single out_indices entry'
            )
        if self.avg_pool is not None:
            x = self.avg_pool(x)  # [N * num_segs, C, 1, 1]
        x = x.reshape((-1, num_segs) + x.shape[1:])  # [N, num_segs, C, 1, 1]
        x = self.consensus(x)  # [N, 1, C, 1, 1]
        x = x.squeeze(1)  # [N, C, 1, 1]
        if self.dropout is not None:
            x = self.dropout(x)
        x = x.flatten(1)  # [N, C]
        self._check_in_channels(x)
        return self.fc_cls(x)  # [N, num_classes]
