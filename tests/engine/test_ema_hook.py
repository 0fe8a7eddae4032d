"""mmengine's EMAHook with ActionRunner: checkpoint layout, strict testing, exact resume."""

import pytest
import torch
from mmengine.evaluator import BaseMetric
from mmengine.hooks import Hook
from test_runner_resume import TinyDataset, runner_kwargs

from mmaction_ft.engine import ActionRunner
from mmaction_ft.engine.ema_hook import ActionEMAHook


class Accuracy(BaseMetric):
    """``acc/top1`` and ``acc/mean1`` of TinyModel's scores (``predict`` returns them)."""

    def process(self, data_batch, data_samples) -> None:
        for scores, label in zip(data_samples, data_batch['label']):
            self.results.append((int(label), int(scores.argmax() == label)))

    def compute_metrics(self, results) -> dict:
        per_class = {}
        for label, correct in results:
            per_class.setdefault(label, []).append(correct)
        return {
            'acc/top1': sum(c for _, c in results) / len(results),
            'acc/mean1': sum(sum(v) / len(v) for v in per_class.values()) / len(per_class),
        }


def loader() -> dict:
    return dict(
        dataset=TinyDataset(),
        batch_size=4,
        sampler=dict(type='DefaultSampler', shuffle=False),
        collate_fn=dict(type='default_collate'),
    )


def evaluating_kwargs(work_dir, max_epochs: int, **extra) -> dict:
    """runner_kwargs plus a validation after every epoch and a test loop."""
    return runner_kwargs(
        work_dir,
        max_epochs=max_epochs,
        val_dataloader=loader(),
        val_cfg=dict(),
        val_evaluator=[Accuracy()],
        test_dataloader=loader(),
        test_cfg=dict(),
        test_evaluator=[Accuracy()],
        **extra,
    )


EMA = dict(type='EMAHook', momentum=0.5)  # far from the trained weights after a few steps


class WeightsAtTest(Hook):
    priority = 'LOW'  # after EMAHook (NORMAL) swapped its weights in

    def before_test_epoch(self, runner) -> None:
        self.weights = {k: v.clone() for k, v in runner.model.state_dict().items()}


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    work_dir = tmp_path_factory.mktemp('ema')
    runner = ActionRunner(**evaluating_kwargs(work_dir, max_epochs=2, custom_hooks=[EMA]))
    runner.train()
    trained_weights = {k: v.clone() for k, v in runner.model.state_dict().items()}
    return runner, work_dir, trained_weights


def test_config_ema_hook_becomes_action_ema_hook_and_checkpoints_hold_the_average(trained):
    runner, work_dir, trained_weights = trained
    assert any(isinstance(hook, ActionEMAHook) for hook in runner.hooks)
    checkpoint = torch.load(work_dir / 'epoch_2.pth', weights_only=False)
    source = checkpoint['ema_state_dict']
    for key in checkpoint['state_dict']:
        # mmengine's layout: the trained weights under ema_state_dict, the average in state_dict.
        assert torch.equal(source[f'module.{key}'], trained_weights[key]), key
    weight = 'cls_head.fc_cls.weight'
    assert not torch.equal(checkpoint['state_dict'][weight], trained_weights[weight])


def test_testing_loads_strictly_and_scores_the_averaged_weights(trained, tmp_path):
    _, work_dir, _ = trained
    checkpoint = work_dir / 'epoch_2.pth'
    recorder = WeightsAtTest()
    runner = ActionRunner(**evaluating_kwargs(tmp_path, 1, custom_hooks=[EMA, recorder]))
    # What mmaction_ft.apis.test_checkpoint (tools/test.py) does: load strictly, then test.
    # mmengine's EMAHook fails here: its averaged model is made in before_run, after the load.
    runner.load_checkpoint(str(checkpoint), strict=True)
    metrics = runner.test()
    assert set(metrics) == {'acc/top1', 'acc/mean1'}
    averaged = torch.load(checkpoint, weights_only=False)['state_dict']
    assert set(recorder.weights) == set(averaged)
    for key, value in averaged.items():
        assert torch.equal(recorder.weights[key], value), key
    assert runner.last_load_report.loaded == list(averaged)  # strict: everything


def test_testing_a_load_from_checkpoint_scores_it(trained, tmp_path):
    # test() loads load_from after before_run: the averaged model follows the loaded weights.
    _, work_dir, _ = trained
    checkpoint = work_dir / 'epoch_2.pth'
    recorder = WeightsAtTest()
    runner = ActionRunner(
        **evaluating_kwargs(tmp_path, 1, custom_hooks=[EMA, recorder], load_from=str(checkpoint))
    )
    runner.test()
    averaged = torch.load(checkpoint, weights_only=False)['state_dict']
    for key, value in averaged.items():
        assert torch.equal(recorder.weights[key], value), key


def test_resume_with_ema_is_exact(trained, tmp_path):
    _, work_dir, _ = trained
    resumed = ActionRunner(
        **evaluating_kwargs(
            tmp_path,
            max_epochs=2,
            custom_hooks=[EMA],
            load_from=str(work_dir / 'epoch_1.pth'),
            resume=True,
        )
    )
    resumed.train()
    expected = torch.load(work_dir / 'epoch_2.pth', weights_only=False)
    got = torch.load(tmp_path / 'epoch_2.pth', weights_only=False)
    for part in ('state_dict', 'ema_state_dict'):
        assert list(got[part]) == list(expected[part])
        for key, value in expected[part].items():
            assert torch.equal(got[part][key], value), (part, key)
