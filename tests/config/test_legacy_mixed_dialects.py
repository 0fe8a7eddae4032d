"""Mixed dialects: 0.x files over 1.x bases, 1.x files over 0.x bases, --cfg-options, conflicts."""

import pytest
from legacy_cfg_fixtures import (
    LEGACY_BASE_LIST,
    LEGACY_BASES,
    MODERN_BASES,
    with_bases,
    write_configs,
)

from mmaction_ft.config import ConfigError, load_config


def load(tmp_path, leaf, bases, cfg_options=None):
    path = write_configs(tmp_path, with_bases(LEGACY_BASE_LIST + leaf, bases))
    return load_config(str(path), cfg_options)


def test_0x_leaf_overrides_1x_bases_and_merges_the_optimizer(tmp_path):
    leaf = """
optimizer = dict(type='SGD', lr=0.005)
total_epochs = 30
checkpoint_config = dict(interval=5)
"""
    cfg, report = load(tmp_path, leaf, MODERN_BASES)
    assert cfg.optim_wrapper.optimizer == dict(
        type='SGD', lr=0.005, momentum=0.9, weight_decay=1e-4
    )
    assert cfg.optim_wrapper.clip_grad == dict(max_norm=40, norm_type=2)  # from the 1.x base
    assert cfg.train_cfg == dict(
        type='EpochBasedTrainLoop', max_epochs=30, val_begin=1, val_interval=1
    )
    assert cfg.default_hooks.checkpoint.interval == 5
    assert cfg.default_hooks.checkpoint.max_keep_ckpts == 3  # kept from the 1.x base
    line = next(line for line in report.lines if line.startswith('total_epochs -> train_cfg.max'))
    assert 'overrides train_cfg.max_epochs=100 from' in line and 'sgd_100e.py' in line


def test_0x_optimizer_of_another_type_replaces_the_1x_one(tmp_path):
    cfg, _ = load(tmp_path, "optimizer = dict(type='AdamW', lr=1e-3)\n", MODERN_BASES)
    assert cfg.optim_wrapper.optimizer == dict(type='AdamW', lr=1e-3)


def test_1x_leaf_over_0x_bases_keeps_its_values(tmp_path):
    leaf = """
optim_wrapper = dict(optimizer=dict(lr=0.001))
train_cfg = dict(max_epochs=30)
default_hooks = dict(checkpoint=dict(interval=2))
param_scheduler = [dict(type='CosineAnnealingLR', T_max=30, by_epoch=True)]
"""
    cfg, report = load(tmp_path, leaf, LEGACY_BASES)
    # the 0.x base's optimizer fills what the 1.x leaf does not say
    assert cfg.optim_wrapper.optimizer == dict(
        type='SGD', lr=0.001, momentum=0.9, weight_decay=1e-4
    )
    assert cfg.train_cfg == dict(type='EpochBasedTrainLoop', max_epochs=30)
    assert cfg.default_hooks.checkpoint == dict(type='CheckpointHook', interval=2)
    assert cfg.param_scheduler == [dict(type='CosineAnnealingLR', T_max=30, by_epoch=True)]
    assert any(
        line.startswith('optimizer -> optim_wrapper.optimizer')
        and 'kept optim_wrapper.optimizer.lr from' in line
        for line in report.lines
    )
    assert any(
        line.startswith('lr_config -> param_scheduler  (not applied') for line in report.lines
    )


def test_sibling_bases_let_the_0x_value_win(tmp_path):
    leaf = "_base_ = ['_base_/legacy_schedule.py', '_base_/default_runtime.py']\n"
    files = {
        'leaf.py': leaf,
        '_base_/legacy_schedule.py': LEGACY_BASES['schedules/sgd_100e.py']
        + 'checkpoint_config = dict(interval=10)\n',
        '_base_/default_runtime.py': MODERN_BASES['default_runtime.py'],
    }
    cfg, _ = load_config(str(write_configs(tmp_path, files)))
    assert cfg.default_hooks.checkpoint.interval == 10


