"""ConfigSources reads which file sets which key, from the files' syntax."""

from legacy_cfg_fixtures import write_configs

from mmaction_ft.config import ConfigSources

LEAF = """
_base_ = ['_base_/a.py', '_base_/b.py']
helper = dict(type='ResNet')
model = dict(
    backbone=helper,
    cls_head=dict(num_classes=101, loss_cls=dict(type='CrossEntropyLoss')),
)
optim_wrapper = dict(_delete_=True, optimizer=dict(type='SGD'))
data = dict(train=dict(pipeline=[]))
data['train']['ann_file'] = 'x.txt'
test_cfg = dict(average_clips=None)
train_cfg = None
val_cfg = dict(type='ValLoop')
if True:
    total_epochs = 3
"""


def read(tmp_path, cfg_options=None):
    files = {
        'leaf.py': LEAF,
        '_base_/a.py': "_base_ = './c.py'\nlr_config = dict(policy='step', step=[1])\n",
        '_base_/b.py': 'checkpoint_config = dict(interval=1)\n',
        '_base_/c.py': 'optimizer = dict(type="SGD", lr=0.1)\n',
    }
    return ConfigSources.from_file(str(write_configs(tmp_path, files)), cfg_options)


def test_keys_of_nested_dict_literals(tmp_path):
    leaf = read(tmp_path).root
    assert {('model',), ('model', 'cls_head'), ('model', 'cls_head', 'num_classes')} <= leaf.keys
    assert ('model', 'cls_head', 'loss_cls', 'type') in leaf.opaque
    assert ('model', 'backbone') in leaf.opaque  # a variable: its whole value
    assert leaf.sets(('model', 'backbone', 'depth'))
    assert not leaf.sets(('model', 'data_preprocessor'))
    assert not leaf.names(('model', 'backbone', 'depth'))


def test_delete_and_subscript_assignments(tmp_path):
    leaf = read(tmp_path).root
    assert leaf.sets_whole(('optim_wrapper', 'clip_grad'))  # _delete_ replaces the whole dict
    assert ('data', 'train', 'ann_file') in leaf.opaque
    assert leaf.sets(('total_epochs',))  # inside an if block


def test_top_level_0x_model_cfgs_count_as_model_keys(tmp_path):
    leaf = read(tmp_path).root
    assert leaf.names(('model', 'test_cfg', 'average_clips'))
    assert leaf.names(('model', 'train_cfg'))
    assert not leaf.names(('train_cfg',))
    assert leaf.names(('val_cfg', 'type'))  # a loop stays a loop


def test_base_tree_owner_and_inheritance(tmp_path):
    sources = read(tmp_path)
    names = [f.name.rsplit('/', 1)[-1] for f in sources.files()]
    assert names == ['leaf.py', 'a.py', 'c.py', 'b.py']
    leaf, a, c, b = sources.files()
    assert sources.owner(('optimizer', 'lr')) is c
    assert sources.owner(('model', 'cls_head')) is leaf
    assert sources.owner(('nothing',)) is None
    assert leaf.inherits_from(c) and a.inherits_from(c)
    assert not b.inherits_from(c) and not c.inherits_from(a)
    assert sources.where('lr_config').endswith('a.py, line 2')
    assert sources.where('total_epochs').endswith('leaf.py, line 15')


def test_cfg_options_are_the_nearest_child(tmp_path):
    sources = read(tmp_path, {'optimizer.lr': 0.5, 'model.cls_head.num_classes': 4})
    options = sources.root
    assert options.name == '--cfg-options'
    assert sources.owner(('optimizer', 'lr')) is options
    assert sources.owner(('optimizer', 'type')).name.endswith('c.py')
    assert options.inherits_from(sources.files()[1])


def test_lazy_import_configs_have_no_sources(tmp_path):
    path = tmp_path / 'lazy.py'
    path.write_text('from mmengine.config import read_base\nwith read_base():\n    pass\n')
    assert ConfigSources.from_file(str(path)) is None
