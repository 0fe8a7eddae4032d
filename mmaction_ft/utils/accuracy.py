"""Top-k accuracy: the one definition behind the heads' training log (``top1_acc``) and the
evaluation metrics (``acc/top1``).

It sits below ``models`` and ``evaluation``, which may not import each other, so both use it;
``mmaction_ft.evaluation.functional`` re-exports it with the other accuracy measures.

``scores`` is an ``[N, C]`` array (or a list of N ``[C]`` arrays) of class scores for N videos
and ``labels`` holds N class indices. Ranking follows MMAction2 1.2.0 exactly: classes are
ordered by ``np.argsort`` (ascending, numpy's default sort kind) and the last k columns are the
top k. numpy's default sort is not stable (depending on the CPU it is a SIMD sort), so which of
several equal scores makes the top k depends on numpy and the CPU, exactly as it does for
MMAction2 on the same machine; it may differ from ``np.argmax``, which always picks the lowest
tied index.
"""

from typing import List, Sequence, Union

import numpy as np

__all__ = ['label_vector', 'score_matrix', 'top_k_accuracy']

ArrayLike = Union[np.ndarray, Sequence]


def score_matrix(scores: ArrayLike) -> np.ndarray:
    """``scores`` as an ``[N, C]`` array with at least one row, or a ValueError saying what
    shape it has."""
    scores = np.asarray(scores if isinstance(scores, np.ndarray) else np.stack(scores))
    if scores.ndim != 2 or scores.shape[0] == 0:
        raise ValueError(
            f'scores must be [num_videos, num_classes] with at least one video, '
            f'got shape {scores.shape}'
        )
    return scores


def label_vector(labels: ArrayLike, num_videos: int) -> np.ndarray:
    """``labels`` as ``num_videos`` non-negative int64 class indices, or a ValueError."""
    labels = np.asarray(labels).reshape(-1)
    if labels.shape[0] != num_videos:
        raise ValueError(f'got {num_videos} score rows but {labels.shape[0]} labels')
    if labels.dtype.kind not in 'iu':
        raise ValueError(f'labels must be integer class indices, got dtype {labels.dtype}')
    if (labels < 0).any():
        raise ValueError(f'labels must be non-negative class indices, got {labels.min()}')
    return labels.astype(np.int64)


def top_k_accuracy(
    scores: ArrayLike, labels: ArrayLike, topk: Union[int, Sequence[int]] = (1,)
) -> List[float]:
    """Fraction of videos whose true class is among the k best-scored classes.

    Args:
        scores: ``[N, C]`` class scores (any numpy dtype; ties are ranked by numpy's default
            ``argsort`` of that dtype, as MMAction2 does).
        labels: N class indices.
        topk: One k or several; a k above C counts every video as a hit.

    Returns:
        One accuracy per k, in the order of ``topk``.
    """
    scores = score_matrix(scores)
    labels = label_vector(labels, scores.shape[0])
    topk = (topk,) if isinstance(topk, int) else tuple(topk)
    if not topk or not all(isinstance(k, int) and k > 0 for k in topk):
        raise ValueError(f'topk must be a positive int or a tuple of them, got {topk!r}')
    # The same call as MMAction2 1.2.0 (default kind), so equal scores fall the same way.
    ascending = np.argsort(scores, axis=1)  # [N, C], best class last
    hits = ascending == labels[:, None]  # [N, C], one True per row when the label is valid
    return [float(hits[:, -k:].any(axis=1).mean()) for k in topk]
