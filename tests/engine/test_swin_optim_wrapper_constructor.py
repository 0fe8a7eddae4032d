import pytest
import torch.nn as nn

from mmaction_ft.engine import SwinOptimWrapperConstructor
from mmaction_ft.registry import OPTIM_WRAPPER_CONSTRUCTORS

# paramwise_cfg of MMAction2's Swin configs
SWIN_PARAMWISE = dict(
    absolute_pos_embed=dict(decay_mult=0.0),
    relative_position_bias_table=dict(decay_mult=0.0),
    norm=dict(decay_mult=0.0),
    backbone=dict(lr_mult=0.1),
)
OPTIM = dict(type='OptimWrapper', optimizer=dict(type='AdamW', lr=1e-3, weight_decay=0.02))


class _Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = nn.Module()
        self.backbone.fc = nn.Linear(2, 2)
        self.backbone.norm0 = nn.LayerNorm(2)
        self.cls_head = nn.Linear(2, 3)


def _groups(model, paramwise_cfg=SWIN_PARAMWISE):
    constructor = OPTIM_WRAPPER_CONSTRUCTORS.build(
        dict(
            type='SwinOptimWrapperConstructor',
            optim_wrapper_cfg=OPTIM,
            paramwise_cfg=paramwise_cfg,
        )
    )
    return constructor(model).optimizer.param_groups


def test_substring_keys_multiply_lr_and_decay_in_parameter_order():
    model = _Model()
    groups = _groups(model)
    got = [
        (g['params'][0] is p, g['lr'], g['weight_decay'])
        for g, p in zip(groups, model.parameters())
    ]
    assert got == [
        (True, pytest.approx(1e-4), 0.02),  # backbone.fc.weight: 0.1 x lr
        (True, pytest.approx(1e-4), 0.02),
        (True, pytest.approx(1e-4), 0.0),  # backbone.norm0: no decay
        (True, pytest.approx(1e-4), 0.0),
        (True, 1e-3, 0.02),  # cls_head
        (True, 1e-3, 0.02),
    ]


def test_frozen_parameters_get_no_lr():
    model = _Model()
    model.backbone.fc.weight.requires_grad = False
    group = _groups(model)[0]
    assert group['params'][0] is model.backbone.fc.weight
    assert group['lr'] == 1e-3  # the optimizer's default, not backbone's 0.1 x lr


def test_malformed_paramwise_cfg_is_rejected():
    with pytest.raises(ValueError, match=r'paramwise_cfg.norm must be a dict with lr_mult'):
        SwinOptimWrapperConstructor(OPTIM, dict(norm=dict(decay=0.0)))
