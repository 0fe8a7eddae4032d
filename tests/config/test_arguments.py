"""A key of a component config that its class does not take fails at load time."""

import pytest
from legacy_cfg_fixtures import write_configs
from test_type_names import BASE

from mmaction_ft.config import ConfigError, check_type_names, load_config
from mmaction_ft.config.arguments import accepted_arguments, check_arguments


def error(tmp_path, base=BASE, leaf='', cfg_options=None):
    files = {'leaf.py': "_base_ = ['_base_/base.py']\n" + leaf, '_base_/base.py': base}
    with pytest.raises(ConfigError) as raised:
        load_config(str(write_configs(tmp_path, files)), cfg_options)
    return str(raised.value)


def test_backbone_typo_names_class_line_suggestion_and_arguments(tmp_path):
    text = error(tmp_path, BASE.replace('depth=18', 'deptth=18'))
    assert text.startswith(
        f'{tmp_path / "_base_" / "base.py"}:3: model.backbone.deptth is not an argument of '
        "ResNet (did you mean 'depth'?); ResNet takes: depth, pretrained, "
    )
    assert 'norm_eval' in text.split('takes: ')[1]


@pytest.mark.parametrize(
    'key, value, registry_class, close',
    [
        ('optim_wrapper.optimizer.momentun', 0.9, 'SGD', 'momentum'),
        ('param_scheduler.0.milestone', [1], 'MultiStepLR', 'milestones'),
        ('train_dataloader.dataset.ann_flie', 'a.txt', 'VideoDataset', 'ann_file'),
        ('train_dataloader.dataset.pipeline.1.crop_sise', 224, 'CenterCrop', 'crop_size'),
        ('model.cls_head.num_class', 3, 'TSNHead', 'num_classes'),
        ('val_evaluator.metric_lst', ['top_k_accuracy'], 'AccMetric', 'metric_list'),
        ('train_dataloader.sampler.shufle', False, 'DefaultSampler', 'shuffle'),
    ],
)
def test_each_position_from_cfg_options(tmp_path, key, value, registry_class, close):
    text = error(tmp_path, cfg_options={key: value})
    assert text.startswith(f'--cfg-options: {key} is not an argument of {registry_class}')
    assert f"(did you mean '{close}'?)" in text


def test_kwargs_followed_to_the_parent_class():
    # TSNHead hands **kwargs to BaseHead; VideoDataset via BaseActionDataset (which pops
    # `metainfo`) to mmengine's BaseDataset.
    from mmaction_ft.registry import DATASETS, MODELS, PARAM_SCHEDULERS

    head = accepted_arguments(MODELS.get('TSNHead'))
    assert {'dropout_ratio', 'average_clips', 'init_cfg'} <= set(head)
    dataset = accepted_arguments(DATASETS.get('VideoDataset'))
    assert {'ann_file', 'label_map', 'metainfo', 'data_root', 'max_refetch'} <= set(dataset)
    # LRSchedulerMixin fills its parent's `param_name` itself: a config must not set it.
    scheduler = accepted_arguments(PARAM_SCHEDULERS.get('MultiStepLR'))
    assert 'milestones' in scheduler and 'param_name' not in scheduler


def test_kwargs_used_otherwise_accept_anything():
    class Reader:
        def __init__(self, threads=1, **kwargs):
            self.options = kwargs  # passed to a library later: any key may be right

    class Child(Reader):
        def __init__(self, size=1, **kwargs):
            super().__init__(**kwargs)

    assert accepted_arguments(Reader) is None
    assert accepted_arguments(Child) is None
    check_arguments(dict(type='Reader', anything=1), ('x',), 'TRANSFORMS', Reader)


def test_kwargs_handed_on_and_read_by_name():
    class Base:
        def __init__(self, depth, width=1):
            pass

    class Child(Base):
        def __init__(self, scale=1.0, **kwargs):
            self.extra = kwargs.pop('extra', None)
            super().__init__(kwargs.pop('depth', 18), **kwargs)

    # `depth` is read by name and then given positionally: the parent's `depth` is filled.
    assert accepted_arguments(Child) == ('scale', 'extra', 'depth', 'width')
    with pytest.raises(ConfigError, match=r'x\.widht is not an argument of Child \(did you mean '):
        check_arguments(dict(type='Child', widht=2), ('x',), 'MODELS', Child)


def test_keys_the_builder_reads_are_allowed():
    check_type_names(
        dict(
            optim_wrapper=dict(
                type='OptimWrapper',
                optimizer=dict(type='SGD', lr=0.1),
                constructor='TSMOptimWrapperConstructor',
                paramwise_cfg=dict(fc_lr5=True),
            ),
            param_scheduler=[
                dict(type='MultiStepLR', milestones=[1], convert_to_iter_based=True, _scope_='x')
            ],
            custom_hooks=[dict(type='SyncBuffersHook', priority='ABOVE_NORMAL')],
        )
    )


def test_a_users_constructor_may_read_keys_of_its_own():
    from mmengine.optim import DefaultOptimWrapperConstructor

    from mmaction_ft.registry import OPTIM_WRAPPER_CONSTRUCTORS

    class MyConstructor(DefaultOptimWrapperConstructor):
        pass

    OPTIM_WRAPPER_CONSTRUCTORS.register_module('MyTestConstructor', module=MyConstructor)
    try:
        optim_wrapper = dict(type='OptimWrapper', optimizer=dict(type='SGD'), my_key=1)
        check_type_names(dict(optim_wrapper=dict(optim_wrapper, constructor='MyTestConstructor')))
        with pytest.raises(ConfigError, match=r'optim_wrapper\.my_key is not an argument of'):
            check_type_names(dict(optim_wrapper=optim_wrapper))
    finally:
        OPTIM_WRAPPER_CONSTRUCTORS.module_dict.pop('MyTestConstructor')


def test_0x_key_names_the_0x_line(tmp_path):
    text = error(tmp_path, leaf="optimizer = dict(type='SGD', lr=0.1, momentun=0.9)\n")
    assert text.startswith(
        f'{tmp_path / "leaf.py"}:2: optimizer.momentun (optim_wrapper.optimizer.momentun after '
        "translation) is not an argument of SGD (did you mean 'momentum'?)"
    )
