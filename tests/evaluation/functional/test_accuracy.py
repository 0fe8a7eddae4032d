"""Accuracy functions against hand-computed values (ties and absent classes included)."""

import math

import numpy as np
import pytest

from mmaction_ft.evaluation.functional import (
    average_precision,
    confusion_matrix,
    mean_average_precision,
    mean_class_accuracy,
    mmit_mean_average_precision,
    top_k_accuracy,
)

# Rankings (best first, no ties): [1, 2, 0], [0, 1, 2], [2, 1, 0], [2, 0, 1]
SCORES = np.array([[0.1, 0.5, 0.4], [0.6, 0.3, 0.1], [0.2, 0.3, 0.5], [0.3, 0.2, 0.4]])
LABELS = [2, 0, 0, 1]  # true class at rank 2, 1, 3, 3


def test_top_k_accuracy_hand_computed():
    assert top_k_accuracy(SCORES, LABELS, topk=(1, 2, 3)) == [0.25, 0.5, 1.0]
    assert top_k_accuracy(list(SCORES), np.array(LABELS), topk=2) == [0.5]


def test_top_k_accuracy_k_above_num_classes_counts_every_video():
    assert top_k_accuracy(SCORES, LABELS, topk=(1, 5)) == [0.25, 1.0]


def test_top_k_accuracy_is_the_one_shared_with_the_heads():
    # Tie order (MMAction2's np.argsort) is tested in tests/utils/test_top_k_accuracy.py.
    from mmaction_ft.utils import accuracy

    assert top_k_accuracy is accuracy.top_k_accuracy


def test_mean_class_accuracy_predicts_the_lowest_tied_class():
    tied = np.array([[0.5, 0.5, 0.0]])
    # np.argmax, as MMAction2: top-1 accuracy (argsort) may rank the tie the other way.
    assert mean_class_accuracy(tied, [0]) == 1.0 and mean_class_accuracy(tied, [1]) == 0.0


@pytest.mark.parametrize(
    'scores, labels, topk, error',
    [
        (SCORES, [0, 1], (1,), 'labels'),
        (SCORES, [0.0, 1.0, 2.0, 0.0], (1,), 'integer'),
        (SCORES, [0, 1, -1, 0], (1,), 'non-negative'),
        (SCORES[0], [0], (1,), 'scores'),
        (SCORES, LABELS, (0,), 'topk'),
    ],
)
def test_top_k_accuracy_rejects_bad_inputs(scores, labels, topk, error):
    with pytest.raises(ValueError, match=error):
        top_k_accuracy(scores, labels, topk)


def test_mean_class_accuracy_ignores_classes_absent_from_ground_truth():
    labels = [0, 0, 0, 1, 2, 2]
    preds = [0, 0, 1, 1, 2, 3]  # class 3 is predicted but never true; class 4 never occurs
    scores = np.eye(5)[preds]
    # class 0: 2/3, class 1: 1/1, class 2: 1/2 (MMAction2 would also average in a 0 for class 3)
    assert mean_class_accuracy(scores, labels) == pytest.approx((2 / 3 + 1 + 1 / 2) / 3)


def test_confusion_matrix_counts_and_normalizations():
    y_pred, y_real = [0, 1, 1, 2], [0, 1, 2, 2]
    counts = confusion_matrix(y_pred, y_real)
    np.testing.assert_array_equal(counts, [[1, 0, 0], [0, 1, 0], [0, 1, 1]])
    np.testing.assert_allclose(
        confusion_matrix(y_pred, y_real, 'true'), [[1, 0, 0], [0, 1, 0], [0, 0.5, 0.5]]
    )
    np.testing.assert_allclose(
        confusion_matrix(y_pred, y_real, 'pred'), [[1, 0, 0], [0, 0.5, 0], [0, 0.5, 1]]
    )
    np.testing.assert_allclose(confusion_matrix(y_pred, y_real, 'all'), counts / 4)


def test_confusion_matrix_is_indexed_by_class_id():
    matrix = confusion_matrix([0, 3], [0, 3], normalize='true', num_classes=5)
    assert matrix.shape == (5, 5)
    assert matrix[3, 3] == 1.0 and matrix[1].sum() == 0 and not np.isnan(matrix).any()


@pytest.mark.parametrize(
    'kwargs, error',
    [
        (dict(y_pred=[0, 5], y_real=[0, 1], num_classes=3), 'out of range'),
        (dict(y_pred=[0, 1], y_real=[0, 1], normalize='rows'), 'normalize'),
        (dict(y_pred=[0, 1], y_real=[0]), 'labels'),
    ],
)
def test_confusion_matrix_rejects_bad_inputs(kwargs, error):
    with pytest.raises(ValueError, match=error):
        confusion_matrix(**kwargs)


def test_average_precision_hand_computed_and_ties():
    # Positives at ranks 1 and 3: (1/1 + 2/3) / 2.
    assert average_precision([0.9, 0.8, 0.7, 0.6], [1, 0, 1, 0]) == pytest.approx(5 / 6)
    # Tied scores enter together, whatever their order: one threshold with precision 1/3.
    assert average_precision([0.9, 0.8, 0.8], [0, 0, 1]) == pytest.approx(1 / 3)
    assert average_precision([0.9, 0.8, 0.8], [0, 1, 0]) == pytest.approx(1 / 3)
    assert math.isnan(average_precision([0.9, 0.8], [0, 0]))


ML_SCORES = np.array([[0.9, 0.1, 0.2], [0.8, 0.7, 0.1], [0.1, 0.6, 0.3]])
ML_LABELS = np.array([[1, 0, 0], [0, 1, 0], [1, 0, 0]], dtype=np.float32)


def test_mean_average_precision_skips_classes_without_positives():
    # class 0: positives ranked 1 and 3 -> 5/6; class 1: ranked 1 -> 1; class 2: no positive.
    assert mean_average_precision(ML_SCORES, ML_LABELS) == pytest.approx((5 / 6 + 1) / 2)
    assert mean_average_precision(list(ML_SCORES), list(ML_LABELS)) == pytest.approx(11 / 12)
    assert math.isnan(mean_average_precision(ML_SCORES, np.zeros_like(ML_LABELS)))
    with pytest.raises(ValueError, match='one-hot'):
        mean_average_precision(ML_SCORES, [0, 1, 0])


def test_mmit_mean_average_precision_averages_over_videos():
    # video 0: its class ranked 1st -> 1; video 1: 2nd -> 1/2; video 2: 3rd -> 1/3.
    expected = (1 + 1 / 2 + 1 / 3) / 3
    assert mmit_mean_average_precision(ML_SCORES, ML_LABELS) == pytest.approx(expected)
    labels = ML_LABELS.copy()
    labels[2] = 0  # a video without positives is skipped
    assert mmit_mean_average_precision(ML_SCORES, labels) == pytest.approx(0.75)
