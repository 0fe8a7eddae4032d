"""Acceptance (issue 5): a config made of the 0.x finetuning tutorial's four snippets, exactly as
written, trains with ``tools/train.py``, and trains the same model as the equivalent 1.x config.

The tutorial's relative paths (``data/ucf101/...``) are honoured by running the tool in a work
folder laid out like an MMAction2 checkout; its ``load_from`` URL is served from a pre-seeded
torch hub cache (a 400-class TSN-R50 of our own), and every proxy points at a closed port, so any
download attempt would fail the run. ResNet-50 sees 32-pixel crops and trains for 5 epochs of 2
iterations, so each run takes seconds on a CPU.
"""

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import cv2
import pytest
import torch
from legacy_cfg_fixtures import (
    LEGACY_BASE_LIST,
    LEGACY_BASES,
    TUTORIAL_DATASET,
    TUTORIAL_HEAD,
    TUTORIAL_LOAD_FROM,
    TUTORIAL_SCHEDULE,
    TUTORIAL_URL,
    with_bases,
    write_configs,
)
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper

from mmaction_ft.demo.data import make_demo_dataset
from mmaction_ft.registry import MODELS
from mmaction_ft.utils import register_all_modules
from mmaction_ft.visualization.training_logs import load_training_log, plot_curves

pytestmark = pytest.mark.slow

REPO = Path(__file__).resolve().parents[2]
TRAIN_TOOL = REPO / 'tools' / 'train.py'
CHECKPOINT_NAME = TUTORIAL_URL.rsplit('/', 1)[1]
NO_NETWORK = 'http://127.0.0.1:9'  # the discard port: nothing listens, a connection fails fast

# The dataset section of a 0.x recognition config (in 0.x it lives in the config the tutorial
# edits, below the variables of the tutorial's "Modify Dataset" snippet, never in a base: mmengine
# evaluates each base on its own, so a base's `data` would not see the leaf's `data_root` ...).
# Scaled down from the TSN Kinetics config: Resize to 40 and 32-pixel crops instead of 256 / 224,
# 4 videos per batch, no worker processes, validation after every epoch. No Flip: a horizontal
# flip swaps the demo data's left / right motions.
TINY_LEGACY_DATA = """
img_norm_cfg = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_bgr=False)
train_pipeline = [
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=3),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(-1, 40)),
    dict(type='MultiScaleCrop', input_size=32, scales=(1, 0.875, 0.75, 0.66)),
    dict(type='Resize', scale=(32, 32), keep_ratio=False),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='Collect', keys=['imgs', 'label'], meta_keys=[]),
    dict(type='ToTensor', keys=['imgs', 'label']),
]
val_pipeline = [
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=3, test_mode=True),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(-1, 40)),
    dict(type='CenterCrop', crop_size=32),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='Collect', keys=['imgs', 'label'], meta_keys=[]),
    dict(type='ToTensor', keys=['imgs']),
]
test_pipeline = val_pipeline
data = dict(
    videos_per_gpu=4,
    workers_per_gpu=0,
    test_dataloader=dict(videos_per_gpu=1),
    train=dict(type=dataset_type, ann_file=ann_file_train, data_prefix=data_root,
               pipeline=train_pipeline),
    val=dict(type=dataset_type, ann_file=ann_file_val, data_prefix=data_root_val,
             pipeline=val_pipeline),
    test=dict(type=dataset_type, ann_file=ann_file_test, data_prefix=data_root_val,
              pipeline=test_pipeline))
evaluation = dict(interval=1, metrics=['top_k_accuracy', 'mean_class_accuracy'])
"""

# The tutorial's config in the 0.x layout: model / schedule / runtime bases (0.x files), then
# the snippets in the order the tutorial gives them, with the dataset section after the dataset
# variables it reads.
LEGACY_LEAF = '\n'.join(
    [
        LEGACY_BASE_LIST,
        TUTORIAL_HEAD,
        TUTORIAL_DATASET,
        TINY_LEGACY_DATA,
        TUTORIAL_SCHEDULE,
        TUTORIAL_LOAD_FROM,
    ]
)

# 0.x keys scale the tutorial's 50-epoch schedule down: LR / 10 after epochs 2 and 4, 5 epochs,
# a checkpoint every 2 epochs, a log line every iteration.
LEGACY_OPTIONS = (
    'lr_config.step=[2,4]',
    'total_epochs=5',
    'checkpoint_config.interval=2',
    'log_config.interval=1',
)

