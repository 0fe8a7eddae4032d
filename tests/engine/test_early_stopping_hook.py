"""mmengine's EarlyStoppingHook with ActionRunner: it stops training, and only training."""

import pytest
from mmengine.hooks import CheckpointHook
from test_ema_hook import evaluating_kwargs
from test_runner_resume import TinyDataset

from mmaction_ft.engine import ActionRunner
from mmaction_ft.engine.early_stopping_hook import ActionEarlyStoppingHook

# No validation can improve by more than 1 on an accuracy: the run stops at the second one.
EARLY_STOPPING = dict(type='EarlyStoppingHook', monitor='acc/mean1', patience=1, min_delta=1.0)


def test_early_stopping_stops_a_run_and_best_checkpoint_follows_any_metric(tmp_path):
    kwargs = evaluating_kwargs(tmp_path, max_epochs=5, custom_hooks=[EARLY_STOPPING])
    kwargs['default_hooks'] = dict(
        checkpoint=dict(type='CheckpointHook', interval=1, save_best='acc/mean1')
    )
    runner = ActionRunner(**kwargs)
    assert any(isinstance(hook, ActionEarlyStoppingHook) for hook in runner.hooks)
    runner.train()

    assert runner.epoch == 2
    names = {path.name for path in tmp_path.iterdir()}
    assert {'epoch_1.pth', 'epoch_2.pth'} <= names and 'epoch_3.pth' not in names
    assert len([name for name in names if name.startswith('best_acc_mean1_epoch_')]) == 1
    with open(runner.logger.log_file) as f:
        assert 'the monitored metric did not improve in the last 1 records' in f.read()


class UnreadableTrainSet(TinyDataset):
    def __len__(self) -> int:
        raise AssertionError('the training set was read')


@pytest.mark.parametrize('run', ['val', 'test'])
def test_validating_or_testing_with_early_stopping_leaves_the_train_loop_unbuilt(tmp_path, run):
    # mmengine's hook builds the train loop (and reads the training set) in before_run.
    kwargs = evaluating_kwargs(tmp_path, max_epochs=1, custom_hooks=[EARLY_STOPPING])
    kwargs['train_dataloader']['dataset'] = UnreadableTrainSet()
    # ActionCheckpointHook._save_best_checkpoint fails in a bare val() (no file_backend yet).
    kwargs['default_hooks'] = dict(checkpoint=None)
    runner = ActionRunner(**kwargs)
    metrics = getattr(runner, run)()
    assert set(metrics) == {'acc/top1', 'acc/mean1'}


def test_checkpoint_hook_stays_ours_next_to_the_replaced_hooks(tmp_path):
    runner = ActionRunner(**evaluating_kwargs(tmp_path, 1, custom_hooks=[EARLY_STOPPING]))
    checkpoint_hooks = [hook for hook in runner.hooks if isinstance(hook, CheckpointHook)]
    assert [type(hook).__name__ for hook in checkpoint_hooks] == ['ActionCheckpointHook']
