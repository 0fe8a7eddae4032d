"""Per-class measures: what each class scored and which classes are taken for which.

The single-label functions read a ``[C, C]`` confusion matrix of counts as
:func:`~mmaction_ft.evaluation.functional.accuracy.confusion_matrix` returns it: rows are true
classes, columns predicted classes. A measure whose denominator is 0 (precision of a class never
predicted, recall of a class without videos) is NaN, not 0, so an average over classes can leave
it out the way :func:`mean_class_accuracy` leaves out classes absent from the ground truth.
"""

from typing import Dict, List, Optional, Tuple

import numpy as np

from mmaction_ft.utils.accuracy import ArrayLike, score_matrix

from .accuracy import _onehot_matrix, average_precision

__all__ = ['most_confused_pairs', 'per_class_average_precision', 'per_class_metrics']


def _count_matrix(confusion: ArrayLike) -> np.ndarray:
    confusion = np.asarray(confusion)
    if confusion.ndim != 2 or confusion.shape[0] != confusion.shape[1]:
        raise ValueError(
            f'confusion must be a square [num_classes, num_classes] matrix, got shape '
            f'{confusion.shape}'
        )
    if (confusion < 0).any():
        raise ValueError(f'confusion must hold counts >= 0, got {confusion.min()}')
    return confusion


def _ratio(numerator: np.ndarray, denominator: np.ndarray) -> np.ndarray:
    with np.errstate(invalid='ignore', divide='ignore'):
        return np.where(denominator > 0, numerator / denominator, np.nan)


def per_class_metrics(confusion: ArrayLike) -> Dict[str, np.ndarray]:
    """Support, accuracy, precision and recall of every class of a confusion matrix.

    The accuracy of a class is the share of its videos predicted as it (``diag / row sum``), the
    per-class value that :func:`mean_class_accuracy` (``acc/mean1``) averages; it is the same
    number as the recall, which is kept under its own name for precision / recall tables.

    Args:
        confusion: ``[C, C]`` counts, rows true classes, columns predicted classes.

    Returns:
        ``support`` (videos per true class, int), ``predicted`` (videos predicted as the class,
        int), ``correct`` (the diagonal, int), and ``accuracy``, ``precision``, ``recall``
        (float, NaN where undefined); each an array of C values.
    """
    confusion = _count_matrix(confusion)
    correct = np.diag(confusion)
    support = confusion.sum(axis=1)
    predicted = confusion.sum(axis=0)
    recall = _ratio(correct, support)
    return dict(
        support=support,
        predicted=predicted,
        correct=correct,
        accuracy=recall,
        precision=_ratio(correct, predicted),
        recall=recall.copy(),
    )


def most_confused_pairs(
    confusion: ArrayLike, top: Optional[int] = None
) -> List[Tuple[int, int, int]]:
    """The off-diagonal cells of a confusion matrix, most videos first.

    Args:
        confusion: ``[C, C]`` counts, rows true classes, columns predicted classes.
        top: Keep only this many pairs; None keeps every pair with at least one video.

    Returns:
        ``(true class, predicted class, count)`` for every off-diagonal cell with a count > 0,
        sorted by count (highest first), equal counts by true class, then predicted class.
    """
    confusion = _count_matrix(confusion)
    if top is not None and (not isinstance(top, int) or top < 0):
        raise ValueError(f'top must be an int >= 0 or None, got {top!r}')
    off_diagonal = confusion * (1 - np.eye(len(confusion), dtype=confusion.dtype))
    true, pred = np.nonzero(off_diagonal)  # row-major: already ordered by (true, pred)
    counts = off_diagonal[true, pred]
    order = np.argsort(-counts, kind='stable')[:top]
    return [(int(true[i]), int(pred[i]), counts[i].item()) for i in order]


def per_class_average_precision(scores: ArrayLike, labels_onehot: ArrayLike) -> np.ndarray:
    """:func:`average_precision` of every class of a multi-label problem.

    :func:`mean_average_precision` is the mean of the values that are not NaN.

    Args:
        scores: ``[N, C]`` class scores.
        labels_onehot: ``[N, C]`` one-hot (many-hot) labels; entries > 0 are positives.

    Returns:
        C average precisions, NaN for a class without any positive video.
    """
    scores = score_matrix(scores)
    labels = _onehot_matrix(labels_onehot, scores.shape)
    return np.array([average_precision(scores[:, c], labels[:, c]) for c in range(scores.shape[1])])
