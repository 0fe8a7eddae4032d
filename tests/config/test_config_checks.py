"""Unknown top-level keys fail at load time with a did-you-mean suggestion."""

import pytest
from legacy_cfg_fixtures import MODERN_BASES, write_configs

from mmaction_ft.config import ConfigError, check_unknown_keys, load_config
from mmaction_ft.config.checks import check_section_keys


def test_typo_of_a_runner_key_suggests_it():
    with pytest.raises(ConfigError) as error:
        check_unknown_keys(dict(val_evaluater=dict(type='AccMetric')))
    assert (
        str(error.value) == "unknown key 'val_evaluater' in config (did you mean 'val_evaluator'?)"
    )


@pytest.mark.parametrize(
    'key, known',
    [('lr_confg', 'lr_config'), ('optimzer', 'optimizer'), ('defualt_hooks', 'default_hooks')],
)
def test_typos_of_0x_and_1x_keys(key, known):
    with pytest.raises(
        ConfigError, match=rf"unknown key '{key}' in config \(did you mean '{known}'"
    ):
        check_unknown_keys({key: 1})


def test_component_that_nothing_builds_fails():
    with pytest.raises(ConfigError, match=r"unknown key 'ema' in config: it holds 'EMAHook'"):
        check_unknown_keys(dict(ema=dict(type='EMAHook'), custom_hooks=[]))


def test_list_of_components_that_nothing_builds_fails():
    with pytest.raises(ConfigError, match="unknown key 'extra_hooks'.*a list of components"):
        check_unknown_keys(dict(extra_hooks=[dict(type='EMAHook')]))


def test_helper_variables_are_allowed():
    backbone = dict(type='ResNet', depth=50)
    check_unknown_keys(
        dict(
            backbone=backbone,  # a component, used inside model
            model=dict(type='Recognizer2D', backbone=dict(backbone)),
            my_root='data/x',
            max_epochs=50,
            _private=dict(type='Anything'),
            dataset_type='RawframeDataset',
        )
    )


def test_error_names_the_file_and_line(tmp_path):
    leaf = "_base_ = ['_base_/default_runtime.py']\n\nval_evaluater = dict(type='AccMetric')\n"
    path = write_configs(
        tmp_path, {'leaf.py': leaf, '_base_/default_runtime.py': MODERN_BASES['default_runtime.py']}
    )
    with pytest.raises(ConfigError) as error:
        load_config(str(path))
    message = str(error.value)
    assert message.startswith(
        "unknown key 'val_evaluater' in config (did you mean 'val_evaluator'?); set in "
    )
    assert message.endswith('leaf.py, line 3')


def test_cfg_options_typo_is_caught(tmp_path):
    path = write_configs(tmp_path, {'leaf.py': 'model = dict(type="Recognizer2D")\n'})
    with pytest.raises(ConfigError, match=r"'train_cgf'.*did you mean 'train_cfg'.*--cfg-options"):
        load_config(str(path), {'train_cgf.max_epochs': 3})


def test_section_keys_suggest_with_the_full_path():
    with pytest.raises(ConfigError) as error:
        check_section_keys('evaluation', dict(interval=1, metricz=[]), ('interval', 'metrics'))
    assert "unknown key 'evaluation.metricz' in config (did you mean 'evaluation.metrics'?)" in str(
        error.value
    )
    with pytest.raises(ConfigError, match='known keys: interval, metrics'):
        check_section_keys('evaluation', dict(zzz=1), ('interval', 'metrics'))
