"""First contact (issue 14): each common config mistake ends ``tools/train.py`` before anything is
built, with the fix in the last lines of stderr and exit status 2.

The issue's two cases run as a user runs them, in a process of their own (the first in a fresh
interpreter, the second forked from the tests' tool server: see ``conftest.run_tool``); the others
run the same script in this process, since each interpreter start costs seconds.
"""

import runpy
import sys

import pytest
from conftest import REPO, run_tool

TRAIN = REPO / 'tools' / 'train.py'
LAST_LINES = 5


@pytest.fixture
def config(tmp_path):
    """The demo recipe with annotation lists that do not exist: if a mistake slipped through the
    config checks, the run would still stop, with another message, before any training."""
    path = tmp_path / 'tiny.py'
    path.write_text(
        f'_base_ = [{str(REPO / "configs/demo/tsn_r18_demo_pretrain.py")!r}]\n'
        f'train_dataloader = dict(dataset=dict(ann_file={str(tmp_path / "train.txt")!r}))\n'
        f'val_dataloader = dict(dataset=dict(ann_file={str(tmp_path / "val.txt")!r}))\n'
    )
    return path


def tail(stderr: str) -> str:
    return '\n'.join(stderr.strip().splitlines()[-LAST_LINES:])


def run_in_process(monkeypatch, capfd, *argv: str, tool=TRAIN):
    """``python TOOL ARGV`` in this interpreter: ``(exit status, stdout, stderr)``."""
    monkeypatch.setattr(sys, 'argv', [str(tool), *argv])
    with pytest.raises(SystemExit) as exited:
        runpy.run_path(str(tool), run_name='__main__')
    out, err = capfd.readouterr()
    return exited.value.code, out, err


@pytest.mark.parametrize(
    'option, fix',
    [
        ('optim_wrapper.optimizer.type=SDG', "(did you mean 'SGD'?)"),
        ('model.backbone.type=ResNett', "(did you mean 'ResNet'"),
    ],
)
def test_issue_cases_in_a_process_of_their_own(config, tmp_path, option, fix):
    work_dir = tmp_path / 'work'
    result = run_tool(
        str(TRAIN), str(config), '--work-dir', str(work_dir), '--cfg-options', option, cwd=REPO,
        fresh='SDG' in option,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr[-3000:]
    assert fix in tail(result.stderr)
    assert tail(result.stderr).startswith('error: --cfg-options: ')
    assert 'Traceback' not in result.stderr
    assert not work_dir.exists()  # the runner, which makes it, was never built


@pytest.mark.parametrize(
    'option, fix',
    [
        ('train_dataloader.dataset.pipeline.1.type=SampleFrame', "(did you mean 'SampleFrames'"),
        ('param_scheduler.0.type=MultiStepLRR', "(did you mean 'MultiStepLR'"),
        ('val_evaluator.type=AccMetricc', "(did you mean 'AccMetric'?)"),
        ('default_hooks.checkpoint.type=CheckpointHok', "(did you mean 'CheckpointHook'"),
        ('train_dataloader.dataset.type=VideoDatset', "(did you mean 'VideoDataset'?)"),
        ('val_evaluater.type=AccMetric', "unknown key 'val_evaluater' in config (did you mean "
         "'val_evaluator'?)"),
        ('model.backbone.deptth=18', "model.backbone.deptth is not an argument of ResNet (did "
         "you mean 'depth'?)"),
    ],
)  # fmt: skip
def test_each_mistake_ends_with_its_fix(config, tmp_path, monkeypatch, capfd, option, fix):
    work_dir = tmp_path / 'work'
    status, out, err = run_in_process(
        monkeypatch, capfd, str(config), '--work-dir', str(work_dir), '--cfg-options', option
    )
    assert status == 2
    assert fix in tail(err)
    assert 'Epoch(train)' not in out + err
    assert not work_dir.exists()


def test_string_lr_names_the_line_and_the_fix(config, tmp_path, monkeypatch, capfd):
    leaf = tmp_path / 'string_lr.py'
    leaf.write_text(f"_base_ = [{str(config)!r}]\noptim_wrapper = dict(optimizer=dict(lr='0.01'))")
    status, _, err = run_in_process(monkeypatch, capfd, str(leaf))
    assert status == 2
    assert tail(err) == (
        f"error: {leaf}:2: optim_wrapper.optimizer.lr must be a number, got '0.01' (str); "
        'write lr=0.01 without quotes'
    )


def test_a_correct_config_gets_past_the_checks_to_the_data(config, tmp_path, monkeypatch, capfd):
    # The control: without a mistake, the next stop is the missing annotation lists.
    status, _, err = run_in_process(
        monkeypatch, capfd, str(config), '--work-dir', str(tmp_path / 'work')
    )
    assert status == 2
    assert f"train_dataloader.dataset.ann_file = '{tmp_path / 'train.txt'}'" in tail(err)
    assert tail(err).splitlines()[-1].startswith('Prepare the data as described in docs/')


def test_test_tool_ends_with_the_fix_too(config, tmp_path, monkeypatch, capfd):
    status, _, err = run_in_process(
        monkeypatch,
        capfd,
        str(config),
        str(tmp_path / 'never_read.pth'),
        '--cfg-options',
        'model.cls_head.num_class=8',
        tool=REPO / 'tools' / 'test.py',
    )
    assert status == 2
    assert tail(err).startswith(
        'error: --cfg-options: model.cls_head.num_class is not an argument of TSNHead (did you '
        "mean 'num_classes'?)"
    )