# The same run written by hand for mmengine (MMAction2 1.x): Normalize becomes the model's data
# preprocessor, Collect + ToTensor become PackActionInputs, data_prefix a dict.
MODERN_CONFIG = f"""
default_scope = 'mmaction_ft'
model = dict(
    type='Recognizer2D',
    backbone=dict(type='ResNet', pretrained='torchvision://resnet50', depth=50, norm_eval=False),
    cls_head=dict(type='TSNHead', num_classes=101, in_channels=2048, spatial_type='avg',
                  consensus=dict(type='AvgConsensus', dim=1), dropout_ratio=0.4, init_std=0.01,
                  average_clips=None),
    data_preprocessor=dict(type='ActionDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], format_shape='NCHW'),
    train_cfg=None,
    test_cfg=None)
train_pipeline = [
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=3),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(-1, 40)),
    dict(type='MultiScaleCrop', input_size=32, scales=(1, 0.875, 0.75, 0.66)),
    dict(type='Resize', scale=(32, 32), keep_ratio=False),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs'),
]
val_pipeline = [
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=3, test_mode=True),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(-1, 40)),
    dict(type='CenterCrop', crop_size=32),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs'),
]
train_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='RawframeDataset', ann_file='data/ucf101/ucf101_train_list.txt',
                 data_prefix=dict(img='data/ucf101/rawframes_train/'), pipeline=train_pipeline))
val_dataloader = dict(
    batch_size=4, num_workers=0, persistent_workers=False,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(type='RawframeDataset', ann_file='data/ucf101/ucf101_val_list.txt',
                 data_prefix=dict(img='data/ucf101/rawframes_val/'), pipeline=val_pipeline,
                 test_mode=True))
test_dataloader = val_dataloader
val_evaluator = dict(type='AccMetric', metric_list=('top_k_accuracy', 'mean_class_accuracy'))
test_evaluator = val_evaluator
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=5, val_begin=1, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.005, momentum=0.9, weight_decay=0.0001),
    clip_grad=dict(max_norm=40, norm_type=2))
param_scheduler = [dict(type='MultiStepLR', milestones=[2, 4], gamma=0.1, by_epoch=True)]
default_hooks = dict(
    runtime_info=dict(type='RuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=1),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=2),
    sampler_seed=dict(type='DistSamplerSeedHook'))
env_cfg = dict(dist_cfg=dict(backend='nccl'),
               mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0))
log_level = 'INFO'
load_from = {TUTORIAL_URL!r}
resume = False
"""

# Both runs log the loss of every iteration, not a moving mean over 10.
COMMON_OPTIONS = ('log_processor.window_size=1',)


def _link_split(demo_list: str, folder: Path, ann_file: Path, frames_root: Path) -> None:
    """Copy a demo list to ``ann_file`` and link only its videos' frame folders under ``folder``
    (so a split reading the other split's folder fails)."""
    lines = Path(demo_list).read_text().splitlines()
    ann_file.parent.mkdir(parents=True, exist_ok=True)
    ann_file.write_text('\n'.join(lines) + '\n')
    for line in lines:
        frame_dir = line.split()[0]
        (folder / frame_dir).parent.mkdir(parents=True, exist_ok=True)
        (folder / frame_dir).symlink_to(frames_root / frame_dir, target_is_directory=True)


def _seed_hub_cache(torch_home: Path) -> Path:
    """Put a Kinetics-400 TSN-R50 checkpoint (our layout, random weights) where the tutorial's
    ``load_from`` URL is cached, as a finished earlier download would."""
    register_all_modules()
    model = MODELS.build(
        dict(
            type='Recognizer2D',
            backbone=dict(type='ResNet', depth=50, pretrained=None, norm_eval=False),
            cls_head=dict(
                type='TSNHead',
                num_classes=400,
                in_channels=2048,
                consensus=dict(type='AvgConsensus', dim=1),
            ),
        )
    )
    state_dict = {
        key: value
        for key, value in model.state_dict().items()
        if key.startswith(('backbone.', 'cls_head.'))
    }
    path = torch_home / 'hub' / 'checkpoints' / CHECKPOINT_NAME
    path.parent.mkdir(parents=True)
    torch.save({'state_dict': state_dict, 'meta': {}}, path)
    return path


