"""The constructs of MMAction2 v0.24.1's own 0.x TSN configs, in our own minimal snippets: each
loads through ``load_config`` with the overrides a 0.x user passes, and builds model, pipelines,
optimizer and evaluator."""

import sys
import textwrap

import cv2
import numpy as np
import pytest
import torch
from mmengine.dataset import Compose, pseudo_collate
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope

from mmaction_ft.config import ConfigError, load_config
from mmaction_ft.registry import DATASETS, METRICS, MODELS

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


# ---------------------------------------------------------------- flow (tsn_*_flow.py)
FLOW = """
model = dict(
    type='Recognizer2D',
    backbone=dict(type='ResNet', pretrained=None, depth=18, in_channels=10),
    cls_head=dict(type='TSNHead', num_classes=400, in_channels=512,
                  consensus=dict(type='AvgConsensus', dim=1)),
    train_cfg=None,
    test_cfg=dict(average_clips=None))
img_norm_cfg = dict(mean=[128, 128], std=[128, 128])
train_pipeline = [
    dict(type='SampleFrames', clip_len=5, frame_interval=1, num_clips=2),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(-1, 40)),
    dict(type='RandomResizedCrop'),
    dict(type='Resize', scale=(32, 32), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='Normalize', **img_norm_cfg),
    dict(type='FormatShape', input_format='NCHW_Flow'),
    dict(type='Collect', keys=['imgs', 'label'], meta_keys=[]),
    dict(type='ToTensor', keys=['imgs', 'label'])
]
data = dict(
    videos_per_gpu=1,
    workers_per_gpu=0,
    train=dict(type='RawframeDataset', ann_file='train.txt', data_prefix='',
               filename_tmpl='{}_{:05d}.jpg', modality='Flow', pipeline=train_pipeline))
"""


def test_flow_config_stacks_frames_and_normalises_every_channel(tmp_path):
    frames = tmp_path / 'video'
    frames.mkdir()
    rng = np.random.default_rng(0)
    for i in range(1, 13):
        for axis in 'xy':
            value = rng.integers(0, 256, (48, 64), dtype=np.uint8)
            cv2.imwrite(str(frames / f'{axis}_{i:05d}.jpg'), value)
    (tmp_path / 'my_train.txt').write_text('video 12 3\n')
    text = FLOW + SCHEDULE.replace('total_epochs = 100', '')
    options = {'data.train.ann_file': str(tmp_path / 'my_train.txt')}
    options['data.train.data_prefix'] = str(tmp_path)
    options['model.cls_head.num_classes'] = 5
    path = tmp_path / 'tsn_flow.py'
    path.write_text(textwrap.dedent(text))
    cfg, _ = load_config(str(path), options)
    preprocessor = cfg.model.data_preprocessor
    # The model sees NCHW; the x/y mean and std repeat for the 5 stacked frame pairs.
    assert preprocessor.format_shape == 'NCHW'
    assert preprocessor.mean == [128, 128] * 5 and preprocessor.std == [128, 128] * 5
    with DefaultScope.overwrite_default_scope('mmaction_ft'):
        sample = DATASETS.build(cfg.train_dataloader.dataset)[0]
        model = MODELS.build(cfg.model)
    assert sample['inputs'].shape == (2, 10, 32, 32)  # [num_clips, clip_len * 2, H, W]
    data = model.data_preprocessor(pseudo_collate([sample]), True)
    assert data['inputs'].abs().max() <= 1.0  # (pixel - 128) / 128 on every channel
    losses = model(**data, mode='loss')
    losses['loss_cls'].backward()
    assert model.backbone.conv1.conv.weight.grad.shape[1] == 10


def test_flow_pipelines_with_different_clip_len_are_an_error(tmp_path):
    train = FLOW[FLOW.index('train_pipeline = [') : FLOW.index('data = dict(')]
    val = train.replace('train_pipeline', 'val_pipeline').replace('clip_len=5', 'clip_len=3')
    text = FLOW.replace('data = dict(', val + 'data = dict(').replace(
        'pipeline=train_pipeline))',
        "pipeline=train_pipeline),\n    val=dict(type='RawframeDataset', ann_file='v.txt', "
        "data_prefix='', modality='Flow', pipeline=val_pipeline))",
    )
    path = tmp_path / 'tsn_flow.py'
    path.write_text(textwrap.dedent(text) + SCHEDULE)
    with pytest.raises(ConfigError, match='clip_len of the flow pipelines'):
        load_config(str(path))


# ---------------------------------------------------------------- Imgaug, OpenCVInit(num_threads)
@pytest.mark.parametrize(
    'step',
    [
        "dict(type='Imgaug', transforms='default')",
        # the alternative the imgaug config shows in a comment
        "dict(type='Imgaug', transforms=[dict(type='Rotate', rotate=(-20, 20)), "
        "dict(type='Dropout', p=(0, 0.05))])",
    ],
)
def test_imgaug_step_builds_and_runs(tmp_path, step):
    text = MODEL + DATA.format(sampler='SampleFrames') + SCHEDULE
    text = text.replace("dict(type='Flip', flip_ratio=0.5),", f"dict(type='Flip'), {step},")
    cfg, _, _, _, _ = load_and_build(tmp_path, text)
    pipeline = Compose(cfg.train_dataloader.dataset.pipeline)
    imgaug = next(t for t in pipeline.transforms if type(t).__name__ == 'Imgaug')
    frames = [np.full((56, 56, 3), 100, np.uint8) for _ in range(3)]
    out = imgaug(dict(imgs=frames, modality='RGB'))
    assert len(out['imgs']) == 3 and out['imgs'][0].shape == (56, 56, 3)


