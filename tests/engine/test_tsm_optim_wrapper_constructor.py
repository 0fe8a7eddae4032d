import pytest
import torch
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope
from torch import nn

from mmaction_ft.config import translate_legacy
from mmaction_ft.engine import TSMOptimWrapperConstructor
from mmaction_ft.models.recognizers import Recognizer2D
from mmaction_ft.registry import OPTIM_WRAPPER_CONSTRUCTORS

SGD = dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4)


class TinyTSM(nn.Module):
    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(3, 4, 3, bias=True)
        self.bn1 = nn.BatchNorm2d(4)
        self.conv2 = nn.Conv2d(4, 8, 3, bias=False)
        self.gn = nn.GroupNorm(2, 8)
        self.proj = nn.Linear(8, 8)


def _model():
    return Recognizer2D(
        backbone=TinyTSM(),
        cls_head=dict(type='TSMHead', num_classes=5, in_channels=8, num_segments=2),
    )


def _groups(optim_wrapper, model):
    names = {id(p): n for n, p in model.named_parameters()}
    return [
        (g['lr'], g['weight_decay'], [names[id(p)] for p in g['params']])
        for g in optim_wrapper.optimizer.param_groups
    ]


def test_fc_lr5_groups_in_mmaction2_order():
    model = _model()
    ctor = TSMOptimWrapperConstructor(dict(optimizer=SGD), dict(fc_lr5=True))
    assert _groups(ctor(model), model) == [
        (0.01, 1e-4, ['backbone.conv1.weight']),
        (0.02, 0, ['backbone.conv1.bias']),
        (0.01, 1e-4, ['backbone.conv2.weight', 'backbone.proj.weight']),
        (0.02, 0, ['backbone.proj.bias']),
        (
            0.01,
            0,
            ['backbone.bn1.weight', 'backbone.bn1.bias', 'backbone.gn.weight', 'backbone.gn.bias'],
        ),
        (0.05, 1e-4, ['cls_head.fc_cls.weight']),
        (0.1, 0, ['cls_head.fc_cls.bias']),
    ]


def test_without_fc_lr5_the_classifier_is_a_normal_layer():
    model = _model()
    groups = _groups(
        TSMOptimWrapperConstructor(dict(optimizer=SGD), dict(fc_lr5=False))(model), model
    )
    assert (
        groups[2][2][-1] == 'cls_head.fc_cls.weight' and groups[3][2][-1] == 'cls_head.fc_cls.bias'
    )
    assert groups[5][2] == [] and groups[6][2] == []


def test_every_parameter_is_in_exactly_one_group():
    model = _model()
    optim_wrapper = TSMOptimWrapperConstructor(dict(optimizer=SGD), dict(fc_lr5=True))(model)
    grouped = [id(p) for g in optim_wrapper.optimizer.param_groups for p in g['params']]
    assert sorted(grouped) == sorted(id(p) for p in model.parameters())


def test_an_unknown_learnable_layer_is_an_error():
    model = _model()
    model.backbone.ln = nn.LayerNorm(8)
    with pytest.raises(ValueError, match=r'backbone.ln \(LayerNorm\)'):
        TSMOptimWrapperConstructor(dict(optimizer=SGD), dict(fc_lr5=True))(model)


def test_unknown_paramwise_key_is_an_error():
    with pytest.raises(KeyError, match='fc_lr5'):
        TSMOptimWrapperConstructor(dict(optimizer=SGD), dict(fc_lr=True))


def test_translated_0x_tsm_optimizer_builds_its_optim_wrapper():
    cfg, _ = translate_legacy(
        dict(
            optimizer=dict(
                **SGD, constructor='TSMOptimizerConstructor', paramwise_cfg=dict(fc_lr5=True)
            ),
            optimizer_config=dict(grad_clip=dict(max_norm=20, norm_type=2)),
        )
    )
    assert OPTIM_WRAPPER_CONSTRUCTORS.get(cfg['optim_wrapper']['constructor']) is (
        TSMOptimWrapperConstructor
    )
    model = _model()
    with DefaultScope.overwrite_default_scope('mmaction_ft'):
        optim_wrapper = build_optim_wrapper(model, cfg['optim_wrapper'])
    assert [g['lr'] for g in optim_wrapper.optimizer.param_groups] == [
        0.01,
        0.02,
        0.01,
        0.02,
        0.01,
        0.05,
        0.1,
    ]
    assert isinstance(optim_wrapper.optimizer, torch.optim.SGD)
    assert optim_wrapper.clip_grad_kwargs == dict(max_norm=20, norm_type=2)