@pytest.fixture(scope='module')
def workspace(tmp_path_factory) -> dict:
    """A work folder with the tutorial's ``data/ucf101`` layout, the configs and a hub cache."""
    root = tmp_path_factory.mktemp('tutorial_training')
    # 8 motion classes: 1 train and 1 val video each, 12 frames of 64 x 64.
    demo = make_demo_dataset(
        str(root / 'demo'),
        class_set='source',
        videos_per_class=2,
        val_per_class=1,
        num_frames=12,
        size=64,
        formats=('rawframes',),
    )
    ucf101 = root / 'data' / 'ucf101'
    frames = Path(demo['rawframes_prefix'])
    _link_split(
        demo['train_list_rawframes'],
        ucf101 / 'rawframes_train',
        ucf101 / 'ucf101_train_list.txt',
        frames,
    )
    _link_split(
        demo['val_list_rawframes'],
        ucf101 / 'rawframes_val',
        ucf101 / 'ucf101_val_list.txt',
        frames,
    )
    checkpoint = _seed_hub_cache(root / 'torch_home')
    legacy = write_configs(root / 'legacy', with_bases(LEGACY_LEAF, LEGACY_BASES))
    modern = root / 'modern' / 'modern.py'
    modern.parent.mkdir()
    modern.write_text(MODERN_CONFIG)
    return dict(root=root, legacy=legacy, modern=modern, checkpoint=checkpoint)


def _offline_env(workspace: dict) -> dict:
    """The environment of a run: the repository importable, the seeded hub cache, no network."""
    env = dict(os.environ)
    env['PYTHONPATH'] = os.pathsep.join([str(REPO), env.get('PYTHONPATH', '')]).rstrip(os.pathsep)
    env['TORCH_HOME'] = str(workspace['root'] / 'torch_home')
    for proxy in ('http_proxy', 'https_proxy', 'HTTP_PROXY', 'HTTPS_PROXY', 'ALL_PROXY'):
        env[proxy] = NO_NETWORK
    env.pop('NO_PROXY', None)
    env.pop('no_proxy', None)
    return env


def _train(workspace: dict, config: Path, name: str, options=()) -> dict:
    """``tools/train.py CONFIG --seed 0`` in the workspace, without network; the run's facts."""
    work_dir = workspace['root'] / 'work_dirs' / name
    env = _offline_env(workspace)
    command = [sys.executable, str(TRAIN_TOOL), str(config), '--work-dir', str(work_dir)]
    command += ['--seed', '0', '--cfg-options', *COMMON_OPTIONS, *options]
    result = subprocess.run(
        command, cwd=workspace['root'], env=env, capture_output=True, text=True, timeout=600
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-4000:]
    return dict(work_dir=work_dir, log=log)


@pytest.fixture(scope='module')
def legacy_run(workspace) -> dict:
    return _train(workspace, workspace['legacy'], 'legacy', LEGACY_OPTIONS)


@pytest.fixture(scope='module')
def modern_run(workspace) -> dict:
    return _train(workspace, workspace['modern'], 'modern')


def _train_lines(log: str) -> list:
    """``(epoch, iter, lr)`` of every ``Epoch(train) [E][i/n]  lr: ...`` log line."""
    pattern = r'Epoch\(train\)\s+\[(\d+)\]\[\s*(\d+)/\d+\]\s+(?:base_lr: \S+\s+)?lr: ([0-9.e+-]+)'
    return [(int(e), int(i), float(lr)) for e, i, lr in re.findall(pattern, log)]


def _losses(work_dir: Path) -> list:
    """The per-iteration training losses that the run wrote to its ``vis_data/scalars.json``."""
    (scalars,) = work_dir.glob('*/vis_data/scalars.json')
    records = [json.loads(line) for line in scalars.read_text().splitlines() if line.strip()]
    return [(r['epoch'], r['iter'], r['loss']) for r in records if 'loss' in r]


