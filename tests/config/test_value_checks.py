"""Values a wrong type would break far away fail at load time, naming file:line, key and value."""

import pytest
from legacy_cfg_fixtures import write_configs

from mmaction_ft.config import ConfigError, ConfigTypeError, check_values, load_config

SCHEDULE = """\
optim_wrapper = dict(
    type='OptimWrapper',
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4),
)
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=10, val_interval=1)
default_hooks = dict(
    checkpoint=dict(type='CheckpointHook', interval=-1),  # -1: no periodic checkpoint
    logger=dict(type='LoggerHook', interval=20),
)
"""

DATA = """\
train_pipeline = [
    dict(type='DecordInit'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='MultiScaleCrop', input_size=224, scales=(1, 0.875)),
    dict(type='Resize', scale=0.5),
    dict(type='CenterCrop', crop_size=(224, 200)),
    dict(type='RandomCrop', size=112),
    dict(type='PackActionInputs'),
]
train_dataloader = dict(
    batch_size=8,
    num_workers=0,
    dataset=dict(type='VideoDataset', ann_file='train.txt', pipeline=train_pipeline),
)
"""


def load(tmp_path, leaf, cfg_options=None, data=DATA):
    files = {'leaf.py': leaf, '_base_/schedule.py': SCHEDULE, '_base_/data.py': data}
    return load_config(str(write_configs(tmp_path, files)), cfg_options)


def message(tmp_path, leaf, cfg_options=None, data=DATA, error=ConfigTypeError):
    with pytest.raises(error) as raised:
        load(tmp_path, leaf, cfg_options, data)
    return str(raised.value)


BASES = "_base_ = ['_base_/schedule.py', '_base_/data.py']\n"


def test_valid_values_of_every_kind_load(tmp_path):
    cfg, _ = load(tmp_path, BASES)
    assert cfg.default_hooks.checkpoint.interval == -1
    assert cfg.train_dataloader.dataset.pipeline[3].scale == 0.5


def test_quoted_lr_names_file_line_key_and_value(tmp_path):
    leaf = BASES + "optim_wrapper = dict(\n    optimizer=dict(lr='0.01'),\n)\n"
    text = message(tmp_path, leaf)
    assert text == (
        f"{tmp_path / 'leaf.py'}:3: optim_wrapper.optimizer.lr must be a number, got '0.01' "
        '(str); write lr=0.01 without quotes'
    )


def test_a_type_error_is_also_a_type_error_and_a_config_error(tmp_path):
    leaf = BASES + "train_cfg = dict(max_epochs='10')\n"
    with pytest.raises(TypeError):
        load(tmp_path, leaf)
    with pytest.raises(ConfigError):
        load(tmp_path, leaf)


def test_value_set_in_a_base_names_the_base(tmp_path):
    schedule = SCHEDULE.replace('momentum=0.9', "momentum='0.9'")
    files = {'leaf.py': BASES, '_base_/schedule.py': schedule, '_base_/data.py': DATA}
    with pytest.raises(ConfigTypeError) as raised:
        load_config(str(write_configs(tmp_path, files)))
    assert str(raised.value).startswith(
        f'{tmp_path / "_base_" / "schedule.py"}:3: optim_wrapper.optimizer.momentum must be a '
        "number, got '0.9' (str)"
    )


def test_crop_size_in_a_pipeline_variable_names_its_own_line(tmp_path):
    data = DATA.replace('crop_size=(224, 200)', "crop_size='224'")
    text = message(tmp_path, BASES, data=data)
    assert text == (
        f'{tmp_path / "_base_" / "data.py"}:6: train_dataloader.dataset.pipeline.4.crop_size '
        "(CenterCrop) must be a positive int or a (w, h) pair of them, got '224' (str); write "
        'crop_size=224 without quotes'
    )


@pytest.mark.parametrize(
    'old, new, line, expected',
    [
        ('scale=(-1, 256)', "scale='256'", 3, 'pipeline.1.scale (Resize) must be a positive float'),
        ('input_size=224', 'input_size=[224]', 4, 'pipeline.2.input_size (MultiScaleCrop)'),
        ('size=112', 'size=(112, 112)', 7, 'pipeline.5.size (RandomCrop) must be a positive int'),
    ],
)
def test_every_transform_rule_fires(tmp_path, old, new, line, expected):
    text = message(tmp_path, BASES, data=DATA.replace(old, new))
    assert text.startswith(f'{tmp_path / "_base_" / "data.py"}:{line}: train_dataloader.dataset.')
    assert expected in text


def test_the_child_of_a_pipeline_owner_is_not_blamed(tmp_path):
    # The leaf redefines the helper variable only: the loader keeps the base's pipeline, and the
    # message names the line of the base's literal.
    leaf = BASES + "train_pipeline = [dict(type='CenterCrop', crop_size=224)]\n"
    data = DATA.replace('size=112', 'size=0')
    text = message(tmp_path, leaf, data=data, error=ConfigError)
    assert text.startswith(f'{tmp_path / "_base_" / "data.py"}:7: ')
    assert text.endswith('pipeline.5.size (RandomCrop) must be a positive int, got 0 (int)')


def test_cfg_options_are_named_as_the_source(tmp_path):
    text = message(tmp_path, BASES, {'train_cfg.max_epochs': '5'})
    assert text == (
        "--cfg-options: train_cfg.max_epochs must be a positive int, got '5' (str); write "
        'max_epochs=5 without quotes'
    )


