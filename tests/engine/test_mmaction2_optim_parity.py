"""Our optimizer wrapper constructors give MMAction2 1.2.0's parameter groups.

``tests/data/mmaction2_optim/groups.json`` was written by ``make_fixtures.py`` in that folder
with the real MMAction2: for tiny ViT, MViT and Video Swin recognizers, the learning rate,
weight decay and parameter names of every group its constructor builds. Here the same model and
``optim_wrapper`` dicts build ours; the groups must match in order, so MMAction2's optimizer
states resume here.
"""

import copy
import json
from pathlib import Path

import pytest
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope

import mmaction_ft.models  # noqa: F401  (registers every model part)
from mmaction_ft.registry import MODELS

FIXTURE = Path(__file__).resolve().parents[1] / 'data' / 'mmaction2_optim' / 'groups.json'
CASES = json.loads(FIXTURE.read_text())


def test_fixture_covers_both_constructors():
    constructors = {case['optim_wrapper']['constructor'] for case in CASES.values()}
    assert constructors == {'LearningRateDecayOptimizerConstructor', 'SwinOptimWrapperConstructor'}


@pytest.mark.parametrize('case', sorted(CASES))
def test_same_param_groups_as_mmaction2(case):
    record = CASES[case]
    with DefaultScope.overwrite_default_scope('mmaction_ft'):
        model = MODELS.build(copy.deepcopy(record['model']))
        optim_wrapper = build_optim_wrapper(model, copy.deepcopy(record['optim_wrapper']))
    names = {id(p): n for n, p in model.named_parameters()}
    ours = [
        dict(
            lr=pytest.approx(g['lr'], rel=1e-12),
            weight_decay=g['weight_decay'],
            params=[names[id(p)] for p in g['params']],
        )
        for g in optim_wrapper.optimizer.param_groups
    ]
    assert ours == record['groups']
