"""ConfigSources.locate / ConfigLocator name the file and line behind a value."""

from legacy_cfg_fixtures import write_configs

from mmaction_ft.config import ConfigLocator, ConfigSources, TranslationReport

BASE = """\
pipeline = [
    dict(type='DecordInit'),
    dict(
        type='CenterCrop',
        crop_size=224,
    ),
]
loader = dict(
    batch_size=8,
    dataset=dict(pipeline=pipeline),
)
train_dataloader = loader
"""

LEAF = """\
_base_ = ['base.py']
optimizer = dict(type='SGD', lr=0.1)
optimizer = dict(
    type='SGD',
    momentum=0.9,
)
"""


def sources(tmp_path, cfg_options=None):
    files = {'leaf.py': LEAF, 'base.py': BASE}
    return ConfigSources.from_file(str(write_configs(tmp_path, files)), cfg_options)


def test_nested_keys_and_list_items_have_their_own_line(tmp_path):
    located = sources(tmp_path)
    base = tmp_path / 'base.py'
    assert located.locate(('loader', 'batch_size')) == f'{base}:9'
    assert located.locate(('pipeline', '1', 'crop_size')) == f'{base}:5'
    assert located.locate(('pipeline', '1')) == f'{base}:3'


def test_variables_are_followed_to_their_literal(tmp_path):
    located = sources(tmp_path)
    base = tmp_path / 'base.py'
    # train_dataloader = loader -> loader's dataset -> pipeline = [...] -> the crop_size line.
    path = ('train_dataloader', 'dataset', 'pipeline', '1', 'crop_size')
    assert located.locate(path) == f'{base}:5'
    assert located.locate(('train_dataloader', 'batch_size')) == f'{base}:9'
    # A key the literal does not spell out: the nearest level it does.
    assert located.locate(('train_dataloader', 'dataset', 'pipeline', '1', 'lazy')) == f'{base}:3'


def test_a_reassignment_forgets_the_earlier_lines(tmp_path):
    located = sources(tmp_path)
    leaf = tmp_path / 'leaf.py'
    assert located.locate(('optimizer', 'momentum')) == f'{leaf}:5'
    # lr was only in the first assignment, which the second replaces: the statement's line.
    assert located.locate(('optimizer', 'lr')) == f'{leaf}:3'
    assert located.root.where('optimizer').endswith('leaf.py, line 2')  # unchanged: first line


def test_cfg_options_and_unknown_paths(tmp_path):
    located = sources(tmp_path, {'loader.batch_size': 4})
    assert located.locate(('loader', 'batch_size')) == '--cfg-options'
    assert located.locate(('nothing', 'here')) == ''


def test_locator_traces_a_translated_value_to_its_0x_key(tmp_path):
    report = TranslationReport()
    report.add('optimizer', 'optim_wrapper.optimizer')
    original = dict(optimizer=dict(type='SGD', momentum=0.9))
    locator = ConfigLocator(sources(tmp_path), report, original)
    path = ('optim_wrapper', 'optimizer', 'momentum')
    assert locator.written_at(path, 0.9) == ('optimizer', 'momentum')
    assert locator.where(path, 0.9) == f'{tmp_path / "leaf.py"}:5'
    assert locator.key_name(path, 0.9) == (
        'optimizer.momentum (optim_wrapper.optimizer.momentum after translation)'
    )
    # A value the 0.x key does not hold came from elsewhere: the mmengine path is kept.
    assert locator.written_at(path, 0.5) == path
    assert ConfigLocator().prefix(path, 0.9) == ''