def test_cfg_options_override_of_a_bad_file_value_loads(tmp_path):
    leaf = BASES + "optim_wrapper = dict(optimizer=dict(lr='0.01'))\n"
    cfg, _ = load(tmp_path, leaf, {'optim_wrapper.optimizer.lr': 0.02})
    assert cfg.optim_wrapper.optimizer.lr == 0.02


def test_right_type_out_of_range_is_a_value_error(tmp_path):
    leaf = BASES + 'train_dataloader = dict(batch_size=0)\n'
    text = message(tmp_path, leaf, error=ConfigError)
    assert text == (
        f'{tmp_path / "leaf.py"}:2: train_dataloader.batch_size must be a positive int, got 0 (int)'
    )
    with pytest.raises(ConfigError) as raised:
        load(tmp_path, leaf)
    assert not isinstance(raised.value, TypeError)


RULE_CASES = [
    ('train_cfg = dict(val_interval=1.5)', 'train_cfg.val_interval', 'a positive int'),
    (
        'default_hooks = dict(checkpoint=dict(interval=0))',
        'default_hooks.checkpoint.interval',
        'a positive int (or -1',
    ),
    (
        "default_hooks = dict(logger=dict(interval='50'))",
        'default_hooks.logger.interval',
        'a positive int',
    ),
    ('train_dataloader = dict(num_workers=-1)', 'train_dataloader.num_workers', 'an int >= 0'),
    (
        "optim_wrapper = dict(clip_grad=dict(max_norm='40'))",
        'optim_wrapper.clip_grad.max_norm',
        'a number',
    ),
    (
        'optim_wrapper = dict(optimizer=dict(weight_decay=None))',
        'optim_wrapper.optimizer.weight_decay',
        'a number',
    ),
    ('val_dataloader = dict(batch_size=True)', 'val_dataloader.batch_size', 'a positive int'),
    ("precision = 'bf16'", 'precision', "one of 'auto', 'amp', 'fp32'"),
    ('precision = True', 'precision', "one of 'auto', 'amp', 'fp32'"),
]


@pytest.mark.parametrize('assignment, key, description', RULE_CASES)
def test_each_rule_names_the_line_and_key(tmp_path, assignment, key, description):
    text = message(tmp_path, BASES + assignment + '\n', error=ConfigError)
    assert text.startswith(f'{tmp_path / "leaf.py"}:2: {key} must be {description}')


def test_whole_float_where_an_int_belongs_suggests_the_int(tmp_path):
    text = message(tmp_path, BASES + 'train_cfg = dict(max_epochs=10.0)\n')
    assert text.endswith('got 10.0 (float); write max_epochs=10')


def test_0x_keys_are_named_where_the_user_wrote_them(tmp_path):
    leaf = (
        "_base_ = ['_base_/schedule.py']\n"
        "optimizer = dict(type='SGD', lr=0.1,\n"
        "                 momentum='0.9')\n"
    )
    text = message(tmp_path, leaf)
    assert text == (
        f'{tmp_path / "leaf.py"}:3: optimizer.momentum (optim_wrapper.optimizer.momentum after '
        "translation) must be a number, got '0.9' (str); write momentum=0.9 without quotes"
    )


def test_0x_data_key_is_named_with_its_line(tmp_path):
    leaf = (
        "_base_ = ['_base_/schedule.py']\n"
        'data = dict(\n'
        '    videos_per_gpu=8.0,\n'
        '    workers_per_gpu=2,\n'
        "    train=dict(type='VideoDataset', ann_file='a.txt', pipeline=[]),\n"
        ')\n'
    )
    text = message(tmp_path, leaf)
    assert text == (
        f'{tmp_path / "leaf.py"}:3: data.videos_per_gpu (train_dataloader.batch_size after '
        'translation) must be a positive int, got 8.0 (float); write videos_per_gpu=8'
    )


def test_a_1x_value_merged_with_a_0x_optimizer_names_the_1x_file(tmp_path):
    # The 0.x `optimizer` sets lr only: momentum still comes from the 1.x base's line.
    schedule = SCHEDULE.replace('momentum=0.9', "momentum='0.9'")
    files = {
        'leaf.py': "_base_ = ['_base_/schedule.py']\noptimizer = dict(type='SGD', lr=0.1)\n",
        '_base_/schedule.py': schedule,
    }
    with pytest.raises(ConfigTypeError) as raised:
        load_config(str(write_configs(tmp_path, files)))
    assert str(raised.value).startswith(
        f'{tmp_path / "_base_" / "schedule.py"}:3: optim_wrapper.optimizer.momentum must be'
    )


def test_plain_dict_names_key_and_value_without_a_file():
    cfg = dict(optim_wrapper=dict(optimizer=dict(type='SGD', lr='1e-3')))
    with pytest.raises(ConfigTypeError) as raised:
        check_values(cfg)
    assert str(raised.value) == (
        "optim_wrapper.optimizer.lr must be a number, got '1e-3' (str); write lr=0.001 without "
        'quotes'
    )


def test_pipelines_inside_dataset_wrappers_are_checked():
    transform = dict(type='CenterCrop', crop_size=-224)
    inner = dict(type='VideoDataset', pipeline=[transform])
    cfg = dict(
        train_dataloader=dict(dataset=dict(type='ConcatDataset', datasets=[inner, inner])),
        val_dataloader=dict(dataset=dict(type='RepeatDataset', dataset=inner)),
    )
    with pytest.raises(ConfigError, match=r'^train_dataloader\.dataset\.datasets\.0\.pipeline'):
        check_values(cfg)
    del cfg['train_dataloader']
    with pytest.raises(ConfigError, match=r'^val_dataloader\.dataset\.dataset\.pipeline\.0'):
        check_values(cfg)
