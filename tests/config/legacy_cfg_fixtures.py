"""Config texts shared by the tests of mmaction_ft.config: the finetuning tutorial's four snippets
copied verbatim from MMAction2 0.x's "Tutorial 2: Finetuning Models", and 0.x / 1.x base files."""

import copy
from pathlib import Path
from typing import Dict, List

import torch
from mmengine.registry import DefaultScope

from mmaction_ft.registry import PARAM_SCHEDULERS

# -- the tutorial's snippets, exactly as written ------------------------------------------------

TUTORIAL_HEAD = """\
model = dict(
    type='Recognizer2D',
    backbone=dict(
        type='ResNet',
        pretrained='torchvision://resnet50',
        depth=50,
        norm_eval=False),
    cls_head=dict(
        type='TSNHead',
        num_classes=101,   # change from 400 to 101
        in_channels=2048,
        spatial_type='avg',
        consensus=dict(type='AvgConsensus', dim=1),
        dropout_ratio=0.4,
        init_std=0.01),
    train_cfg=None,
    test_cfg=dict(average_clips=None))
"""

TUTORIAL_DATASET = """\
# dataset settings
dataset_type = 'RawframeDataset'
data_root = 'data/ucf101/rawframes_train/'
data_root_val = 'data/ucf101/rawframes_val/'
ann_file_train = 'data/ucf101/ucf101_train_list.txt'
ann_file_val = 'data/ucf101/ucf101_val_list.txt'
ann_file_test = 'data/ucf101/ucf101_val_list.txt'
"""

TUTORIAL_SCHEDULE = """\
# optimizer
optimizer = dict(type='SGD', lr=0.005, momentum=0.9, weight_decay=0.0001)  # change from 0.01 to 0.005
optimizer_config = dict(grad_clip=dict(max_norm=40, norm_type=2))
# learning policy
lr_config = dict(policy='step', step=[20, 40])
total_epochs = 50 # change from 100 to 50
checkpoint_config = dict(interval=5)
"""  # noqa: E501

TUTORIAL_LOAD_FROM = """\
# use the pre-trained model for the whole TSN network
load_from = 'https://open-mmlab.s3.ap-northeast-2.amazonaws.com/mmaction/mmaction-v1/recognition/tsn_r50_1x1x3_100e_kinetics400_rgb/tsn_r50_1x1x3_100e_kinetics400_rgb_20200614-e508be42.pth'  # model path can be found in model zoo
"""  # noqa: E501

TUTORIAL_URL = (
    'https://open-mmlab.s3.ap-northeast-2.amazonaws.com/mmaction/mmaction-v1/recognition/'
    'tsn_r50_1x1x3_100e_kinetics400_rgb/tsn_r50_1x1x3_100e_kinetics400_rgb_20200614-e508be42.pth'
)

# -- the rest of a 0.x TSN config (MMAction2 0.x layout), in 0.x style --------------------------

# The dataset section after the tutorial's variables: pipelines and `data` use them.
LEGACY_DATA = """
img_norm_cfg = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_bgr=False)
train_pipeline = [
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=3),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='MultiScaleCrop', input_size=224, scales=(1, 0.875, 0.75, 0.66)),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='Collect', keys=['imgs', 'label'], meta_keys=[]),
    dict(type='ToTensor', keys=['imgs', 'label']),
]
val_pipeline = [
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=3, test_mode=True),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='Collect', keys=['imgs', 'label'], meta_keys=[]),
    dict(type='ToTensor', keys=['imgs']),
]
test_pipeline = [
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=25, test_mode=True),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='TenCrop', crop_size=224),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='Collect', keys=['imgs', 'label'], meta_keys=[]),
    dict(type='ToTensor', keys=['imgs']),
]
data = dict(
    videos_per_gpu=32,
    workers_per_gpu=2,
    test_dataloader=dict(videos_per_gpu=1),
    train=dict(type=dataset_type, ann_file=ann_file_train, data_prefix=data_root,
               pipeline=train_pipeline),
    val=dict(type=dataset_type, ann_file=ann_file_val, data_prefix=data_root_val,
             pipeline=val_pipeline),
    test=dict(type=dataset_type, ann_file=ann_file_test, data_prefix=data_root_val,
              pipeline=test_pipeline))
evaluation = dict(
    interval=5, metrics=['top_k_accuracy', 'mean_class_accuracy'], save_best='auto')
"""

LEGACY_MODEL_BASE = """
model = dict(
    type='Recognizer2D',
    backbone=dict(type='ResNet', pretrained='torchvision://resnet50', depth=50, norm_eval=False),
    cls_head=dict(type='TSNHead', num_classes=400, in_channels=2048, spatial_type='avg',
                  consensus=dict(type='AvgConsensus', dim=1), dropout_ratio=0.4, init_std=0.01),
    train_cfg=None,
    test_cfg=dict(average_clips=None))
"""

