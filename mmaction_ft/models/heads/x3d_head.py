"""The X3D classification head (Feichtenhofer, X3D: Expanding Architectures, CVPR 2020)."""

from typing import Dict, Tuple

import torch
import torch.nn as nn
from mmengine.model import normal_init

from mmaction_ft.registry import MODELS

from .base_head import BaseHead

SPATIAL_TYPES = ('avg', 'max')


@MODELS.register_module()
class X3DHead(BaseHead):
    """Pool each view, expand it with ``fc1`` + ReLU, then classify it with ``fc2``.

    The classifier is ``fc2`` alone: finetuning to another class count keeps ``fc1``.

    Args:
        num_classes: Number of classes.
        in_channels: Channels of the backbone feature (432 for X3D-S/M).
        loss_cls: Config of the classification loss.
        spatial_type: ``'avg'`` or ``'max'`` global pooling over ``T, H, W``.
        dropout_ratio: Dropout probability before ``fc2``; 0 disables it.
        init_std: Std of the normal initialisation of ``fc1`` and ``fc2``.
        fc1_bias: Whether ``fc1`` has a bias (the published X3D checkpoints have none).
        mid_channels: Width of ``fc1``; 2048 in X3D, where MMAction2 hard-codes it.
        **kwargs: ``multi_class``, ``label_smooth_eps``, ``topk``, ``average_clips``,
            ``init_cfg`` of :class:`BaseHead`.
    """

    classifier_names: Tuple[str, ...] = ('fc2',)

    def __init__(
        self,
        num_classes: int,
        in_channels: int,
        loss_cls: Dict = dict(type='CrossEntropyLoss'),  # noqa: B006 (never mutated)
        spatial_type: str = 'avg',
        dropout_ratio: float = 0.5,
        init_std: float = 0.01,
        fc1_bias: bool = False,
        mid_channels: int = 2048,
        **kwargs,
    ):
        super().__init__(num_classes, in_channels, loss_cls=loss_cls, **kwargs)
        if spatial_type not in SPATIAL_TYPES:
            raise ValueError(f"X3DHead spatial_type must be 'avg' or 'max', got {spatial_type!r}")
        self.spatial_type = spatial_type
        self.dropout_ratio = dropout_ratio
        self.init_std = init_std
        self.fc1_bias = fc1_bias
        self.mid_channels = mid_channels
        self.fc1 = nn.Linear(in_channels, mid_channels, bias=fc1_bias)
        self.fc2 = nn.Linear(mid_channels, num_classes)
        self.relu = nn.ReLU()
        pool = nn.AdaptiveAvgPool3d if spatial_type == 'avg' else nn.AdaptiveMaxPool3d
        self.pool = pool(1)
        self.dropout = nn.Dropout(p=dropout_ratio) if dropout_ratio != 0 else None

    def init_weights(self) -> None:
        """Normal init of ``fc1`` and ``fc2`` with std ``init_std``, biases 0."""
        normal_init(self.fc1, std=self.init_std)
        normal_init(self.fc2, std=self.init_std)
        self._is_init = True

    def forward(self, x: torch.Tensor, **kwargs) -> torch.Tensor:
        """Class scores of each view.

        Args:
            x: Backbone features ``[N * num_views, C, T, H, W]``.
            **kwargs: Ignored (``num_segs``: every view keeps its row).

        Returns:
            ``[N * num_views, num_classes]``.
        """
        x = self.pool(x)  # [N * num_views, C, 1, 1, 1]
        x = x.reshape(x.shape[0], -1)  # [N * num_views, C]
        self._check_in_channels(x)
        x = self.relu(self.fc1(x))  # [N * num_views, mid_channels]
        if self.dropout is not None:
            x = self.dropout(x)
        return self.fc2(x)  # [N * num_views, num_classes]
