"""Classification accuracy measures as pure numpy functions.

``scores`` is an ``[N, C]`` array (or a list of N ``[C]`` arrays) of class scores for N videos;
``labels`` holds N class indices, or, for multi-label measures, an ``[N, C]`` one-hot (many-hot)
array where entries > 0 are positives. Every function returns plain Python floats.

:func:`top_k_accuracy` is defined once, in :mod:`mmaction_ft.utils.accuracy` (the heads log it
too), and re-exported here. It ranks equal scores as MMAction2 1.2.0 does, by numpy's default
``argsort``; :func:`mean_class_accuracy` predicts with ``np.argmax`` (the lowest tied index), as
MMAction2 does, so on tied scores the two may disagree.
"""

from typing import Optional

import numpy as np

from mmaction_ft.utils.accuracy import ArrayLike, label_vector, score_matrix, top_k_accuracy

__all__ = [
    'average_precision',
    'confusion_matrix',
    'mean_average_precision',
    'mean_class_accuracy',
    'mmit_mean_average_precision',
    'top_k_accuracy',
]


def confusion_matrix(
    y_pred: ArrayLike,
    y_real: ArrayLike,
    normalize: Optional[str] = None,
    num_classes: Optional[int] = None,
) -> np.ndarray:
    """Count (true class, predicted class) pairs.

    Rows are true classes and columns predicted classes, both indexed by class id, so the matrix
    is ``[num_classes, num_classes]`` (MMAction2 instead keeps only the classes that occur in
    either input, which renumbers them when some class is missing).

    Args:
        y_pred: N predicted class indices.
        y_real: N true class indices.
        normalize: None for counts; 'true' divides each row by its sum, 'pred' each column,
            'all' the whole matrix. Empty rows / columns stay 0.
        num_classes: Matrix size; defaults to the largest index seen + 1.

    Returns:
        ``[num_classes, num_classes]`` int64 counts, or float64 when normalized.
    """
    if normalize not in ('true', 'pred', 'all', None):
        raise ValueError(f"normalize must be 'true', 'pred', 'all' or None, got {normalize!r}")
    y_pred = label_vector(y_pred, len(y_pred))
    y_real = label_vector(y_real, len(y_pred))
    largest = int(max(y_pred.max(initial=-1), y_real.max(initial=-1)))
    if num_classes is None:
        num_classes = largest + 1
    elif largest >= num_classes:
        raise ValueError(f'class index {largest} is out of range for num_classes={num_classes}')
    counts = np.bincount(y_real * num_classes + y_pred, minlength=num_classes**2)
    matrix = counts.reshape(num_classes, num_classes)
    if normalize is None:
        return matrix
    axis = {'true': 1, 'pred': 0, 'all': None}[normalize]
    totals = matrix.sum(axis=axis, keepdims=axis is not None)
    with np.errstate(invalid='ignore', divide='ignore'):
        return np.nan_to_num(matrix / totals)


def mean_class_accuracy(scores: ArrayLike, labels: ArrayLike) -> float:
    """Accuracy of the arg-max prediction per class, averaged over classes.

    Only classes present in ``labels`` are averaged: a class with no ground-truth video has no
    accuracy and does not count, even if it is predicted. (MMAction2 1.x counts a class that
    is predicted but absent from the ground truth as 0, which lowers the mean.)

    Args:
        scores: ``[N, C]`` class scores.
        labels: N class indices.

    Returns:
        The mean per-class accuracy.
    """
    scores = score_matrix(scores)
    labels = label_vector(labels, scores.shape[0])
    correct = scores.argmax(axis=1) == labels
    classes, per_video_class = np.unique(labels, return_inverse=True)
    hits = np.bincount(per_video_class, weights=correct, minlength=len(classes))
    totals = np.bincount(per_video_class, minlength=len(classes))
    return float(np.mean(hits / totals))


def average_precision(scores: ArrayLike, labels: ArrayLike) -> float:
    """Area under the precision-recall steps of one binary problem (no interpolation).

    ``AP = sum_n (R_n - R_{n-1}) * P_n`` over the distinct score thresholds, highest first;
    videos with equal scores enter together (the scikit-learn ``average_precision_score``
    definition, also MMAction2's).

    Args:
        scores: N scores.
        labels: N values; those > 0 are positives.

    Returns:
        The average precision, or NaN when there is no positive.
    """
    scores = np.asarray(scores, dtype=np.float64).reshape(-1)
    positive = np.asarray(labels).reshape(-1) > 0
    if scores.shape != positive.shape:
        raise ValueError(f'got {scores.size} scores but {positive.size} labels')
    if not positive.any():
        return float('nan')
    order = np.argsort(-scores, kind='stable')
    scores, positive = scores[order], positive[order]
    # Last position of each run of equal scores = one threshold.
    thresholds = np.r_[np.flatnonzero(np.diff(scores)), scores.size - 1]
    true_pos = np.cumsum(positive)[thresholds]
    precision = true_pos / (thresholds + 1)
    recall = true_pos / true_pos[-1]
    return float(np.sum(np.diff(recall, prepend=0) * precision))


def _onehot_matrix(labels: ArrayLike, shape: tuple) -> np.ndarray:
    labels = np.asarray(labels if isinstance(labels, np.ndarray) else np.stack(labels))
    if labels.shape != shape:
        raise ValueError(
            f'multi-label labels must be one-hot with the shape of the scores '
            f'{shape}, got {labels.shape}'
        )
    return labels


def mean_average_precision(scores: ArrayLike, labels_onehot: ArrayLike) -> float:
    """Mean over classes of :func:`average_precision` (multi-label recognition).

    Classes without any positive video are skipped (their AP is undefined).

    Args:
        scores: ``[N, C]`` class scores.
        labels_onehot: ``[N, C]`` one-hot (many-hot) labels.

    Returns:
        The mean AP, or NaN when no class has a positive.
    """
    scores = score_matrix(scores)
    labels = _onehot_matrix(labels_onehot, scores.shape)
    aps = [average_precision(scores[:, c], labels[:, c]) for c in range(scores.shape[1])]
    aps = [ap for ap in aps if not np.isnan(ap)]
    return float(np.mean(aps)) if aps else float('nan')


def mmit_mean_average_precision(scores: ArrayLike, labels_onehot: ArrayLike) -> float:
    """Mean over videos of the AP of ranking that video's classes (Multi-Moments in Time style).

    Videos without any positive class are skipped (MMAction2 returns NaN for the whole set).

    Args:
        scores: ``[N, C]`` class scores.
        labels_onehot: ``[N, C]`` one-hot (many-hot) labels.

    Returns:
        The mean AP, or NaN when no video has a positive.
    """
    scores = score_matrix(scores)
    labels = _onehot_matrix(labels_onehot, scores.shape)
    aps = [average_precision(s, y) for s, y in zip(scores, labels)]
    aps = [ap for ap in aps if not np.isnan(ap)]
    return float(np.mean(aps)) if aps else float('nan')
