"""The SlowFast classification head (Feichtenhofer et al., SlowFast Networks, ICCV 2019)."""

from typing import Dict, Optional, Sequence

import torch
import torch.nn as nn
from mmengine.model import normal_init

from mmaction_ft.registry import MODELS

from .base_head import BaseHead


@MODELS.register_module()
class SlowFastHead(BaseHead):
    """Pool the slow and fast pathways, concatenate them (fast first, as in MMAction2, whose
    checkpoints' ``fc_cls`` columns follow that order), then classify each view.

    Args:
        num_classes: Number of classes.
        in_channels: Slow + fast channels (2048 + 256 = 2304 for SlowFast ResNet-50).
        loss_cls: Config of the classification loss.
        spatial_type: ``'avg'`` for global average pooling over ``T, H, W``; None when the
            pathways arrive already pooled.
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
        dropout_ratio: float = 0.8,
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

    def forward(self, x: Sequence[torch.Tensor], **kwargs) -> torch.Tensor:
        """Class scores of each view.

        Args:
            x: ``(slow, fast)`` pathway features, each ``[N * num_views, C_path, T_path, H, W]``.
            **kwargs: Ignored (``num_segs``: every view keeps its row).

        Returns:
            ``[N * num_views, num_classes]``.
        """
        if not isinstance(x, (tuple, list)) or len(x) != 2:
            raise TypeError(
                'SlowFastHead takes the (slow, fast) pathway features of a SlowFast backbone, '
                f'got {type(x).__name__}'
            )
        x_slow, x_fast = x
        if self.avg_pool is not None:
            x_slow = self.avg_pool(x_slow)  # [N * num_views, C_slow, 1, 1, 1]
            x_fast = self.avg_pool(x_fast)  # [N * num_views, C_fast, 1, 1, 1]
        x = torch.cat((x_fast, x_slow), dim=1)  # [N * num_views, C_fast + C_slow, 1, 1, 1]
        if self.dropout is not None:
            x = self.dropout(x)
        x = x.reshape(x.shape[0], -1)  # [N * num_views, C_fast + C_slow]
        self._check_in_channels(x, detail=f' = fast {x_fast[0].numel()} + slow {x_slow[0].numel()}')
        return self.fc_cls(x)  # [N * num_views, num_classes]
