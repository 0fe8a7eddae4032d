"""tools/train.py killed for real (SIGKILL) and resumed with --resume ends as if never killed.

One uninterrupted run, and beside it one run that is killed twice and resumed twice:

1. killed while ``iter_6.pth`` is being written (half its bytes are on disk). The last
   checkpoint ``iter_4.pth`` must still be there, intact and named by ``last_checkpoint``. To
   also check the fallback for a damaged latest checkpoint, the half-written file is then put
   where a non-atomic writer (mmengine's own) would have left it: as ``iter_6.pth``, named by
   ``last_checkpoint``.
2. ``--resume`` falls back to ``iter_4.pth`` (an epoch boundary, saved after a validation) and
   says so; killed again mid-epoch, before its last iteration, after it wrote ``iter_6.pth``.
3. ``--resume`` continues from ``iter_6.pth`` (two batches into epoch 2) to the end.

The final checkpoint of both must hold the same tensors, bit for bit, and the final validation
the same accuracy. Tiny TSN (one ResNet stage) on the tiny demo videos, CPU, seed 0,
``deterministic=True``, two dataloader workers whose augmentations (SampleFrames offsets,
MultiScaleCrop) draw from their own RNGs, and dropout in the main process.
"""

import os
import re
import signal
import subprocess
import sys
from concurrent.futures import ThreadPoolExecutor

import pytest
import torch
from conftest import REPO

from mmaction_ft.engine.checkpoint_files import TMP_PREFIX, checkpoint_damage
from mmaction_ft.visualization.training_logs import load_training_log

pytestmark = pytest.mark.slow

HERE = os.path.dirname(os.path.abspath(__file__))

# 32 train videos / batch 8 = 4 iterations per epoch, 2 epochs. A checkpoint every 3
# iterations, the newest one kept: iter_3.pth (3 batches into epoch 1), then after the first
# validation best_acc_top1_iter_4.pth and iter_4.pth again (save_best re-saves the latest
# checkpoint), iter_6.pth (2 batches into epoch 2), iter_8.pth (the last iteration).
CONFIG = """
_base_ = [{base!r}]
custom_imports = dict(imports=['sigkill_points'], allow_failed_imports=False)
model = dict(backbone=dict(num_stages=1, out_indices=(0,)), cls_head=dict(in_channels=64))
train_dataloader = dict(batch_size=8, num_workers=2, persistent_workers=False)
val_dataloader = dict(batch_size=16, num_workers=0, persistent_workers=False)
train_cfg = dict(max_epochs=2, val_interval=1)
default_hooks = dict(
    logger=dict(interval=1),
    checkpoint=dict(by_epoch=False, interval=3, max_keep_ckpts=1, save_best='acc/top1'))
randomness = dict(seed=0, deterministic=True)
"""


@pytest.fixture(scope='module')
def config(tiny_demo, tmp_path_factory):
    path = tmp_path_factory.mktemp('crash') / 'crash_tsn.py'
    path.write_text(CONFIG.format(base=str(tiny_demo['config'])))
    return path


