"""A run interrupted after a mid-epoch checkpoint and resumed ends like the uninterrupted run.

TSN-R18 on the tiny demo videos (32 train videos, batch 8: 4 iterations per epoch, 2 epochs,
validation after each), seed 0, ``deterministic=True``, CPU. The pipeline draws from python's
and numpy's RNGs (SampleFrames offsets, MultiScaleCrop, Flip) and the head's dropout from
torch's, so each of them must be restored at the right sample for the weights to match.
"""

import gc
import random
import uuid
from pathlib import Path

import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.hooks import Hook
from test_runner_resume import TinyDataset, runner_kwargs

from mmaction_ft.config import load_config
from mmaction_ft.demo.data import make_demo_dataset
from mmaction_ft.engine import ActionRunner

CONFIGS = Path(__file__).resolve().parents[2] / 'configs'

pytestmark = pytest.mark.slow


class Recorder(Hook):
    """Records what each trained iteration saw and logged, and the validation metrics."""

    priority = 'LOWEST'

    def __init__(self, crash_after_iter=None) -> None:
        self.losses, self.positions, self.metrics = {}, [], []
        self.crash_after_iter = crash_after_iter

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        self.losses[runner.iter] = float(outputs['loss'])
        self.positions.append((runner.epoch, batch_idx, runner.iter))
        # Runs after CheckpointHook (VERY_LOW): the checkpoint of this iteration is on disk.
        if runner.iter == self.crash_after_iter:
            raise KeyboardInterrupt('simulated kill')

    def after_val_epoch(self, runner, metrics=None) -> None:
        self.metrics.append(dict(metrics))


@pytest.fixture(scope='module')
def demo_config(tmp_path_factory) -> Config:
    root = tmp_path_factory.mktemp('exact_resume')
    data = make_demo_dataset(
        str(root / 'data'),
        class_set='source',
        videos_per_class=6,
        val_per_class=2,
        num_frames=12,
        size=64,
        formats=('videos',),
    )
    config = root / 'tiny_tsn.py'
    config.write_text(f"""
_base_ = [{str(CONFIGS / 'demo/tsn_r18_demo_pretrain.py')!r}]
prefix = dict(video={data['videos_prefix']!r})
label_map = {data['label_map']!r}
train_dataloader = dict(batch_size=8, num_workers=0, persistent_workers=False,
    dataset=dict(ann_file={data['train_list_videos']!r}, data_prefix=prefix, label_map=label_map))
val_dataloader = dict(batch_size=8, num_workers=0, persistent_workers=False,
    dataset=dict(ann_file={data['val_list_videos']!r}, data_prefix=prefix, label_map=label_map))
train_cfg = dict(max_epochs=2, val_interval=1)
# One ResNet stage: the RNG streams under test do not depend on the depth, the run time does.
model = dict(backbone=dict(num_stages=1, out_indices=(0,)), cls_head=dict(in_channels=64))
# A checkpoint every 3 iterations: iter_3.pth is 3 batches into epoch 1 (of 4 batches),
# iter_6.pth 2 batches into epoch 2, after a validation; save_best re-saves iter_4.pth after
# the first validation (an epoch boundary, written during validation).
default_hooks = dict(logger=dict(interval=1),
                     checkpoint=dict(by_epoch=False, interval=3, max_keep_ckpts=1))
randomness = dict(seed=0, deterministic=True)
""")
    cfg, _ = load_config(str(config))
    return cfg


@pytest.fixture(autouse=True, scope='module')
def _reset_determinism():
    yield
    torch.use_deterministic_algorithms(False)
    _UNINTERRUPTED.clear()


def _train(cfg: Config, work_dir, num_workers: int, recorder: Recorder, resume: bool = False):
    cfg = cfg.copy()
    cfg.work_dir = str(work_dir)
    cfg.experiment_name = f'exact-resume-{uuid.uuid4().hex}'
    cfg.resume = resume
    cfg.train_dataloader.num_workers = num_workers
    runner = ActionRunner.from_cfg(cfg)
    runner.register_hook(recorder)
    try:
        runner.train()
    except KeyboardInterrupt:
        pass
    return runner


_UNINTERRUPTED: dict = {}


@pytest.fixture
def uninterrupted(demo_config, tmp_path_factory):
    """The uninterrupted run for a number of dataloader workers (trained once per module)."""

    def get(num_workers: int) -> dict:
        if num_workers not in _UNINTERRUPTED:
            full = Recorder()
            work_dir = tmp_path_factory.mktemp('full')
            runner = _train(demo_config, work_dir, num_workers, full)
            _UNINTERRUPTED[num_workers] = dict(
                full=full,
                weights={k: v.clone() for k, v in runner.model.state_dict().items()},
                history=runner.message_hub.get_scalar('train/loss').data[0].copy(),
            )
        return _UNINTERRUPTED[num_workers]

    return get


