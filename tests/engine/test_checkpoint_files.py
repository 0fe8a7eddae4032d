"""Atomic checkpoints, the auto-resume fallback, and errors that name the damaged file."""

import logging
import os
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.fileio.backends import LocalBackend
from mmengine.logging import MMLogger
from test_runner_resume import runner_kwargs

from mmaction_ft.apis.run_setup import prepare_train_cfg
from mmaction_ft.engine import ActionRunner, load_checkpoint_file
from mmaction_ft.engine.checkpoint_files import (
    checkpoint_damage,
    find_resumable_checkpoint,
    remove_interrupted_writes,
)
from mmaction_ft.engine.hooks import ActionCheckpointHook


@pytest.fixture
def trained(tmp_path):
    """A 3-epoch run keeping every checkpoint (epoch_1..3.pth), last_checkpoint -> epoch_3."""
    kwargs = runner_kwargs(tmp_path, max_epochs=3)
    kwargs['default_hooks'] = dict(checkpoint=dict(type='CheckpointHook', interval=1))
    runner = ActionRunner(**kwargs)
    assert any(type(hook) is ActionCheckpointHook for hook in runner.hooks)
    runner.train()
    return tmp_path


@pytest.fixture
def warnings_log():
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logger = MMLogger.get_current_instance()
    logger.addHandler(handler)
    yield records
    logger.removeHandler(handler)


def _truncate(path) -> None:
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])


def test_intact_latest_checkpoint_is_used(trained):
    assert find_resumable_checkpoint(str(trained)) == str(trained / 'epoch_3.pth')


@pytest.mark.parametrize('damage', ['truncated', 'deleted', 'empty_pointer', 'no_pointer'])
def test_resume_falls_back_to_newest_intact_checkpoint(trained, warnings_log, damage):
    latest = trained / 'epoch_3.pth'
    expected_problem = {
        'truncated': 'truncated',
        'deleted': 'does not exist',
        'empty_pointer': 'last_checkpoint is empty',
        'no_pointer': 'last_checkpoint does not exist',
    }[damage]
    if damage == 'truncated':
        _truncate(latest)
    elif damage == 'deleted':
        latest.unlink()
    elif damage == 'empty_pointer':
        (trained / 'last_checkpoint').write_text('')
        latest.unlink()  # so the newest intact file is epoch_2, not what the pointer said
    else:
        (trained / 'last_checkpoint').unlink()
        latest.unlink()
    os.utime(trained / 'epoch_1.pth', (1, 1))  # mtimes within a second would tie otherwise
    found = find_resumable_checkpoint(str(trained))
    assert found == str(trained / 'epoch_2.pth')
    message = '\n'.join(r.getMessage() for r in warnings_log if r.levelno == logging.WARNING)
    assert expected_problem in message
    assert f'resuming from the newest intact checkpoint {found}' in message

    # --resume (auto) in tools/train.py leaves the search to the runner (next test), whose log
    # file then records the fallback.
    cfg = prepare_train_cfg(Config(dict(optim_wrapper={})), 'x.py', str(trained), 'auto')
    assert (cfg.resume, cfg.load_from) == (True, None)


def test_runner_auto_resume_uses_the_fallback(trained):
    _truncate(trained / 'epoch_3.pth')
    runner = ActionRunner(**runner_kwargs(trained, max_epochs=3, resume=True))
    runner.train()  # resumes at epoch 2 and trains the third epoch again
    assert runner.epoch == 3
    log = open(runner.logger.log_file).read()
    assert 'is unusable: the file is truncated' in log
    assert f'resuming from the newest intact checkpoint {trained / "epoch_2.pth"}' in log
    assert checkpoint_damage(str(trained / 'epoch_3.pth')) is None  # rewritten, intact


def test_runner_auto_resume_with_only_a_stale_pointer_starts_a_new_run(tmp_path):
    (tmp_path / 'last_checkpoint').write_text(str(tmp_path / 'epoch_3.pth'))  # file gone
    runner = ActionRunner(**runner_kwargs(tmp_path, max_epochs=1, resume=True))
    runner.train()
    assert runner.epoch == 1
    log = open(runner.logger.log_file).read()
    assert f'resume=True: no intact checkpoint in {tmp_path}, starting a new run' in log


def test_every_checkpoint_damaged_is_an_error(trained):
    for path in trained.glob('*.pth'):
        _truncate(path)
    with pytest.raises(
        RuntimeError,
        match=r'(?s)no checkpoint in .* is intact:.*epoch_1.pth: the file is truncated',
    ):
        find_resumable_checkpoint(str(trained))