def train(config, work_dir, *extra: str, **kill_at: int) -> tuple:
    """Run tools/train.py to its end or to its SIGKILL; return (returncode, its output)."""
    env = dict(os.environ, OMP_NUM_THREADS='1', PYTHONPATH=HERE)
    env.update({f'SIGKILL_{key.upper()}': str(value) for key, value in kill_at.items()})
    log = (
        work_dir.parent
        / f'{work_dir.name}-{len(list(work_dir.parent.glob(work_dir.name + "-*")))}.out'
    )
    with open(log, 'w') as out:
        process = subprocess.Popen(
            [sys.executable, 'tools/train.py', str(config), '--work-dir', str(work_dir), *extra],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        try:
            returncode = process.wait(timeout=300)
        finally:
            # The dataloader workers of a killed run notice their parent's death only after a
            # few seconds: end them with it (they are in its process group).
            try:
                os.killpg(process.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
    return returncode, log.read_text()


def final_val_top1(log: str) -> float:
    return float(re.findall(r'Epoch\(val\) \[2\]\[\d+/\d+\]\s+acc/top1: ([0-9.]+)', log)[-1])


def test_killed_twice_and_resumed_ends_like_the_uninterrupted_run(config, tmp_path):
    full_dir, crash_dir = tmp_path / 'full', tmp_path / 'crash'
    with ThreadPoolExecutor(2) as pool:
        full = pool.submit(train, config, full_dir)
        # Saves of this process: iter_3, best_acc_top1_iter_4, iter_4, then iter_6 (4th).
        returncode, log = train(config, crash_dir, in_save=4)
        full_returncode, full_log = full.result()
    assert full_returncode == 0, full_log[-3000:]

    # 1. Killed while writing iter_6.pth: only its temporary file is half written.
    assert returncode == -signal.SIGKILL, log[-3000:]
    assert 'Saving checkpoint at 6 iterations' in log
    latest = crash_dir / 'iter_4.pth'
    assert (crash_dir / 'last_checkpoint').read_text() == str(latest)
    assert checkpoint_damage(str(latest)) is None
    assert not (crash_dir / 'iter_6.pth').exists()
    (partial,) = crash_dir.glob(f'{TMP_PREFIX}*iter_6.pth')
    assert 'truncated' in checkpoint_damage(str(partial))
    assert (crash_dir / 'best_acc_top1_iter_4.pth').is_file()

    damaged = crash_dir / 'iter_6.pth'
    damaged.write_bytes(partial.read_bytes())  # what a non-atomic writer leaves
    (crash_dir / 'last_checkpoint').write_text(str(damaged))

    # 2. Resumed from the newest intact checkpoint, killed again mid-epoch.
    returncode, log = train(config, crash_dir, '--resume', before_iter=7)
    assert returncode == -signal.SIGKILL, log[-3000:]
    assert (
        f'the latest checkpoint {damaged} (from {crash_dir / "last_checkpoint"}) is unusable: '
        f'the file is truncated (its zip directory is missing); resuming from the newest '
        f'intact checkpoint {latest} instead'
    ) in log
    assert re.search(r'resumed epoch: 1, iter: 4\b', log)
    assert (
        f'interrupted checkpoint writes left (incomplete, never renamed into place): {partial}'
        in log
    )
    assert not partial.exists()
    assert 'Epoch(train) [2][3/4]' in log and 'Epoch(train) [2][4/4]' not in log
    assert (crash_dir / 'last_checkpoint').read_text() == str(damaged)
    assert checkpoint_damage(str(damaged)) is None  # written again, completely
    assert not latest.exists()  # max_keep_ckpts=1, deleted after iter_6.pth was in place

    # 3. Resumed two batches into epoch 2, to the end.
    returncode, log = train(config, crash_dir, '--resume')
    assert returncode == 0, log[-3000:]
    assert re.search(r'resumed epoch: 1, iter: 6\b', log)
    assert not re.search(r'Epoch\(train\) \[2\]\[[12]/4\]', log)  # not trained again

    expected = torch.load(full_dir / 'iter_8.pth', map_location='cpu', weights_only=False)
    resumed = torch.load(crash_dir / 'iter_8.pth', map_location='cpu', weights_only=False)
    assert list(resumed['state_dict']) == list(expected['state_dict'])
    for key, value in expected['state_dict'].items():
        assert torch.equal(resumed['state_dict'][key], value), key
    for index, state in expected['optimizer']['state'].items():
        for key, value in state.items():
            assert torch.equal(resumed['optimizer']['state'][index][key], value), (index, key)
    assert torch.equal(
        resumed['meta']['rng_state']['torch'], expected['meta']['rng_state']['torch']
    )
    assert final_val_top1(log) == final_val_top1(full_log)

    # analyze_logs reads the three starts as one run: the same curve as the uninterrupted run.
    crashed, uninterrupted = load_training_log(str(crash_dir)), load_training_log(str(full_dir))
    assert len(crashed.files) == 3
    assert [(r['iter'], r['loss']) for r in crashed.train] == [
        (r['iter'], r['loss']) for r in uninterrupted.train
    ]
    assert [r['acc/top1'] for r in crashed.val] == [r['acc/top1'] for r in uninterrupted.val]