# runner.iter is 0-based: crash after the 3rd, 5th or 7th iteration. One worker (the augmentation
# draws happen in the worker, replayed there) is checked at the mid-epoch checkpoint after a
# validation, the hardest case, to keep the test within a few minutes.
@pytest.mark.parametrize('num_workers, crash_after_iter', [(0, 2), (0, 4), (0, 6), (1, 6)], ids=str)
def test_resume_after_mid_epoch_checkpoint_is_exact(
    uninterrupted, demo_config, tmp_path, num_workers, crash_after_iter
):
    runs = uninterrupted(num_workers)
    before = Recorder(crash_after_iter=crash_after_iter)
    _train(demo_config, tmp_path, num_workers, before)
    checkpoint = {2: 'iter_3.pth', 4: 'iter_4.pth', 6: 'iter_6.pth'}[crash_after_iter]
    assert (tmp_path / 'last_checkpoint').read_text().endswith(checkpoint)

    after = Recorder()
    resumed = _train(demo_config, tmp_path, num_workers, after, resume=True)

    # The resumed run trains from the batch after the checkpoint, not from the epoch's start.
    first = int(checkpoint[len('iter_') : -len('.pth')])
    assert after.positions[0] == (first // 4, first % 4, first)
    assert sorted(after.losses) == list(range(first, 8))

    full = runs['full']
    for key, value in runs['weights'].items():
        assert torch.equal(resumed.model.state_dict()[key], value), key
    logged = {**{i: v for i, v in before.losses.items() if i < first}, **after.losses}
    assert logged == full.losses
    # The message hub's loss history (what the logger averages) is the same sequence.
    history = resumed.message_hub.get_scalar('train/loss').data[0]
    assert history.tolist() == runs['history'].tolist()
    assert before.metrics[: first // 4] + after.metrics == full.metrics


class NoisyDataset(TinyDataset):
    """TinyDataset with an augmentation drawing from python's, numpy's and torch's RNGs."""

    def __getitem__(self, index: int) -> dict:
        item = super().__getitem__(index)
        item['inputs'] = item['inputs'] + random.random() + np.random.rand() + torch.rand(1)
        return item


def _train_tiny(work_dir, crash_after_iter=None, resume: bool = False) -> dict:
    """TinyModel on NoisyDataset: 4 iterations per epoch, 2 epochs, 2 persistent workers,
    a checkpoint every 3 iterations (iter_3.pth in epoch 1, iter_6.pth in epoch 2).

    Returns the final weights, iteration and log; the runner and its workers are gone by then.
    """
    torch.manual_seed(0)  # TinyModel is built here, before the runner seeds the RNGs
    kwargs = runner_kwargs(work_dir, max_epochs=2, resume=resume)
    kwargs['train_dataloader'] = dict(
        kwargs['train_dataloader'],
        dataset=NoisyDataset(),
        batch_size=2,
        num_workers=2,
        persistent_workers=True,
    )
    kwargs['default_hooks'] = dict(
        checkpoint=dict(type='CheckpointHook', by_epoch=False, interval=3, max_keep_ckpts=1)
    )
    runner = ActionRunner(**kwargs)
    runner.register_hook(Recorder(crash_after_iter=crash_after_iter))
    try:
        runner.train()
    except KeyboardInterrupt:
        pass
    result = dict(
        weights={k: v.clone() for k, v in runner.model.state_dict().items()},
        iter=runner.iter,
        log=open(runner.logger.log_file).read(),
    )
    # Persistent workers of a loader that a Runner built ignore the polite stop and are killed
    # after torch's 5 s timeout, each; end them at once (their work is done).
    for worker in getattr(getattr(runner.train_dataloader, '_iterator', None), '_workers', []):
        worker.terminate()
    del runner
    gc.collect()  # the loader sits in reference cycles (the interrupted loop's frames)
    return result


PERSISTENT_WARNING = 'resuming in epoch 2 with train_dataloader.persistent_workers=True'


def test_persistent_workers_resume_inside_the_first_epoch_is_exact(tmp_path):
    full = _train_tiny(tmp_path / 'full')
    _train_tiny(tmp_path / 'crash', crash_after_iter=2)  # after iter_3.pth, in epoch 1
    resumed = _train_tiny(tmp_path / 'crash', resume=True)
    assert 'resumed epoch: 0, iter: 3' in resumed['log']
    for key, value in full['weights'].items():
        assert torch.equal(resumed['weights'][key], value), key
    assert PERSISTENT_WARNING not in resumed['log']


def test_persistent_workers_resume_after_the_first_epoch_warns(tmp_path):
    _train_tiny(tmp_path, crash_after_iter=5)  # after iter_6.pth, in epoch 2
    resumed = _train_tiny(tmp_path, resume=True)
    assert 'resumed epoch: 1, iter: 6' in resumed['log'] and resumed['iter'] == 8
    assert f'{PERSISTENT_WARNING} (num_workers=2)' in resumed['log']
    assert 'set persistent_workers=False for a bit-exact resume' in resumed['log']
