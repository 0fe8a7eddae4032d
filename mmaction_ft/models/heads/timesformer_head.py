"""The classification head of TimeSformer and of the VideoMAE ViT: one linear layer on the
backbone's clip feature."""

from typing import Dict

import torch
import torch.nn as nn
from mmengine.model import trunc_normal_init

from mmaction_ft.registry import MODELS

from .base_head import BaseHead


@MODELS.register_module()
class TimeSformerHead(BaseHead):
    """Classify each view's feature vector: one score row per view.

    Args:
        num_classes: Number of classes.
        in_channels: Channels of the backbone feature (``embed_dims``: 768 for ViT-B).
        loss_cls: Config of the classification loss.
        init_std: Std of the truncated-normal initialisation of ``fc_cls``.
        dropout_ratio: Dropout probability before ``fc_cls``; 0 disables it.
        **kwargs: ``multi_class``, ``label_smooth_eps``, ``topk``, ``average_clips``,
            ``init_cfg`` of :class:`BaseHead`.
    """

    classifier_names = ('fc_cls',)

    def __init__(
        self,
        num_classes: int,
        in_channels: int,
        loss_cls: Dict = dict(type='CrossEntropyLoss'),  # noqa: B006 (never mutated)
        init_std: float = 0.02,
        dropout_ratio: float = 0.0,
        **kwargs,
    ):
        super().__init__(num_classes, in_channels, loss_cls=loss_cls, **kwargs)
        if not 0 <= dropout_ratio < 1:
            raise ValueError(
                f'TimeSformerHead dropout_ratio must be in [0, 1), got {dropout_ratio}'
            )
        if init_std <= 0:
            raise ValueError(f'TimeSformerHead init_std must be positive, got {init_std}')
        self.init_std = init_std
        self.dropout_ratio = dropout_ratio
        self.dropout = nn.Dropout(p=dropout_ratio) if dropout_ratio != 0 else None
        self.fc_cls = nn.Linear(in_channels, num_classes)

    def init_weights(self) -> None:
        """Truncated-normal ``fc_cls`` with std ``init_std``, bias 0."""
        trunc_normal_init(self.fc_cls, std=self.init_std)
        self._is_init = True

    def forward(self, x: torch.Tensor, **kwargs) -> torch.Tensor:
        """Class scores of each view.

        Args:
            x: Backbone features ``[N * num_views, in_channels]``.
            **kwargs: Ignored (``num_segs``: every view keeps its row).

        Returns:
            ``[N * num_views, num_classes]``.
        """
        if x.ndim != 2:
            raise ValueError(
                f'TimeSformerHead expects one feature vector per view [N * num_views, '
                f'{self.in_channels}], got {list(x.shape)} (a backbone with '
                f'return_feat_map=True needs another head)'
            )
        self._check_in_channels(x)
        if self.dropout is not None:
            x = self.dropout(x)
        return self.fc_cls(x)  # [N * num_views, num_classes]
