"""Classification losses for single-label (softmax) and multi-label (sigmoid) heads."""

from typing import Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F

from mmaction_ft.registry import MODELS


def _as_class_weight(class_weight: Optional[Sequence[float]]) -> Optional[torch.Tensor]:
    if class_weight is None:
        return None
    return torch.as_tensor(class_weight, dtype=torch.float32)


@MODELS.register_module()
class CrossEntropyLoss(nn.Module):
    """Softmax cross entropy for hard labels ``[N]`` or soft labels ``[N, num_classes]``.

    Hard labels go through ``F.cross_entropy``. Soft labels (label smoothing, mixup, multi-label
    one-hot) give ``-(label * log_softmax(score)).sum(1)`` per sample; with ``class_weight`` the
    log-probabilities are weighted per class and the batch loss is divided by
    ``sum(class_weight * label)``, the soft-label analogue of ``F.cross_entropy``'s weighted
    mean (MMAction2 1.x does the same, so losses stay comparable).

    Args:
        loss_weight: Factor applied to the loss.
        class_weight: One weight per class, or None for equal weights.
    """

    def __init__(self, loss_weight: float = 1.0, class_weight: Optional[Sequence[float]] = None):
        super().__init__()
        self.loss_weight = loss_weight
        self.class_weight = _as_class_weight(class_weight)

    def forward(self, cls_score: torch.Tensor, label: torch.Tensor, **kwargs) -> torch.Tensor:
        """Compute the loss.

        Args:
            cls_score: Logits ``[N, num_classes]``.
            label: Class indices ``[N]`` or soft labels ``[N, num_classes]``.
            **kwargs: Passed to ``F.cross_entropy`` for hard labels.

        Returns:
            The scalar loss times ``loss_weight``.
        """
        weight = None if self.class_weight is None else self.class_weight.to(cls_score.device)
        if cls_score.shape == label.shape:
            log_prob = F.log_softmax(cls_score, dim=1)
            if weight is not None:
                log_prob = log_prob * weight.unsqueeze(0)
            per_sample = -(label * log_prob).sum(dim=1)
            if weight is None:
                loss = per_sample.mean()
            else:
                loss = per_sample.sum() / (weight.unsqueeze(0) * label).sum()
        else:
            loss = F.cross_entropy(cls_score, label, weight=weight, **kwargs)
        return self.loss_weight * loss


@MODELS.register_module()
class BCELossWithLogits(nn.Module):
    """Sigmoid binary cross entropy for multi-label targets ``[N, num_classes]``.

    Args:
        loss_weight: Factor applied to the loss.
        class_weight: One weight per class (``weight`` of ``F.binary_cross_entropy_with_logits``),
            or None.
    """

    def __init__(self, loss_weight: float = 1.0, class_weight: Optional[Sequence[float]] = None):
        super().__init__()
        self.loss_weight = loss_weight
        self.class_weight = _as_class_weight(class_weight)

    def forward(self, cls_score: torch.Tensor, label: torch.Tensor, **kwargs) -> torch.Tensor:
        """Compute the loss.

        Args:
            cls_score: Logits ``[N, num_classes]``.
            label: Targets in [0, 1] with the same shape as ``cls_score``.
            **kwargs: Passed to ``F.binary_cross_entropy_with_logits``.

        Returns:
            The scalar loss times ``loss_weight``.
        """
        if label.shape != cls_score.shape:
            raise ValueError(
                f'BCELossWithLogits needs labels shaped like the scores {tuple(cls_score.shape)} '
                f'(one-hot multi-label targets), got {tuple(label.shape)}'
            )
        weight = None if self.class_weight is None else self.class_weight.to(cls_score.device)
        loss = F.binary_cross_entropy_with_logits(
            cls_score, label.to(cls_score.dtype), weight=weight, **kwargs
        )
        return self.loss_weight * loss
