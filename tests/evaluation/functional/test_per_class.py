"""Per-class measures against hand-computed confusion matrices."""

import numpy as np
import pytest

from mmaction_ft.evaluation.functional import (
    confusion_matrix,
    mean_average_precision,
    mean_class_accuracy,
    most_confused_pairs,
    per_class_average_precision,
    per_class_metrics,
)

# 7 videos of 4 classes; class 3 has no video and is never predicted.
#   true:  0 0 0 1 1 2 2
#   pred:  0 1 2 1 0 1 1
SCORES = np.array(
    [
        [0.7, 0.2, 0.1, 0.0],
        [0.3, 0.6, 0.1, 0.0],
        [0.2, 0.3, 0.5, 0.0],
        [0.1, 0.8, 0.1, 0.0],
        [0.5, 0.4, 0.1, 0.0],
        [0.1, 0.6, 0.3, 0.0],
        [0.2, 0.5, 0.3, 0.0],
    ]
)
LABELS = [0, 0, 0, 1, 1, 2, 2]
# Rows true, columns predicted:
#   [[1, 1, 1, 0],
#    [1, 1, 0, 0],
#    [0, 2, 0, 0],
#    [0, 0, 0, 0]]
CONFUSION = confusion_matrix(SCORES.argmax(axis=1), LABELS, num_classes=4)


def test_per_class_metrics_hand_computed():
    metrics = per_class_metrics(CONFUSION)
    np.testing.assert_array_equal(metrics['support'], [3, 2, 2, 0])
    np.testing.assert_array_equal(metrics['predicted'], [2, 4, 1, 0])
    np.testing.assert_array_equal(metrics['correct'], [1, 1, 0, 0])
    np.testing.assert_allclose(metrics['accuracy'], [1 / 3, 1 / 2, 0, np.nan])
    np.testing.assert_allclose(metrics['precision'], [1 / 2, 1 / 4, 0, np.nan])
    np.testing.assert_allclose(metrics['recall'], [1 / 3, 1 / 2, 0, np.nan])


def test_per_class_accuracy_averages_to_mean_class_accuracy():
    accuracy = per_class_metrics(CONFUSION)['accuracy']
    assert np.nanmean(accuracy) == pytest.approx(mean_class_accuracy(SCORES, LABELS))
    assert np.nanmean(accuracy) == pytest.approx((1 / 3 + 1 / 2 + 0) / 3)


def test_per_class_metrics_arrays_are_independent():
    metrics = per_class_metrics(CONFUSION)
    metrics['accuracy'][0] = 5
    assert metrics['recall'][0] == pytest.approx(1 / 3)


def test_most_confused_pairs_sorted_by_count_then_index():
    # Off-diagonal cells: (2 -> 1) x2, then (0 -> 1), (0 -> 2), (1 -> 0) x1 each in index order.
    assert most_confused_pairs(CONFUSION) == [(2, 1, 2), (0, 1, 1), (0, 2, 1), (1, 0, 1)]
    assert most_confused_pairs(CONFUSION, top=2) == [(2, 1, 2), (0, 1, 1)]
    assert most_confused_pairs(np.diag([3, 4])) == []


@pytest.mark.parametrize(
    'confusion, error',
    [
        (np.zeros((2, 3)), 'square'),
        (np.zeros(4), 'square'),
        (np.array([[1, -1], [0, 2]]), 'counts >= 0'),
    ],
)
def test_bad_confusion_matrix_is_refused(confusion, error):
    with pytest.raises(ValueError, match=error):
        per_class_metrics(confusion)
    with pytest.raises(ValueError, match=error):
        most_confused_pairs(confusion)


def test_most_confused_pairs_refuses_negative_top():
    with pytest.raises(ValueError, match='top must be'):
        most_confused_pairs(CONFUSION, top=-1)


def test_per_class_average_precision_hand_computed():
    scores = np.array([[0.9, 0.1, 0.5], [0.8, 0.7, 0.4], [0.3, 0.6, 0.2]])
    labels = np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0]])
    # Class 0, ranked 0.9 (+), 0.8 (-), 0.3 (+): AP = 1/2 * 1 + 1/2 * 2/3.
    # Class 1, ranked 0.7 (+), 0.6 (+), 0.1 (-): AP = 1. Class 2 has no positive: NaN.
    aps = per_class_average_precision(scores, labels)
    np.testing.assert_allclose(aps, [1 / 2 + 1 / 3, 1.0, np.nan])
    assert np.nanmean(aps) == pytest.approx(mean_average_precision(scores, labels))


def test_per_class_average_precision_needs_onehot_of_the_scores_shape():
    with pytest.raises(ValueError, match=r'one-hot with the shape of the scores \(2, 3\)'):
        per_class_average_precision(np.zeros((2, 3)), [0, 1])