def test_runs_cannot_download(workspace):
    """The guard the next test relies on: in a run's environment every download fails."""
    fetch = f'import urllib.request; urllib.request.urlopen({TUTORIAL_URL!r}, timeout=20)'
    result = subprocess.run(
        [sys.executable, '-c', fetch],
        env=_offline_env(workspace),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert 'URLError' in result.stderr


def test_tutorial_config_finetunes_from_the_cached_load_from_without_any_download(
    legacy_run, workspace
):
    log = legacy_run['log']
    assert f'Using cached {workspace["checkpoint"]} for {TUTORIAL_URL}' in log
    assert f'Load checkpoint from {TUTORIAL_URL} (finetune)' in log
    # The tutorial keeps the backbone's ImageNet weights next to load_from: not fetched.
    assert "backbone.pretrained='torchvision://resnet50' not loaded" in log
    cache = workspace['root'] / 'torch_home' / 'hub' / 'checkpoints'
    assert [p.name for p in cache.iterdir()] == [CHECKPOINT_NAME]
    assert 'Downloading' not in log


def test_load_from_swaps_the_kinetics_head_for_101_classes(legacy_run):
    log = legacy_run['log']
    assert 'cls_head.fc_cls: checkpoint has 400 classes, model has 101 -> re-initialised' in log
    checkpoint = torch.load(
        legacy_run['work_dir'] / 'epoch_2.pth', map_location='cpu', weights_only=False
    )
    assert checkpoint['state_dict']['cls_head.fc_cls.weight'].shape == (101, 2048)
    assert checkpoint['state_dict']['backbone.layer4.2.conv3.conv.weight'].shape[0] == 2048


def test_step_schedule_divides_lr_by_10_after_epochs_2_and_4(legacy_run):
    lines = _train_lines(legacy_run['log'])
    # 8 training videos / 4 per batch = 2 iterations per epoch.
    assert [(epoch, i) for epoch, i, _ in lines] == [(e, i) for e in range(1, 6) for i in (1, 2)]
    expected = {1: 5e-3, 2: 5e-3, 3: 5e-4, 4: 5e-4, 5: 5e-5}
    for epoch, _, lr in lines:
        assert lr == pytest.approx(expected[epoch], rel=1e-6), f'epoch {epoch}'


def test_checkpoint_every_2_epochs_and_at_the_end(legacy_run):
    names = {p.name for p in legacy_run['work_dir'].glob('epoch_*.pth')}
    # interval 2 from --cfg-options over the tutorial's 5; the last epoch is always saved.
    assert names == {'epoch_2.pth', 'epoch_4.pth', 'epoch_5.pth'}


def test_validation_after_every_epoch_with_both_metrics(legacy_run):
    results = re.findall(
        r'Epoch\(val\) \[(\d+)\]\[\d+/\d+\]\s+acc/top1: \S+\s+acc/top5: \S+\s+acc/mean1: \S+',
        legacy_run['log'],
    )
    assert [int(epoch) for epoch in results] == [1, 2, 3, 4, 5]


def test_the_0x_runs_curves_plot(legacy_run, tmp_path):
    log = load_training_log(str(legacy_run['work_dir']))
    assert [r['step'] for r in log.val] == [1, 2, 3, 4, 5]
    out = plot_curves([log], ['loss', 'lr', 'acc/top1'], str(tmp_path / 'curves.png'))
    image = cv2.imread(out)
    assert image.shape[0] > 600 and image.std() > 20


def test_gradient_clipping_at_max_norm_40_is_in_force(legacy_run):
    # The optimizer wrapper logs the gradient norm (before clipping) only when it clips; here
    # it is far above 40, so clipping changes every step.
    norms = re.findall(r'Epoch\(train\).*grad_norm: ([0-9.]+)', legacy_run['log'])
    assert len(norms) == 10 and min(float(n) for n in norms) > 40
    dumped = Config.fromfile(str(legacy_run['work_dir'] / 'leaf.py'))
    assert dumped.optim_wrapper.clip_grad == dict(max_norm=40, norm_type=2)
    # The dumped config's wrapper clips a gradient of norm 100 down to 40.
    layer = torch.nn.Linear(1, 1, bias=False)
    register_all_modules()
    wrapper = build_optim_wrapper(layer, dumped.optim_wrapper)
    assert wrapper.clip_grad_kwargs == dict(max_norm=40, norm_type=2)
    layer.weight.grad = torch.full_like(layer.weight, 100.0)
    wrapper.step()
    assert layer.weight.grad.norm().item() == pytest.approx(40.0, rel=1e-4)


def test_dumped_config_keeps_the_tutorial_paths_and_tests_in_test_mode(legacy_run):
    dumped = Config.fromfile(str(legacy_run['work_dir'] / 'leaf.py'))
    train, val = dumped.train_dataloader.dataset, dumped.val_dataloader.dataset
    assert (train.ann_file, train.data_prefix) == (
        'data/ucf101/ucf101_train_list.txt',
        'data/ucf101/rawframes_train/',
    )
    assert (val.ann_file, val.data_prefix) == (
        'data/ucf101/ucf101_val_list.txt',
        'data/ucf101/rawframes_val/',
    )
    # 0.x tools built the val and test datasets with test_mode=True.
    assert not train.get('test_mode', False)
    assert val.test_mode and dumped.test_dataloader.dataset.test_mode
    assert dumped.model.data_preprocessor.mean == [123.675, 116.28, 103.53]


def test_equivalent_1x_config_gives_the_same_loss_curve(legacy_run, modern_run):
    legacy, modern = _losses(legacy_run['work_dir']), _losses(modern_run['work_dir'])
    assert len(legacy) == 10
    assert [(e, i) for e, i, _ in legacy] == [(e, i) for e, i, _ in modern]
    assert [loss for *_, loss in legacy] == pytest.approx([loss for *_, loss in modern], rel=1e-4)
    assert _train_lines(legacy_run['log']) == _train_lines(modern_run['log'])
    val = r'Epoch\(val\) \[\d+\]\[\d+/\d+\]\s+(acc/top1: .*)  data_time'
    assert re.findall(val, legacy_run['log']) == re.findall(val, modern_run['log'])
