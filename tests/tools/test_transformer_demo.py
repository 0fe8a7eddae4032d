"""The demo-size ViT (configs/demo/vit_demo.py) end to end with the tools, on the CPU:

- finetunes from an 8-class checkpoint with the head swap logged, and a run interrupted after
  epoch 1 and continued with ``--resume`` ends with the same weights and losses as an
  uninterrupted one; its checkpoint passes tools/test.py's multi-view test (2 clips x 3 crops);
- trains under mmengine's FlexibleRunner + FSDPStrategy on 2 processes over gloo, loading
  ``load_from`` before sharding, and writes a full checkpoint that tools/test.py reads.
"""

import os
import pickle
import re
import subprocess

import pytest
import torch
from conftest import REPO, run_tool
from mmengine.registry import DefaultScope

from mmaction_ft.config import load_config
from mmaction_ft.demo.data import make_demo_dataset
from mmaction_ft.registry import MODELS

pytestmark = pytest.mark.slow

REINIT = re.compile(r'(\S+): checkpoint has (\d+) classes, model has (\d+) -> re-initialised')
TRAIN_LOSS = re.compile(r'Epoch\(train\)\s+\[(\d+)\]\[(\d+)/\d+\].*?\sloss: ([0-9.]+)')


@pytest.fixture(scope='module')
def tiny_target(tmp_path_factory) -> dict:
    """2 train + 1 val videos of each of the 5 target motions, 16 frames of 64 px."""
    root = tmp_path_factory.mktemp('tiny_vit_target')
    return make_demo_dataset(
        str(root / 'data'),
        class_set='target',
        videos_per_class=3,
        val_per_class=1,
        num_frames=16,
        size=64,
        formats=('videos',),
    )


def _write_config(data: dict, path, extra: str = '') -> None:
    """vit_demo on the tiny data, 2 epochs of 2 iterations, its own LR schedule kept.

    Resuming restores weights, optimizer, schedule, epoch and the data order, not the random
    streams of the main process: drop path and mixup / cutmix are off here so that two runs
    can be compared exactly. Non-persistent workers are re-seeded each epoch by mmengine, so
    the pipeline's random crops are the same in both runs and stay on.
    """
    path.write_text(f"""
_base_ = [{str(REPO / 'configs/demo/vit_demo.py')!r}]
model = dict(backbone=dict(drop_path_rate=0.0), data_preprocessor=dict(blending=None))
dataset = dict(data_prefix=dict(video={data['videos_prefix']!r}), label_map={data['label_map']!r})
train_dataloader = dict(batch_size=5, num_workers=1, persistent_workers=False,
                        dataset=dict(ann_file={data['train_list_videos']!r}, **dataset))
val_dataloader = dict(batch_size=5, num_workers=0, persistent_workers=False,
                      dataset=dict(ann_file={data['val_list_videos']!r}, **dataset))
test_dataloader = dict(batch_size=1, num_workers=0, persistent_workers=False,
                       dataset=dict(ann_file={data['val_list_videos']!r}, **dataset))
train_cfg = dict(max_epochs=2, val_interval=1)
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=1, max_keep_ckpts=3))
{extra}
""")


def _source_checkpoint(config, path) -> None:
    """An 8-class checkpoint of the config's model, as a model zoo would publish it."""
    cfg, _ = load_config(str(config))
    cfg.model.cls_head.num_classes = 8
    cfg.model.data_preprocessor.pop('blending', None)
    with DefaultScope.overwrite_default_scope('mmaction_ft'):
        model = MODELS.build(cfg.model)
    torch.save({'state_dict': model.state_dict(), 'meta': {}}, path)


def _losses(log: str, epoch: int) -> list:
    return [float(v) for e, _, v in TRAIN_LOSS.findall(log) if int(e) == epoch]


def _weights(path) -> dict:
    return torch.load(path, map_location='cpu', weights_only=False)['state_dict']