def test_imgaug_augmenter_without_equivalent_names_it(tmp_path):
    text = MODEL + DATA.format(sampler='SampleFrames') + SCHEDULE
    step = "dict(type='Imgaug', transforms=[dict(type='ElasticTransformation', alpha=50)])"
    text = text.replace("dict(type='Flip', flip_ratio=0.5),", f'{step},')
    with pytest.raises(ValueError, match="'ElasticTransformation' is not reproduced"):
        load_and_build(tmp_path, text)


def test_opencv_init_num_threads_passes_through(tmp_path):
    text = MODEL + DATA.format(sampler='SampleFrames') + SCHEDULE
    text = text.replace("dict(type='DecordInit')", "dict(type='OpenCVInit', num_threads=1)")
    text = text.replace("dict(type='DecordDecode')", "dict(type='OpenCVDecode')")
    cfg, _, _, _, _ = load_and_build(tmp_path, text)
    assert cfg.train_dataloader.dataset.pipeline[0] == dict(type='OpenCVInit', num_threads=1)
    assert Compose(cfg.train_dataloader.dataset.pipeline).transforms[0].num_threads == 1


# ---------------------------------------------------------------- custom_backbones/
def _custom_backbone(backbone: str, in_channels: int) -> str:
    model = MODEL.replace(
        "dict(type='ResNet', pretrained=None, depth=18, norm_eval=False)", backbone
    )
    return model.replace('in_channels=512', f'in_channels={in_channels}')


def test_torchvision_backbone_translates_pretrained_to_the_loader(tmp_path):
    text = _custom_backbone("dict(type='torchvision.resnet18', pretrained=True)", 512)
    path = tmp_path / 'tsn_tv.py'
    path.write_text(textwrap.dedent(text + DATA.format(sampler='SampleFrames') + SCHEDULE))
    cfg, report = load_config(str(path), dict(USER_OPTIONS))
    assert cfg.model.backbone == dict(
        type='TorchvisionBackbone', model_name='resnet18', pretrained='torchvision://resnet18'
    )
    assert any(entry.old == 'model.backbone.type' for entry in report)
    cfg.model.backbone.pretrained = None  # no download in tests
    with DefaultScope.overwrite_default_scope('mmaction_ft'):
        model = MODELS.build(cfg.model)
    scores = model(torch.rand(2, 3, 3, 32, 32) * 255, mode='tensor')
    assert scores.shape == (2, 5)  # [N, num_classes]: the consensus averaged the 3 views


def test_timm_backbone_without_timm_says_how_to_install(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, 'timm', None)  # as if timm were not installed
    text = _custom_backbone("dict(type='timm.swin_base_patch4_window7_224', pretrained=True)", 1024)
    path = tmp_path / 'tsn_timm.py'
    path.write_text(textwrap.dedent(text + DATA.format(sampler='SampleFrames') + SCHEDULE))
    cfg, _ = load_config(str(path), dict(USER_OPTIONS))
    assert cfg.model.backbone.type == 'TimmBackbone'
    assert cfg.model.backbone.model_name == 'swin_base_patch4_window7_224'
    assert cfg.model.backbone.pretrained is True
    with pytest.raises(ImportError, match='pip install timm'):
        MODELS.build(cfg.model.backbone)


def test_mmcls_backbone_is_a_load_time_error_with_advice(tmp_path):
    text = _custom_backbone("dict(type='mmcls.ResNeXt', depth=101, groups=32)", 2048)
    path = tmp_path / 'tsn_mmcls.py'
    path.write_text(textwrap.dedent(text + DATA.format(sampler='SampleFrames') + SCHEDULE))
    with pytest.raises(ConfigError, match=r'mmcls.*not supported.*torchvision\.resnext'):
        load_config(str(path), dict(USER_OPTIONS))


# ---------------------------------------------------------------- tsn_r50_1x1x6_100e_mit_rgb.py
def test_pipeline_that_fails_in_0x_too_is_a_load_time_error(tmp_path):
    # v0.24.1's mit config: FormatShape without input_format, and a test pipeline whose first
    # step is DecordDecode (meant: DecordInit).
    text = MODEL + DATA.format(sampler='SampleFrames') + SCHEDULE
    text = text.replace("dict(type='FormatShape', input_format='NCHW')", "dict(type='FormatShape')")
    text = text.replace(
        "test=dict(type=dataset_type, ann_file='val.txt', data_prefix='', pipeline=val_pipeline))",
        "test=dict(type=dataset_type, ann_file='val.txt', data_prefix='', "
        'pipeline=[dict(type="DecordDecode")] + val_pipeline[1:]))',
    )
    path = tmp_path / 'tsn_mit.py'
    path.write_text(textwrap.dedent(text))
    with pytest.raises(ConfigError) as error:
        load_config(str(path), dict(USER_OPTIONS))
    message = str(error.value)
    lines = [line.strip() for line in message.splitlines()[1:]]
    # as in the mit config: train, val and test lack input_format; test decodes twice unopened
    assert [line.split(':')[0] for line in lines] == [
        'data.train.pipeline.8',
        'data.val.pipeline.6',
        'data.test.pipeline.0',
        'data.test.pipeline.2',
        'data.test.pipeline.6',
    ]
    assert 'FormatShape without input_format' in lines[0]
    assert 'DecordDecode with no DecordInit before it' in lines[2]
    # the file and line of each step (inside train_pipeline = [...]), not the --cfg-options
    written = path.read_text().splitlines()
    steps = [n for n, line in enumerate(written, 1) if "dict(type='FormatShape')" in line]
    assert lines[0].endswith(f'tsn_mit.py:{steps[0]})') and lines[1].endswith(f'.py:{steps[1]})')