LEGACY_SCHEDULE_BASE = """
optimizer = dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0001)
optimizer_config = dict(grad_clip=dict(max_norm=40, norm_type=2))
lr_config = dict(policy='step', step=[40, 80])
total_epochs = 100
"""

LEGACY_RUNTIME_BASE = """
checkpoint_config = dict(interval=1)
log_config = dict(interval=20, hooks=[dict(type='TextLoggerHook')])
dist_params = dict(backend='nccl')
log_level = 'INFO'
load_from = None
resume_from = None
workflow = [('train', 1)]
opencv_num_threads = 0
mp_start_method = 'fork'
"""

LEGACY_BASES = {
    'models/tsn_r50.py': LEGACY_MODEL_BASE,
    'schedules/sgd_100e.py': LEGACY_SCHEDULE_BASE,
    'default_runtime.py': LEGACY_RUNTIME_BASE,
}
LEGACY_BASE_LIST = """_base_ = [
    '_base_/models/tsn_r50.py', '_base_/schedules/sgd_100e.py', '_base_/default_runtime.py'
]
"""

# -- 1.x (mmengine) style bases, as in configs/_base_ ----------------------------------------------

MODERN_MODEL_BASE = """
model = dict(
    type='Recognizer2D',
    backbone=dict(type='ResNet', pretrained='torchvision://resnet50', depth=50, norm_eval=False),
    cls_head=dict(type='TSNHead', num_classes=400, in_channels=2048, spatial_type='avg',
                  consensus=dict(type='AvgConsensus', dim=1), dropout_ratio=0.4, init_std=0.01,
                  average_clips='prob'),
    data_preprocessor=dict(type='ActionDataPreprocessor', mean=[123.675, 116.28, 103.53],
                           std=[58.395, 57.12, 57.375], format_shape='NCHW'),
    train_cfg=None,
    test_cfg=None)
"""

MODERN_SCHEDULE_BASE = """
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=100, val_begin=1, val_interval=1)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=100, by_epoch=True, milestones=[40, 80], gamma=0.1)
]
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0001),
    clip_grad=dict(max_norm=40, norm_type=2))
"""

MODERN_RUNTIME_BASE = """
default_scope = 'mmaction_ft'
default_hooks = dict(
    runtime_info=dict(type='RuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20, ignore_last=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    checkpoint=dict(type='CheckpointHook', interval=1, save_best='acc/top1', max_keep_ckpts=3),
    sampler_seed=dict(type='DistSamplerSeedHook'))
env_cfg = dict(cudnn_benchmark=False, mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
               dist_cfg=dict(backend='nccl'))
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='Visualizer', vis_backends=vis_backends)
log_level = 'INFO'
load_from = None
resume = False
"""

MODERN_BASES = {
    'models/tsn_r50.py': MODERN_MODEL_BASE,
    'schedules/sgd_100e.py': MODERN_SCHEDULE_BASE,
    'default_runtime.py': MODERN_RUNTIME_BASE,
}


def tutorial_leaf(base_list: str = LEGACY_BASE_LIST) -> str:
    """The tutorial's config: bases, then its four snippets with the 0.x data section."""
    return '\n'.join(
        [
            base_list,
            TUTORIAL_HEAD,
            TUTORIAL_DATASET,
            LEGACY_DATA,
            TUTORIAL_SCHEDULE,
            TUTORIAL_LOAD_FROM,
        ]
    )


def write_configs(root: Path, files: Dict[str, str]) -> Path:
    """Write ``{relative path: text}`` under ``root``; return the path of the first file."""
    paths = []
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        paths.append(path)
    return paths[0]


def with_bases(leaf: str, bases: Dict[str, str]) -> Dict[str, str]:
    """``{'leaf.py': leaf, '_base_/<name>': text, ...}`` for :func:`write_configs`."""
    return {'leaf.py': leaf, **{f'_base_/{name}': text for name, text in bases.items()}}


def mmengine_lrs(param_scheduler: list, epochs: int, iters: int, base_lr: float) -> List[float]:
    """The LR of every iteration with mmengine, stepping schedulers as ParamSchedulerHook does."""
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=base_lr)
    schedulers = []
    with DefaultScope.overwrite_default_scope('mmaction_ft'):
        for cfg in copy.deepcopy(param_scheduler):
            cfg.setdefault('end', epochs if cfg.get('by_epoch', True) else epochs * iters)
            schedulers.append(
                PARAM_SCHEDULERS.build(
                    cfg, default_args=dict(optimizer=optimizer, epoch_length=iters)
                )
            )
    lrs = []
    for _ in range(epochs):
        for _ in range(iters):
            lrs.append(optimizer.param_groups[0]['lr'])
            optimizer.step()
            for scheduler in schedulers:
                if not scheduler.by_epoch:
                    scheduler.step()
        for scheduler in schedulers:
            if scheduler.by_epoch:
                scheduler.step()
    return lrs