def test_vit_demo_finetunes_resumes_exactly_and_tests(tiny_target, tmp_path):
    config = tmp_path / 'tiny_vit_demo.py'
    _write_config(tiny_target, config)
    source = tmp_path / 'source.pth'
    _source_checkpoint(config, source)
    common = ('--seed', '0', '--cfg-options', f'load_from={source}')

    # Uninterrupted: 2 epochs.
    full = tmp_path / 'full'
    result = run_tool('tools/train.py', str(config), '--work-dir', str(full), *common, cwd=REPO)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-3000:]
    assert REINIT.findall(log) == [('cls_head.fc_cls', '8', '5')]
    assert 'skipped' not in log

    # Interrupted after epoch 1 (its last checkpoint is epoch_1.pth), then --resume.
    part = tmp_path / 'part'
    result = run_tool(
        'tools/train.py',
        str(config),
        '--work-dir',
        str(part),
        *common,
        'train_cfg.max_epochs=1',
        cwd=REPO,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    result = run_tool(
        'tools/train.py', str(config), '--work-dir', str(part), '--resume', *common, cwd=REPO
    )
    resumed_log = result.stdout + result.stderr
    assert result.returncode == 0, resumed_log[-3000:]
    assert re.search(r'resumed epoch: 1, iter: 2', resumed_log)
    assert _losses(resumed_log, 1) == []  # epoch 1 is not trained again
    assert _losses(resumed_log, 2) == _losses(log, 2) and len(_losses(log, 2)) == 2

    expected, got = _weights(full / 'epoch_2.pth'), _weights(part / 'epoch_2.pth')
    assert expected.keys() == got.keys()
    for key in expected:
        torch.testing.assert_close(got[key], expected[key], rtol=0, atol=0, msg=key)

    # Multi-view test: 2 clips x 3 crops per video, averaged by the head.
    dump = tmp_path / 'preds.pkl'
    result = run_tool(
        'tools/test.py',
        str(config),
        str(full / 'epoch_2.pth'),
        '--work-dir',
        str(tmp_path / 'test'),
        '--dump',
        str(dump),
        cwd=REPO,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    top1 = float(re.search(r'acc/top1: ([0-9.]+)', result.stdout).group(1))
    assert 0 <= top1 <= 1
    with open(dump, 'rb') as f:
        preds = pickle.load(f)
    assert len(preds) == 5
    # One score row per video after averaging its 6 views (probabilities: they sum to 1).
    scores = torch.as_tensor(preds[0]['pred_score'])
    assert scores.shape == (5,)
    assert float(scores.sum()) == pytest.approx(1.0, abs=1e-5)


def test_vit_demo_trains_with_fsdp_on_two_cpu_processes(tiny_target, tmp_path):
    config = tmp_path / 'tiny_vit_fsdp.py'
    # Each block (~112 k parameters) becomes its own FSDP unit, as each ViT-L block does in
    # configs/recognition/videomae/vit_large_p16_videomae_16x4x1_ucf101_fsdp.py.
    _write_config(
        tiny_target,
        config,
        extra="""
runner_type = 'FlexibleRunner'
strategy = dict(
    type='FSDPStrategy',
    state_dict_cfg='full',
    model_wrapper=dict(
        auto_wrap_policy=dict(
            type='torch.distributed.fsdp.wrap.size_based_auto_wrap_policy',
            min_num_params=100000)))
optim_wrapper = dict(clip_grad=None)
""",
    )
    source = tmp_path / 'source.pth'
    _source_checkpoint(config, source)
    work_dir = tmp_path / 'work'
    env = dict(os.environ, OMP_NUM_THREADS='1')
    result = subprocess.run(
        [
            'torchrun',
            '--nproc_per_node',
            '2',
            '--master_port',
            '29531',
            'tools/train.py',
            str(config),
            '--launcher',
            'pytorch',
            '--work-dir',
            str(work_dir),
            '--seed',
            '0',
            '--cfg-options',
            f'load_from={source}',
        ],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-4000:]
    # load_from went through mmaction_ft's loading, before sharding, once per process.
    assert REINIT.findall(log) == [('cls_head.fc_cls', '8', '5')]
    # 10 training videos, batch 5 per process: 2 processes share them in 1 iteration each.
    assert re.search(r'Epoch\(train\)\s+\[2\]\[1/1\]', log), log[-4000:]

    # A full (unsharded) checkpoint with the plain parameter names: tools/test.py loads it
    # strictly into the unwrapped model.
    checkpoint = torch.load(work_dir / 'epoch_2.pth', map_location='cpu', weights_only=False)
    assert not any('_fsdp' in k or k.startswith('module.') for k in checkpoint['state_dict'])
    assert checkpoint['state_dict']['cls_head.fc_cls.weight'].shape == (5, 96)
    result = run_tool(
        'tools/test.py',
        str(config),
        str(work_dir / 'epoch_2.pth'),
        '--work-dir',
        str(tmp_path / 'test'),
        cwd=REPO,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    assert re.search(r'acc/top1: [0-9.]+', result.stdout)
