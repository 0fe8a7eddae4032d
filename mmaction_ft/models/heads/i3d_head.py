"""The classification head of 3D CNNs: I3D (Carreira & Zisserman, CVPR 2017), and the same
layout in the C3D, R(2+1)D, CSN and SlowOnly configs."""

from typing import Dict, Optional

import torch
import torch.nn as nn
from mmengine.model import normal_init

from mmaction_ft.registry import MODELS

from .base_head import BaseHead


@MODELS.register_module()
class I3DHead(BaseHead):
    """Pool each view over time and space, then classify it: one score row per view.

    Args:
        num_classes: Number of classes.
        in_channels: Channels of the backbone feature (2048 for I3D ResNet-50, 4096 for C3D).
        loss_cls: Config of the classification loss.
        spatial_type: ``'avg'`` for global average pooling over ``T, H, W``; None takes the
            features as they are (C3D's ``[N * num_views, 4096]`` fc7 output).
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
        dropout_ratio: float = 0.5,
        init_std: float = 0.01,
        **kwargs,
    ):
        super().__init__(num_classes, in_channels, loss_cls=loss_cls, **kwargs)
        self.spatial_type = spatial_type
        self.dropout_ratio = dropout_ratio
        self.init_std = init_std
        self.avg_pool = nn.AdaptiveAvgPool3d(1) if spatial_type == 'avg' else None
        self.dropout = nn.Dropout(p=dropout_ratio) if dropout_ratio != 0 else None
        self.fc_cls = nn.Linear(in_channels, num_classes)

    def init_weights(self) -> None:
        """Normal init of ``fc_cls`` with std ``init_std``, bias 0."""
        normal_init(self.fc_cls, std=self.init_std)
        self._is_init = True

    def forward(self, x: torch.Tensor, **kwargs) -> torch.Tensor:
        """Class scores of each view.

        Args:
            x: Backbone features ``[N * num_views, C, T, H, W]`` (or ``[N * num_views, C]``
                with ``spatial_type=None``).
            **kwargs: Ignored (``num_segs``: every view keeps its row).

        Returns:
            ``[N * num_views, num_classes]``.
        """
        if self.avg_pool is not None:
            x = self.avg_pool(x)  # [N * num_views, C, 1, 1, 1]
        return self._classify(x)

    def _classify(self, x: torch.Tensor, detail: str = '') -> torch.Tensor:
        """Dropout and ``fc_cls`` on pooled features ``[N * num_views, C, (1, 1, 1)]``."""
        if self.dropout is not None:
            x = self.dropout(x)
        x = x.reshape(x.shape[0], -1)  # [N * num_views, C]
        self._check_in_channels(x, detail)
        return self.fc_cls(x)  # [N * num_views, num_classes]
