"""The classification head of MViTv2 (Li et al., CVPR 2022): a linear layer on the class token
of the last scale."""

from typing import Dict, List, Sequence, Union

import torch
import torch.nn as nn
from mmengine.model.weight_init import trunc_normal_init

from mmaction_ft.registry import MODELS

from .base_head import BaseHead


@MODELS.register_module()
class MViTHead(BaseHead):
    """Classify each view from the last output of :class:`MViT`: its class token, or the mean
    of its patch tokens.

    Args:
        num_classes: Number of classes.
        in_channels: Width of the last MViT scale (768 for small / base).
        loss_cls: Config of the classification loss.
        dropout_ratio: Dropout probability before ``fc_cls``; 0 disables it.
        init_std: Std of the truncated-normal init of ``fc_cls.weight`` (bias 0.02).
        init_scale: Factor applied to ``fc_cls``'s initial weight and bias.
        with_cls_token: Whether the backbone outputs ``[patch_tokens, cls_token]`` per scale
            (``output_cls_token=True``, the default); otherwise it outputs the patch tokens
            ``[N, C, T, H, W]``, which are averaged.
        **kwargs: ``multi_class``, ``label_smooth_eps``, ``topk``, ``average_clips``,
            ``init_cfg`` of :class:`BaseHead`.
    """

    def __init__(
        self,
        num_classes: int,
        in_channels: int,
        loss_cls: Dict = dict(type='CrossEntropyLoss'),  # noqa: B006 (never mutated)
        dropout_ratio: float = 0.5,
        init_std: float = 0.02,
        init_scale: float = 1.0,
        with_cls_token: bool = True,
        **kwargs,
    ):
        super().__init__(num_classes, in_channels, loss_cls=loss_cls, **kwargs)
        if not 0 <= dropout_ratio < 1:
            raise ValueError(f'dropout_ratio must be in [0, 1), got {dropout_ratio}')
        self.dropout_ratio = dropout_ratio
        self.init_std = init_std
        self.init_scale = init_scale
        self.with_cls_token = with_cls_token
        self.dropout = nn.Dropout(p=dropout_ratio) if dropout_ratio != 0 else None
        self.fc_cls = nn.Linear(in_channels, num_classes)

    def init_weights(self) -> None:
        """Truncated normal ``fc_cls.weight`` (std ``init_std``), bias 0.02, both times
        ``init_scale``: the init MMAction2 1.2.0 documents. (Its code passes the tensors to
        mmengine's module-level init functions, which then do nothing, so there ``fc_cls``
        keeps PyTorch's default init times ``init_scale``.)"""
        trunc_normal_init(self.fc_cls, std=self.init_std, bias=0.02)
        with torch.no_grad():
            self.fc_cls.weight.mul_(self.init_scale)
            self.fc_cls.bias.mul_(self.init_scale)
        self._is_init = True

    def pre_logits(self, feats: Sequence[Union[List[torch.Tensor], torch.Tensor]]) -> torch.Tensor:
        """The ``[N * num_views, C]`` feature of the last scale of ``feats``."""
        last = feats[-1]
        if self.with_cls_token:
            if not isinstance(last, (list, tuple)) or len(last) != 2:
                raise ValueError(
                    'MViTHead(with_cls_token=True) needs [patch_tokens, cls_token] per scale: '
                    'set backbone.output_cls_token=True, or cls_head.with_cls_token=False'
                )
            return last[1]  # [N * num_views, C]
        if isinstance(last, (list, tuple)):
            raise ValueError(
                'MViTHead(with_cls_token=False) needs the patch tokens alone: set '
                'backbone.output_cls_token=False, or cls_head.with_cls_token=True'
            )
        return last.mean(dim=(2, 3, 4))  # [N * num_views, C]

    def forward(
        self, x: Sequence[Union[List[torch.Tensor], torch.Tensor]], **kwargs
    ) -> torch.Tensor:
        """Class scores of each view.

        Args:
            x: The backbone's tuple of per-scale outputs; only the last is used.
            **kwargs: Ignored (``num_segs``: every view keeps its row).

        Returns:
            ``[N * num_views, num_classes]``.
        """
        x = self.pre_logits(x)
        if self.dropout is not None:
            x = self.dropout(x)
        self._check_in_channels(x)
        return self.fc_cls(x)  # [N * num_views, num_classes]
