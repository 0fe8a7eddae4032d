"""A ``type`` no registry holds fails at load time with the closest registered names."""

import pytest
import torch
from legacy_cfg_fixtures import write_configs

from mmaction_ft.config import ConfigError, check_type_names, load_config

BASE = """\
model = dict(
    type='Recognizer2D',
    backbone=dict(type='ResNet', depth=18),
    cls_head=dict(type='TSNHead', num_classes=3, in_channels=512),
)
train_pipeline = [
    dict(type='DecordInit'),
    dict(type='CenterCrop', crop_size=224),
]
train_dataloader = dict(
    batch_size=2,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type='VideoDataset', ann_file='train.txt', pipeline=train_pipeline),
)
optim_wrapper = dict(optimizer=dict(type='SGD', lr=0.01))
param_scheduler = [dict(type='MultiStepLR', milestones=[1])]
default_hooks = dict(checkpoint=dict(type='CheckpointHook', interval=1))
val_evaluator = dict(type='AccMetric')
"""


def load(tmp_path, leaf, base=BASE, cfg_options=None):
    files = {'leaf.py': "_base_ = ['_base_/base.py']\n" + leaf, '_base_/base.py': base}
    return load_config(str(write_configs(tmp_path, files)), cfg_options)


def error(tmp_path, leaf, base=BASE, cfg_options=None):
    with pytest.raises(ConfigError) as raised:
        load(tmp_path, leaf, base, cfg_options)
    return str(raised.value)


def test_registered_names_load(tmp_path):
    cfg, _ = load(tmp_path, '')
    assert cfg.optim_wrapper.optimizer.type == 'SGD'


def test_optimizer_typo_suggests_sgd(tmp_path):
    text = error(tmp_path, "optim_wrapper = dict(optimizer=dict(type='SDG'))\n")
    assert text.startswith(
        f"{tmp_path / 'leaf.py'}:2: optim_wrapper.optimizer.type='SDG' is not in the optimizer "
        "registry (did you mean 'SGD'"
    )


def test_backbone_typo_names_the_model_registry_and_the_base_line(tmp_path):
    base = BASE.replace("type='ResNet'", "type='ResNett'")
    text = error(tmp_path, '', base=base)
    assert text.startswith(
        f"{tmp_path / '_base_' / 'base.py'}:3: model.backbone.type='ResNett' is not in the model "
        "registry (did you mean 'ResNet'"
    )


@pytest.mark.parametrize(
    'old, new, line, key, registry, close',
    [
        ("type='DecordInit'", "type='DecordInti'", 7, 'train_dataloader.dataset.pipeline.0.type',
         'transform', 'DecordInit'),
        ("type='VideoDataset'", "type='VideoDataSet'", 13, 'train_dataloader.dataset.type',
         'dataset', 'VideoDataset'),
        ("type='DefaultSampler'", "type='DefaultSample'", 12, 'train_dataloader.sampler.type',
         'data sampler', 'DefaultSampler'),
        ("type='MultiStepLR'", "type='MultiStepLr'", 16, 'param_scheduler.0.type',
         'parameter scheduler', 'MultiStepLR'),
        ("type='CheckpointHook'", "type='ChekpointHook'", 17, 'default_hooks.checkpoint.type',
         'hook', 'CheckpointHook'),
        ("type='AccMetric'", "type='AccMetrc'", 18, 'val_evaluator.type', 'metric', 'AccMetric'),
        ("type='TSNHead'", "type='TSNHeed'", 4, 'model.cls_head.type', 'model', 'TSNHead'),
    ],
)  # fmt: skip
def test_each_registry_position(tmp_path, old, new, line, key, registry, close):
    text = error(tmp_path, '', base=BASE.replace(old, new))
    bad = new.split('=')[1]
    assert text.startswith(
        f'{tmp_path / "_base_" / "base.py"}:{line}: {key}={bad} is not in the {registry} registry'
    )
    assert f"'{close}'" in text.split('did you mean', 1)[1]


def test_custom_hook_typo_from_cfg_options(tmp_path):
    text = error(tmp_path, '', cfg_options={'custom_hooks': [dict(type='EMAHok')]})
    assert text.startswith(
        "--cfg-options: custom_hooks.0.type='EMAHok' is not in the hook registry (did you mean"
    )
    assert "'EMAHook'" in text


def test_0x_optimizer_typo_names_the_0x_line(tmp_path):
    text = error(tmp_path, "optimizer = dict(type='Adamw', lr=0.1)\n")
    assert text.startswith(
        f"{tmp_path / 'leaf.py'}:2: optimizer.type='Adamw' (optim_wrapper.optimizer.type after "
        "translation) is not in the optimizer registry (did you mean 'AdamW'"
    )


def test_no_close_name_lists_registered_ones():
    with pytest.raises(ConfigError) as raised:
        check_type_names(dict(optim_wrapper=dict(optimizer=dict(type='Zzzzzz'))))
    text = str(raised.value)
    assert text.startswith("optim_wrapper.optimizer.type='Zzzzzz' is not in the optimizer registry")
    assert '; registered names: ' in text and 'in all)' in text


@pytest.mark.parametrize(
    'optimizer_type',
    ['mmengine.SGD', 'torch.optim.SGD', torch.optim.SGD],
)
def test_scoped_dotted_and_class_types_are_accepted(optimizer_type):
    check_type_names(dict(optim_wrapper=dict(optimizer=dict(type=optimizer_type))))


def test_dotted_path_that_does_not_import_fails():
    with pytest.raises(ConfigError, match=r"type='torch\.optim\.SDG' is not in the optimizer"):
        check_type_names(dict(optim_wrapper=dict(optimizer=dict(type='torch.optim.SDG'))))


def test_types_read_by_the_component_itself_are_not_registry_names():
    # SlowFast reads its pathway `type` itself; norm_cfg types are mmcv layer names.
    model = dict(
        type='Recognizer3D',
        backbone=dict(
            type='ResNet3dSlowFast',
            slow_pathway=dict(type='resnet3d', depth=50, norm_cfg=dict(type='BN3d')),
        ),
    )
    check_type_names(dict(model=model))
    model['backbone']['type'] = 'ResNet3dSlowFat'
    with pytest.raises(ConfigError, match=r"did you mean 'ResNet3dSlowFast'"):
        check_type_names(dict(model=model))


def test_imgaug_augmenter_names_are_not_transform_names():
    augmenters = [dict(type='Rotate', rotate=(-20, 20)), dict(type='Dropout', p=(0, 0.05))]
    pipeline = [dict(type='Imgaug', transforms=augmenters)]
    check_type_names(dict(train_dataloader=dict(dataset=dict(pipeline=pipeline))))
    # A wrapper that builds through the registry is still walked.
    pipeline = [dict(type='RandomChoice', transforms=[[dict(type='Flipp')]])]
    with pytest.raises(ConfigError, match=r"pipeline\.0\.transforms\.0\.0\.type='Flipp'"):
        check_type_names(dict(train_dataloader=dict(dataset=dict(pipeline=pipeline))))
