"""The constructs of MMAction2 v0.24.1's own 0.x TSN configs, in our own minimal snippets: each
loads through ``load_config`` with the overrides a 0.x user passes, and builds model, pipelines,
optimizer and evaluator."""

import textwrap

import pytest
from mmengine.dataset import Compose
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope

from mmaction_ft.config import load_config
from mmaction_ft.registry import METRICS, MODELS

MODEL = """
model = dict(
    type='Recognizer2D',
    backbone=dict(type='ResNet', pretrained=None, depth=18, norm_eval=False),
    cls_head=dict(type='TSNHead', num_classes=400, in_channels=512, spatial_type='avg',
                  consensus=dict(type='AvgConsensus', dim=1), dropout_ratio=0.4, init_std=0.01),
    train_cfg=None,
    test_cfg=dict(average_clips=None))
img_norm_cfg = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_bgr=False)
"""

DATA = """
dataset_type = 'VideoDataset'
train_pipeline = [
    dict(type='DecordInit'),
    dict(type='{sampler}', clip_len=1, frame_interval=1, num_clips=3),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 64)),
    dict(type='RandomResizedCrop'),
    dict(type='Resize', scale=(56, 56), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='Collect', keys=['imgs', 'label'], meta_keys=[]),
    dict(type='ToTensor', keys=['imgs', 'label'])
]
val_pipeline = [
    dict(type='DecordInit'),
    dict(type='{sampler}', clip_len=1, frame_interval=1, num_clips=3, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 64)),
    dict(type='CenterCrop', crop_size=56),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='Collect', keys=['imgs', 'label'], meta_keys=[]),
    dict(type='ToTensor', keys=['imgs'])
]
data = dict(
    videos_per_gpu=2,
    workers_per_gpu=0,
    train=dict(type=dataset_type, ann_file='train.txt', data_prefix='', pipeline=train_pipeline),
    val=dict(type=dataset_type, ann_file='val.txt', data_prefix='', pipeline=val_pipeline),
    test=dict(type=dataset_type, ann_file='val.txt', data_prefix='', pipeline=val_pipeline))
"""

SCHEDULE = """
optimizer = dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0001)
optimizer_config = dict(grad_clip=dict(max_norm=40, norm_type=2))
lr_config = dict(policy='step', step=[40, 80])
total_epochs = 100
checkpoint_config = dict(interval=5)
"""

# What a 0.x user overrides on the command line: data paths, class count, epochs (0.x keys).
USER_OPTIONS = {
    'data.train.ann_file': 'my_train.txt',
    'data.val.ann_file': 'my_val.txt',
    'model.cls_head.num_classes': 5,
    'total_epochs': 2,
}


def load_and_build(tmp_path, text):
    path = tmp_path / 'tsn_0x.py'
    path.write_text(textwrap.dedent(text))
    cfg, report = load_config(str(path), dict(USER_OPTIONS))
    DefaultScope.get_instance(f'tsn-v024-{id(cfg)}', scope_name=cfg.default_scope)
    model = MODELS.build(cfg.model)
    for split in ('train', 'val', 'test'):
        Compose(cfg[f'{split}_dataloader'].dataset.pipeline)
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    evaluator = METRICS.build(cfg.val_evaluator)
    return cfg, report, model, wrapper, evaluator


TOP_K = ['top_k_accuracy']


@pytest.mark.parametrize(
    'evaluation, topk',
    [
        # hmdb51 recipes: the deprecated top-level topk
        (dict(interval=1, metrics=TOP_K + ['mean_class_accuracy'], topk=(1, 5)), (1, 5)),
        (dict(interval=1, metrics=TOP_K, topk=3), (3,)),
        # 0.x's evaluate() took the deprecated keyword over metric_options
        (
            dict(metrics=TOP_K, topk=(1, 2), metric_options=dict(top_k_accuracy=dict(topk=(1, 3)))),
            (1, 2),
        ),
        (
            dict(interval=5, metrics=TOP_K, metric_options=dict(top_k_accuracy=dict(topk=(1, 3)))),
            (1, 3),
        ),
    ],
)
def test_evaluation_topk_reaches_the_metric(tmp_path, evaluation, topk):
    text = MODEL + DATA.format(sampler='SampleFrames') + SCHEDULE
    text += f'evaluation = {evaluation!r}\n'
    cfg, report, _, _, evaluator = load_and_build(tmp_path, text)
    assert evaluator.topk == topk
    assert cfg.test_evaluator == cfg.val_evaluator
    assert cfg.train_cfg.max_epochs == 2 and cfg.model.cls_head.num_classes == 5
    assert cfg.train_dataloader.dataset.ann_file == 'my_train.txt'
    assert any(entry.old == 'evaluation.topk' for entry in report) == ('topk' in evaluation)


def test_dense_sample_frames_pipeline_builds(tmp_path):
    text = MODEL + DATA.format(sampler='DenseSampleFrames') + SCHEDULE
    cfg, _, _, _, _ = load_and_build(tmp_path, text)
    samplers = [step['type'] for step in cfg.val_dataloader.dataset.pipeline]
    assert 'DenseSampleFrames' in samplers


def test_tsm_optimizer_constructor_on_a_tsn_model(tmp_path):
    # The mmit recipe: TSN-R101 on the TSM schedule base (0.x constructor name, fc_lr5).
    schedule = SCHEDULE.replace(
        "optimizer = dict(type='SGD',",
        "optimizer = dict(type='SGD', constructor='TSMOptimizerConstructor', "
        'paramwise_cfg=dict(fc_lr5=True),',
    )
    text = MODEL + DATA.format(sampler='SampleFrames') + schedule
    cfg, _, model, wrapper, _ = load_and_build(tmp_path, text)
    assert cfg.optim_wrapper.constructor == 'TSMOptimWrapperConstructor'
    lrs = {group['lr'] for group in wrapper.optimizer.param_groups}
    # conv weights x1, other biases x2, classifier (fc_lr5) weight x5 and bias x10
    assert lrs == {0.01, 0.02, 0.05, 0.1}
    fc_weight = model.cls_head.fc_cls.weight
    group = next(
        g for g in wrapper.optimizer.param_groups if any(p is fc_weight for p in g['params'])
    )
    assert group['lr'] == pytest.approx(0.05)
