"""AccMetric(per_class=True): one ``acc/class_<name>`` accuracy per class in the metrics dict."""

import pytest
import torch
from mmengine.evaluator import Evaluator

from mmaction_ft.evaluation import AccMetric
from mmaction_ft.structures.action_data_sample import ActionDataSample

# arg-max predictions 1, 0, 2, 2, 0 for true classes 2, 0, 0, 1, 0: class 0 gets 2 of its 3
# videos right, classes 1 and 2 none of their single videos; class 3 has no validation video.
SCORES = [
    [0.1, 0.5, 0.4, 0.0],
    [0.6, 0.3, 0.1, 0.0],
    [0.2, 0.3, 0.5, 0.0],
    [0.3, 0.2, 0.4, 0.1],
    [0.7, 0.1, 0.1, 0.1],
]
LABELS = [2, 0, 0, 1, 0]


def evaluate(metric, classes=None, labels=LABELS):
    evaluator = Evaluator(metric)
    if classes is not None:
        evaluator.dataset_meta = dict(classes=classes)
    data = [
        ActionDataSample().set_pred_score(torch.tensor(s)).set_gt_label(label)
        for s, label in zip(SCORES, labels)
    ]
    evaluator.process(data[:3])
    evaluator.process(data[3:])
    return evaluator.evaluate(len(data))


def test_per_class_keys_use_the_class_names():
    classes = ('walk', 'run fast', 'jump/up', 'sit')
    results = evaluate(AccMetric(per_class=True), classes)
    assert results == pytest.approx(
        {
            'acc/top1': 2 / 5,
            'acc/top5': 1.0,
            'acc/mean1': (2 / 3 + 0 + 0) / 3,
            'acc/class_walk': 2 / 3,
            'acc/class_run_fast': 0.0,
            'acc/class_jump_up': 0.0,
            # 'sit' has no validation video: no accuracy, no key (mean1 leaves it out too).
        }
    )


def test_per_class_keys_fall_back_to_indices_and_stay_off_by_default():
    # No names, or not one per class: the index.
    for classes in (None, ('walk', 'run')):
        results = evaluate(AccMetric(per_class=True, prefix='val'), classes)
        assert {k for k in results if 'class_' in k} == {
            'val/class_0',
            'val/class_1',
            'val/class_2',
        }
        assert results['val/class_0'] == pytest.approx(2 / 3)
    assert not any('class_' in key for key in evaluate(AccMetric(), ('a', 'b', 'c', 'd')))


def test_per_class_needs_single_label_ground_truth_and_a_bool():
    onehot = [torch.tensor([0.0, 1.0, 1.0, 0.0])] * len(SCORES)
    metric = AccMetric(metric_list='mean_average_precision', per_class=True)
    with pytest.raises(ValueError, match='per_class=True needs one class per video'):
        evaluate(metric, labels=onehot)
    with pytest.raises(TypeError, match="per_class must be True or False, got 'yes'"):
        AccMetric(per_class='yes')