@pytest.mark.parametrize(
    'leaf, old, new',
    [
        (
            "optimizer = dict(type='SGD', lr=0.1)\noptim_wrapper = dict(optimizer=dict(lr=0.2))\n",
            'optimizer',
            'optim_wrapper.optimizer',
        ),
        (
            'total_epochs = 5\ntrain_cfg = dict(max_epochs=6)\n',
            'total_epochs',
            'train_cfg.max_epochs',
        ),
        (
            "lr_config = dict(policy='fixed')\nparam_scheduler = []\n",
            'lr_config',
            'param_scheduler',
        ),
        (
            'checkpoint_config = dict(interval=1)\n'
            'default_hooks = dict(checkpoint=dict(interval=2))\n',
            'checkpoint_config',
            'default_hooks.checkpoint',
        ),
    ],
    ids=['optimizer', 'epochs', 'schedule', 'checkpoint'],
)
def test_one_file_setting_both_dialects_fails_naming_both(tmp_path, leaf, old, new):
    with pytest.raises(ConfigError) as error:
        load(tmp_path, leaf, MODERN_BASES)
    assert f"sets both '{old}' (MMAction2 0.x) and '{new}' (mmengine)" in str(error.value)
    assert 'leaf.py' in str(error.value)


def test_a_base_setting_both_dialects_fails(tmp_path):
    files = {
        'leaf.py': "_base_ = ['_base_/mixed.py']\n",
        '_base_/mixed.py': 'total_epochs = 5\ntrain_cfg = dict(max_epochs=6)\n',
    }
    with pytest.raises(ConfigError, match=r"mixed\.py sets both 'total_epochs'"):
        load_config(str(write_configs(tmp_path, files)))


def test_both_dialects_for_different_things_in_one_file_is_fine(tmp_path):
    leaf = "optimizer = dict(type='SGD', lr=0.1)\noptim_wrapper = dict(type='AmpOptimWrapper')\n"
    cfg, _ = load(tmp_path, leaf, MODERN_BASES)
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert cfg.optim_wrapper.optimizer.lr == 0.1


def test_cfg_options_in_1x_style_override_a_0x_leaf(tmp_path):
    leaf = "optimizer = dict(type='SGD', lr=0.005, momentum=0.9)\ntotal_epochs = 50\n"
    options = {'optim_wrapper.optimizer.lr': 0.001, 'train_cfg.max_epochs': 3}
    cfg, _ = load(tmp_path, leaf, MODERN_BASES, options)
    assert cfg.optim_wrapper.optimizer.lr == 0.001
    assert cfg.optim_wrapper.optimizer.momentum == 0.9
    assert cfg.train_cfg.max_epochs == 3


def test_cfg_options_in_0x_style_override_1x_values(tmp_path):
    cfg, _ = load(tmp_path, '', MODERN_BASES, {'optimizer.lr': 0.002, 'total_epochs': 4})
    assert cfg.optim_wrapper.optimizer.lr == 0.002
    assert cfg.optim_wrapper.optimizer.momentum == 0.9
    assert cfg.train_cfg.max_epochs == 4


def test_cfg_options_setting_both_dialects_fails(tmp_path):
    with pytest.raises(ConfigError, match="--cfg-options sets both 'total_epochs'"):
        load(tmp_path, '', MODERN_BASES, {'total_epochs': 4, 'train_cfg.max_epochs': 5})


def test_dict_over_none_in_a_base_merges(tmp_path):
    leaf = 'model = dict(test_cfg=dict(average_clips=None, max_testing_views=2))\n'
    cfg, report = load(tmp_path, leaf, MODERN_BASES)
    assert cfg.model.cls_head.average_clips is None  # overrides the 1.x base's 'prob'
    assert cfg.model.test_cfg == dict(max_testing_views=2)
    assert any('a dict over None in a base' in line for line in report.lines)


def test_runner_errors_name_the_file_and_line_that_set_it(tmp_path):
    leaf = "\nrunner = dict(type='IterBasedRunner')\n"
    with pytest.raises(ConfigError, match=r'needs runner.max_iters \(set in .*\.py, line \d+'):
        load(tmp_path, leaf, MODERN_BASES)
