"""Classification losses for single-label (softmax) and multi-label (sigmoid) heads."""

from typing import Optional, Sequence, Union

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from mmaction_ft.registry import MODELS

AUTO = 'auto'


def _as_class_weight(class_weight: Optional[Sequence[float]]) -> Optional[torch.Tensor]:
    if class_weight is None:
        return None
    return torch.as_tensor(class_weight, dtype=torch.float32)


def inverse_frequency_weights(counts: Sequence[int]) -> torch.Tensor:
    """``class_weight='auto'``: ``w_c = N / (C * n_c)``, 0 for a class without samples.

    ``n_c`` is the number of training samples of class ``c`` (a multi-label sample counts for
    each of its classes), ``N = sum(n_c)`` and ``C`` the number of classes, so a class twice as
    frequent weighs half as much and, when every class has samples, the weights average 1 over
    the training samples (``sum(n_c * w_c) = N``), the unweighted loss's scale. The same formula
    as scikit-learn's ``class_weight='balanced'``. A class without samples can be neither
    predicted nor weighted from the data; its weight is 0 (the loss never sees its label).

    Args:
        counts: ``n_c`` for every class.

    Returns:
        ``[C]`` float32 weights.
    """
    counts = np.asarray(counts, dtype=np.float64)
    if counts.ndim != 1 or not counts.size or (counts < 0).any() or counts.sum() == 0:
        raise ValueError(f'class counts must be C >= 1 counts >= 0, not all 0; got {counts}')
    with np.errstate(divide='ignore'):
        weights = np.where(counts > 0, counts.sum() / (counts.size * counts), 0.0)
    return torch.as_tensor(weights, dtype=torch.float32)


@MODELS.register_module()
class CrossEntropyLoss(nn.Module):
    """Softmax cross entropy for hard labels ``[N]`` or soft labels ``[N, num_classes]``.

    Hard labels go through ``F.cross_entropy``. Soft labels (label smoothing, mixup, multi-label
    one-hot) give ``-(label * log_softmax(score)).sum(1)`` per sample; with ``class_weight`` the
    log-probabilities are weighted per class and the batch loss is divided by
    ``sum(class_weight * label)``, the soft-label analogue of ``F.cross_entropy``'s weighted
    mean (MMAction2 1.x does the same, so losses stay comparable).

    ``class_weight='auto'`` weights each class by its inverse frequency in the training list
    (:func:`inverse_frequency_weights`). The loss cannot see the data, so the weights are filled
    in before training by :meth:`set_class_counts`, which
    :class:`~mmaction_ft.engine.class_weight_hook.ClassWeightHook` calls (``ActionRunner`` adds
    that hook by itself when a loss asks for ``'auto'``); until then the loss refuses to run.

    Args:
        loss_weight: Factor applied to the loss.
        class_weight: One weight per class, ``'auto'`` (from the training labels' counts), or
            None for equal weights.
    """

    def __init__(
        self,
        loss_weight: float = 1.0,
        class_weight: Union[Sequence[float], str, None] = None,
    ):
        super().__init__()
        self.loss_weight = loss_weight
        if isinstance(class_weight, str):
            if class_weight != AUTO:
                raise ValueError(
                    f"CrossEntropyLoss: class_weight must be a list of weights, 'auto' or None, "
                    f'got {class_weight!r}'
                )
            self.auto_class_weight = True
            self.class_weight: Optional[torch.Tensor] = None
        else:
            self.auto_class_weight = False
            self.class_weight = _as_class_weight(class_weight)

    def set_class_counts(self, counts: Sequence[int]) -> torch.Tensor:
        """Fill ``class_weight='auto'`` from the number of training samples of each class.

        Args:
            counts: Samples per class, ``num_classes`` of them.

        Returns:
            The weights now in use (:func:`inverse_frequency_weights`).
        """
        if not self.auto_class_weight:
            raise RuntimeError(
                "CrossEntropyLoss.set_class_counts is for class_weight='auto'; this loss has "
                f'class_weight={self.class_weight}'
            )
        self.class_weight = inverse_frequency_weights(counts)
        return self.class_weight

    def forward(self, cls_score: torch.Tensor, label: torch.Tensor, **kwargs) -> torch.Tensor:
        """Compute the loss.

        Args:
            cls_score: Logits ``[N, num_classes]``.
            label: Class indices ``[N]`` or soft labels ``[N, num_classes]``.
            **kwargs: Passed to ``F.cross_entropy`` for hard labels.

        Returns:
            The scalar loss times ``loss_weight``.
        """
        if self.auto_class_weight and self.class_weight is None:
            raise RuntimeError(
                "CrossEntropyLoss(class_weight='auto') has no weights yet: they are computed "
                'from the training labels before training (ActionRunner does it; with another '
                "runner add custom_hooks=[dict(type='ClassWeightHook')]); to use the loss on "
                'its own, call set_class_counts(counts) or pass a list of weights'
            )
        if self.class_weight is not None and self.class_weight.numel() != cls_score.shape[1]:
            raise ValueError(
                f'CrossEntropyLoss: class_weight has {self.class_weight.numel()} weights but '
                f'the scores have {cls_score.shape[1]} classes'
            )
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
            or None. ``'auto'`` is refused: inverse class frequency would also scale the
            negatives of a rare class; per-class positive weighting is a different remedy.
    """

    def __init__(self, loss_weight: float = 1.0, class_weight: Optional[Sequence[float]] = None):
        super().__init__()
        if isinstance(class_weight, str):
            raise ValueError(
                f'BCELossWithLogits: class_weight must be a list of weights or None, got '
                f"{class_weight!r} ('auto' is supported by CrossEntropyLoss)"
            )
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
