"""LegacyWarmupLR lives in mmaction_ft.engine and keeps its registry name and import paths."""

import torch
from mmengine.registry import DefaultScope

import mmaction_ft.config
import mmaction_ft.config.legacy_warmup
from mmaction_ft.engine import LegacyWarmupLR
from mmaction_ft.registry import PARAM_SCHEDULERS


def test_one_class_behind_every_import_path():
    assert mmaction_ft.config.LegacyWarmupLR is LegacyWarmupLR
    assert mmaction_ft.config.legacy_warmup.LegacyWarmupLR is LegacyWarmupLR
    assert LegacyWarmupLR.__module__ == 'mmaction_ft.engine.legacy_warmup_lr'


def test_built_by_name_in_the_mmaction_ft_scope():
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    with DefaultScope.overwrite_default_scope('mmaction_ft'):
        scheduler = PARAM_SCHEDULERS.build(
            dict(type='LegacyWarmupLR', optimizer=optimizer, mode='constant', ratio=0.5, end=2)
        )
    assert isinstance(scheduler, LegacyWarmupLR)
    assert optimizer.param_groups[0]['lr'] == 0.5
