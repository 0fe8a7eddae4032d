"""AccMetric through mmengine's Evaluator, with ActionDataSample inputs."""

import math

import pytest
import torch
from mmengine.evaluator import Evaluator
from mmengine.registry import DefaultScope

from mmaction_ft.evaluation import AccMetric
from mmaction_ft.registry import METRICS
from mmaction_ft.structures.action_data_sample import ActionDataSample

# Same data as the functional tests: top1 1/4, top2 1/2, top3 1.
SCORES = [[0.1, 0.5, 0.4], [0.6, 0.3, 0.1], [0.2, 0.3, 0.5], [0.3, 0.2, 0.4]]  # no ties
LABELS = [2, 0, 0, 1]


def samples(scores, labels):
    out = []
    for score, label in zip(scores, labels):
        sample = ActionDataSample().set_pred_score(torch.tensor(score))
        out.append(sample.set_gt_label(label))
    return out


def evaluate(metric, scores=SCORES, labels=LABELS, batch_size=3):
    evaluator = Evaluator(metric)
    data = samples(scores, labels)
    for start in range(0, len(data), batch_size):
        evaluator.process(data[start : start + batch_size])
    return evaluator.evaluate(len(data))


def test_default_metrics_and_keys():
    results = evaluate(AccMetric())
    assert set(results) == {'acc/top1', 'acc/top5', 'acc/mean1'}
    assert results['acc/top1'] == 0.25
    assert results['acc/top5'] == 1.0  # k above the number of classes
    # argmax: 1, 0, 2, 2 -> class 0: 1/2, class 1: 0/1, class 2: 0/1
    assert results['acc/mean1'] == pytest.approx(1 / 6)


def test_built_from_a_config_with_options_and_prefix():
    with DefaultScope.overwrite_default_scope('mmaction_ft'):
        evaluator = Evaluator(
            dict(
                type='AccMetric',
                metric_list='top_k_accuracy',
                metric_options=dict(top_k_accuracy=dict(topk=(1, 2))),
                prefix='val',
            )
        )
        assert isinstance(METRICS.build(dict(type='AccMetric')), AccMetric)
    evaluator.process(samples(SCORES, LABELS))
    assert evaluator.evaluate(4) == {'val/top1': 0.25, 'val/top2': 0.5}


def test_process_accepts_to_dict_samples():
    metric = AccMetric(
        metric_list=('top_k_accuracy',), metric_options=dict(top_k_accuracy=dict(topk=3))
    )
    metric.process(None, [s.to_dict() for s in samples(SCORES, LABELS)])
    assert metric.evaluate(4) == {'acc/top3': 1.0}


def test_multi_label_mean_average_precision():
    scores = [[0.9, 0.1, 0.2], [0.8, 0.7, 0.1], [0.1, 0.6, 0.3]]
    onehot = [torch.tensor([1.0, 0, 0]), torch.tensor([0, 1.0, 1.0]), torch.tensor([1.0, 0, 0])]
    metric = AccMetric(metric_list=('mean_average_precision', 'mmit_mean_average_precision'))
    results = evaluate(metric, scores, onehot)
    # class 0: positives ranked 1 and 3 -> 5/6; class 1: ranked 1 -> 1; class 2: ranked 3 -> 1/3
    assert results['acc/mean_average_precision'] == pytest.approx((5 / 6 + 1 + 1 / 3) / 3)
    # video 0: 1; video 1: positives ranked 2 and 3 -> (1/2 + 2/3) / 2; video 2: 1/3
    expected = (1 + (1 / 2 + 2 / 3) / 2 + 1 / 3) / 3
    assert results['acc/mmit_mean_average_precision'] == pytest.approx(expected)
    # The same labels given as class indices give the same mAP.
    indices = [0, [1, 2], 0]
    same = evaluate(AccMetric(metric_list='mean_average_precision'), scores, indices)
    assert same['acc/mean_average_precision'] == results['acc/mean_average_precision']


def test_single_label_metrics_refuse_multi_label_ground_truth():
    metric = AccMetric(metric_list='top_k_accuracy')
    metric.process(None, samples([[0.1, 0.9]], [torch.tensor([1.0, 1.0])]))
    with pytest.raises(ValueError, match='multi-label'):
        metric.evaluate(1)


def test_all_nan_map_when_no_class_has_a_positive():
    metric = AccMetric(metric_list='mean_average_precision')
    results = evaluate(metric, [[0.1, 0.9]], [torch.tensor([0.0, 0.0])])
    assert math.isnan(results['acc/mean_average_precision'])


@pytest.mark.parametrize(
    'kwargs, error',
    [
        (dict(metric_list='top_k_acuracy'), "did you mean 'top_k_accuracy'"),
        (dict(metric_list=('mean_class_accuracy', 'f1')), 'allowed: top_k_accuracy'),
        (dict(metric_list=()), 'metric_list'),
        (dict(metric_options=dict(top_k_accuracy=dict(topk=(0,)))), 'topk'),
        (dict(metric_options=dict(top_k_accuracy=dict(top_k=(1,)))), "did you mean 'topk'"),
        (dict(metric_options=dict(mean_class=dict())), 'unknown metric in metric_options'),
    ],
)
def test_rejects_bad_configuration(kwargs, error):
    with pytest.raises((ValueError, TypeError), match=error):
        AccMetric(**kwargs)


def test_rejects_score_dicts():
    with pytest.raises(TypeError, match='pred_score'):
        AccMetric().process(None, [dict(pred_score=dict(rgb=torch.zeros(2)), gt_label=1)])
