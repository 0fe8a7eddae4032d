"""Acceptance: the finetuning tutorial's four 0.x snippets, exactly as written, load and mean
what the tutorial says, on 0.x bases, on 1.x bases, and on this repository's configs/_base_."""

from pathlib import Path

import pytest
from legacy_cfg_fixtures import (
    LEGACY_BASE_LIST,
    LEGACY_BASES,
    MODERN_BASES,
    TUTORIAL_URL,
    mmengine_lrs,
    tutorial_leaf,
    with_bases,
    write_configs,
)
from mmengine.registry import DefaultScope

from mmaction_ft.config import load_config
from mmaction_ft.config.dialect import LEGACY_KEYS
from mmaction_ft.registry import MODELS, TRANSFORMS

REPO_BASES = Path(__file__).resolve().parents[2] / 'configs' / '_base_'
REPO_BASE_LIST = f"""_base_ = [
    '{REPO_BASES}/models/tsn_r50.py',
    '{REPO_BASES}/datasets/ucf101_rawframes_tsn.py',
    '{REPO_BASES}/schedules/sgd_100e.py',
    '{REPO_BASES}/default_runtime.py',
]
"""


def tutorial_config(tmp_path, style):
    if style == 'repo':
        if not (REPO_BASES / 'default_runtime.py').exists():
            pytest.skip('configs/_base_ not present')
        files = {'leaf.py': tutorial_leaf(REPO_BASE_LIST)}
    else:
        bases = LEGACY_BASES if style == '0.x' else MODERN_BASES
        files = with_bases(tutorial_leaf(LEGACY_BASE_LIST), bases)
    return load_config(str(write_configs(tmp_path, files)))


@pytest.mark.parametrize('style', ['0.x', '1.x', 'repo'], ids=lambda s: f'{s}-bases')
def test_tutorial_snippets_translate(tmp_path, style):
    cfg, report = tutorial_config(tmp_path, style)
    assert not set(cfg.keys()) & LEGACY_KEYS
    assert cfg.optim_wrapper.type == 'OptimWrapper'
    assert cfg.optim_wrapper.optimizer == dict(
        type='SGD', lr=0.005, momentum=0.9, weight_decay=0.0001
    )
    assert cfg.optim_wrapper.clip_grad == dict(max_norm=40, norm_type=2)
    assert cfg.param_scheduler == [
        dict(type='MultiStepLR', milestones=[20, 40], gamma=0.1, by_epoch=True)
    ]
    assert cfg.train_cfg.type == 'EpochBasedTrainLoop'
    assert cfg.train_cfg.max_epochs == 50
    assert cfg.train_cfg.val_interval == 5
    assert cfg.default_hooks.checkpoint.type == 'CheckpointHook'
    assert cfg.default_hooks.checkpoint.interval == 5
    assert cfg.default_hooks.checkpoint.save_best == 'acc/top1'
    assert cfg.load_from == TUTORIAL_URL
    assert not cfg.get('resume', False)
    assert cfg.model.cls_head.num_classes == 101
    assert cfg.model.cls_head.average_clips is None
    assert cfg.model.data_preprocessor == dict(
        type='ActionDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        to_rgb=False,
        format_shape='NCHW',
    )
    assert cfg.default_scope == 'mmaction_ft'
    assert cfg.train_dataloader.batch_size == 32
    assert cfg.train_dataloader.dataset.ann_file == 'data/ucf101/ucf101_train_list.txt'
    assert cfg.test_dataloader.batch_size == 1
    assert cfg.val_evaluator == dict(
        type='AccMetric', metric_list=('top_k_accuracy', 'mean_class_accuracy')
    )
    assert 'optimizer -> optim_wrapper.optimizer' in '\n'.join(report.lines)


@pytest.mark.parametrize('style', ['0.x', '1.x'])
def test_tutorial_lr_is_divided_by_10_at_epochs_20_and_40(tmp_path, style):
    cfg, _ = tutorial_config(tmp_path, style)
    lrs = mmengine_lrs(cfg.param_scheduler, epochs=50, iters=1, base_lr=0.005)
    assert lrs[:20] == pytest.approx([0.005] * 20)
    assert lrs[20:40] == pytest.approx([0.0005] * 20)
    assert lrs[40:] == pytest.approx([0.00005] * 10)


def test_translated_tutorial_builds(tmp_path):
    """The translated pipelines, preprocessor and model are valid mmaction_ft components."""
    cfg, _ = tutorial_config(tmp_path, '0.x')
    with DefaultScope.overwrite_default_scope('mmaction_ft'):
        for split in ('train', 'val', 'test'):
            pipeline = cfg[f'{split}_dataloader'].dataset.pipeline
            steps = [TRANSFORMS.build(step) for step in pipeline]
            assert type(steps[-1]).__name__ == 'PackActionInputs'
            assert 'Normalize' not in [type(step).__name__ for step in steps]
        model = MODELS.build(cfg.model)
    assert model.cls_head.fc_cls.out_features == 101
    assert model.cls_head.average_clips is None
    assert model.data_preprocessor.mean.flatten().tolist() == pytest.approx(
        [123.675, 116.28, 103.53]
    )
