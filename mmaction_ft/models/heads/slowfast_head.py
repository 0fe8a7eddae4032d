"""The SlowFast classification head (Feichtenhofer et al., SlowFast Networks, ICCV 2019)."""

from typing import Dict, Optional, Sequence

import torch

from mmaction_ft.registry import MODELS

from .i3d_head import I3DHead


@MODELS.register_module()
class SlowFastHead(I3DHead):
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
        super().__init__(
            num_classes,
            in_channels,
            loss_cls=loss_cls,
            spatial_type=spatial_type,
            dropout_ratio=dropout_ratio,
            init_std=init_std,
            **kwargs,
        )

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
        return self._classify(x, f' = fast {x_fast[0].numel()} + slow {x_slow[0].numel()}')