@pytest.mark.parametrize('where', ['torch.save', 'file write'])
def test_crash_while_saving_keeps_previous_checkpoint_and_pointer(tmp_path, monkeypatch, where):
    kwargs = runner_kwargs(tmp_path, max_epochs=2)
    kwargs['default_hooks'] = dict(
        checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=1)
    )
    runner = ActionRunner(**kwargs)
    if where == 'torch.save':
        real_save = torch.save

        def dying(obj, f, *args, **kwargs):
            if runner.epoch == 1:  # the second checkpoint
                raise OSError('killed while saving')
            return real_save(obj, f, *args, **kwargs)

        monkeypatch.setattr(torch, 'save', dying)
    else:
        real_put = LocalBackend.put

        def dying(self, obj, filepath):
            if runner.epoch == 1:  # half of the second checkpoint reaches the disk
                real_put(self, obj[: len(obj) // 2], filepath)
                raise OSError('killed while saving')
            return real_put(self, obj, filepath)

        monkeypatch.setattr(LocalBackend, 'put', dying)
    with pytest.raises(OSError, match='killed while saving'):
        runner.train()

    assert sorted(p.name for p in tmp_path.iterdir() if p.suffix == '.pth') == ['epoch_1.pth']
    assert (tmp_path / 'last_checkpoint').read_text() == str(tmp_path / 'epoch_1.pth')
    assert checkpoint_damage(str(tmp_path / 'epoch_1.pth')) is None
    assert not [p for p in tmp_path.iterdir() if p.name.startswith('.tmp-')]  # cleaned up


def test_old_checkpoint_is_deleted_only_after_the_new_one_is_written(tmp_path):
    kwargs = runner_kwargs(tmp_path, max_epochs=3)
    kwargs['default_hooks'] = dict(
        checkpoint=dict(type='CheckpointHook', interval=1, max_keep_ckpts=1)
    )
    ActionRunner(**kwargs).train()
    assert sorted(p.name for p in tmp_path.glob('*.pth')) == ['epoch_3.pth']
    checkpoint = load_checkpoint_file(str(tmp_path / 'epoch_3.pth'))
    assert set(checkpoint['meta']['rng_state']) >= {'python', 'numpy', 'torch'}


@pytest.mark.parametrize('weights_only', [True, False])
def test_truncated_checkpoint_error_names_the_file(trained, weights_only):
    path = trained / 'epoch_3.pth'
    _truncate(path)
    with pytest.raises(RuntimeError, match=f'{path}: it is damaged, the file is truncated'):
        load_checkpoint_file(str(path), weights_only=weights_only)


def test_resume_from_truncated_file_names_it(trained, tmp_path_factory):
    path = trained / 'epoch_2.pth'
    _truncate(path)
    runner = ActionRunner(
        **runner_kwargs(tmp_path_factory.mktemp('r'), 3, load_from=str(path), resume=True)
    )
    with pytest.raises(RuntimeError, match=f'{path}: it is damaged'):
        runner.train()


@pytest.fixture
def best_hook(tmp_path):
    """A runner trained one epoch, and its checkpoint hook keeping the best 'acc'."""
    kwargs = runner_kwargs(tmp_path, max_epochs=1)
    kwargs['default_hooks'] = dict(
        checkpoint=dict(type='CheckpointHook', interval=1, save_best='acc', rule='greater')
    )
    runner = ActionRunner(**kwargs)
    runner.train()
    (hook,) = [h for h in runner.hooks if isinstance(h, ActionCheckpointHook)]
    hook.after_val_epoch(runner, dict(acc=0.5))  # best_acc_epoch_1.pth
    assert (tmp_path / 'best_acc_epoch_1.pth').is_file()
    runner.train_loop._epoch = 2  # as after the next epoch: the next best is best_acc_epoch_2
    return runner, hook


def test_previous_best_checkpoint_is_deleted_after_the_new_one_is_written(
    best_hook, tmp_path, monkeypatch
):
    runner, hook = best_hook
    previous = tmp_path / 'best_acc_epoch_1.pth'
    real_save = torch.save
    previous_exists_during_saves = []

    def watching(obj, f, *args, **kwargs):
        previous_exists_during_saves.append(previous.is_file())
        return real_save(obj, f, *args, **kwargs)

    monkeypatch.setattr(torch, 'save', watching)
    hook.after_val_epoch(runner, dict(acc=0.7))
    # The new best, then the latest checkpoint saved again with the new best in its message hub.
    assert previous_exists_during_saves == [True, True]
    assert sorted(p.name for p in tmp_path.glob('best_*.pth')) == ['best_acc_epoch_2.pth']

    hook.after_val_epoch(runner, dict(acc=0.9))  # a better score for the same epoch: same name
    assert sorted(p.name for p in tmp_path.glob('best_*.pth')) == ['best_acc_epoch_2.pth']
    best = load_checkpoint_file(str(tmp_path / 'best_acc_epoch_2.pth'))
    assert best['message_hub']['runtime_info']['best_score'] == 0.9


def test_crash_while_saving_a_new_best_keeps_the_previous_best(best_hook, tmp_path, monkeypatch):
    runner, hook = best_hook

    def dying(obj, f, *args, **kwargs):
        raise OSError('killed while saving')

    monkeypatch.setattr(torch, 'save', dying)
    with pytest.raises(OSError, match='killed while saving'):
        hook.after_val_epoch(runner, dict(acc=0.7))
    assert sorted(p.name for p in tmp_path.glob('best_*.pth')) == ['best_acc_epoch_1.pth']
    assert checkpoint_damage(str(tmp_path / 'best_acc_epoch_1.pth')) is None


def test_files_of_interrupted_writes_are_removed_when_the_next_run_starts(tmp_path):
    dead = subprocess.run(
        [sys.executable, '-c', 'import os; print(os.getpid())'],
        check=True,
        capture_output=True,
        text=True,
    )
    dead_pid = int(dead.stdout)
    left = tmp_path / f'.tmp-{dead_pid}-epoch_2.pth'
    left.write_bytes(b'PK\x03\x04 half a checkpoint')
    running = [
        tmp_path / f'.tmp-{os.getpid()}-epoch_3.pth',  # this process: being written now
        tmp_path / f'.tmp-{os.getppid()}-last_checkpoint',  # another running process
    ]
    for path in running:
        path.write_text('')
    assert remove_interrupted_writes(str(tmp_path)) == [str(left)]
    assert not left.exists() and all(path.exists() for path in running)

    # The checkpoint hook does it before training, and says so.
    (running[0]).unlink()
    left.write_bytes(b'PK\x03\x04 half a checkpoint')
    runner = ActionRunner(**runner_kwargs(tmp_path, max_epochs=1))
    runner.train()
    assert not left.exists()
    log = open(runner.logger.log_file).read()
    assert (
        f'interrupted checkpoint writes left (incomplete, never renamed into place): {left}' in log
    )
