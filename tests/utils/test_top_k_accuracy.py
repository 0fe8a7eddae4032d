"""The one top-k accuracy: MMAction2 1.2.0's definition, ties included."""

import numpy as np
import pytest

from mmaction_ft.utils.accuracy import top_k_accuracy


def mmaction2_top_k_accuracy(scores, labels, topk):
    """MMAction2 1.2.0 ``mmaction.evaluation.functional.top_k_accuracy``, restated: per k,
    ``np.argsort(scores, axis=1)[:, -k:][:, ::-1]`` (numpy's default sort kind), a hit when the
    label is among those columns, averaged over videos."""
    labels = np.array(labels)[:, np.newaxis]
    result = []
    for k in topk:
        top = np.argsort(scores, axis=1)[:, -k:][:, ::-1]
        result.append(np.logical_or.reduce(top == labels, axis=1).mean())
    return result


def test_hand_computed_without_ties():
    scores = np.array([[0.1, 0.5, 0.4], [0.6, 0.3, 0.1], [0.2, 0.3, 0.5]])
    assert top_k_accuracy(scores, [2, 0, 0], topk=(1, 2, 3)) == [1 / 3, 2 / 3, 1.0]
    assert top_k_accuracy(scores, [2, 0, 0], topk=5) == [1.0]  # k above C: every video


def test_ties_outside_the_cut_do_not_matter():
    tied = np.array([[0.5, 0.5, 0.0], [0.2, 0.2, 0.2]])
    # Row 0: the tied pair fills the top 2 in either order; row 1: all classes tie.
    assert top_k_accuracy(tied, [1, 0], topk=(2, 3)) == [0.5, 1.0]
    assert top_k_accuracy(tied[:1], [2], topk=(1, 2, 3)) == [0.0, 0.0, 1.0]


@pytest.mark.parametrize('dtype', [np.float16, np.float32, np.float64])
@pytest.mark.parametrize('num_classes', [3, 10, 101, 400])
def test_ties_fall_as_in_mmaction2(dtype, num_classes):
    # Scores drawn from 3 values: nearly every row has ties across the top-k cut, so any
    # other tie order (a stable sort, torch.topk, lower index first) changes the counts.
    rng = np.random.default_rng(num_classes)
    scores = rng.integers(0, 3, size=(64, num_classes)).astype(dtype)
    labels = rng.integers(0, num_classes, size=64)
    topk = (1, 2, 5)

    ours = top_k_accuracy(scores, labels, topk)

    assert ours == pytest.approx(mmaction2_top_k_accuracy(scores, labels, topk), abs=0)
    assert all(isinstance(acc, float) for acc in ours)


@pytest.mark.parametrize(
    'scores, labels, topk, error',
    [
        (np.zeros((2, 3)), [0], (1,), 'labels'),
        (np.zeros((2, 3)), [0.0, 1.0], (1,), 'integer'),
        (np.zeros((2, 3)), [0, -1], (1,), 'non-negative'),
        (np.zeros(3), [0], (1,), 'scores'),
        (np.zeros((2, 3)), [0, 1], (0,), 'topk'),
    ],
)
def test_bad_inputs_say_what_is_wrong(scores, labels, topk, error):
    with pytest.raises(ValueError, match=error):
        top_k_accuracy(scores, labels, topk)
