"""Every model family gives MMAction2 1.2.0's outputs for the same weights and input.

``tests/data/mmaction2_parity/<family>.json`` was written by ``make_fixtures.py`` in that folder
with the real MMAction2: the ``model`` dict of its standard config, the state dict's key count,
parameter count and key/shape digest, and the backbone and head outputs for weights and an input
that both sides regenerate from :mod:`parity_weights`. Here the same dict builds our recognizer.
"""

import copy
import hashlib
import json
import sys
from pathlib import Path

import pytest
import torch
from mmengine.registry import DefaultScope

import mmaction_ft.models  # noqa: F401  (registers every model part)
from mmaction_ft.engine import load_weights
from mmaction_ft.engine.runner import classifier_prefixes
from mmaction_ft.registry import MODELS

FIXTURES = Path(__file__).resolve().parents[1] / 'data' / 'mmaction2_parity'
sys.path.insert(0, str(FIXTURES))
from parity_weights import fill_deterministic, make_input, sample_values  # noqa: E402

FAMILIES = sorted(p.stem for p in FIXTURES.glob('*.json'))
# Relative error bound of the acceptance list (float32, different op orders allowed).
RTOL = 1e-4


def _rel_error(ours, reference) -> float:
    ours = torch.as_tensor(ours, dtype=torch.float64)
    reference = torch.as_tensor(reference, dtype=torch.float64)
    return float((ours - reference).abs().max() / reference.abs().max())


def test_every_family_has_a_fixture():
    expected = {'tsn', 'tsm', 'i3d', 'slowonly', 'slowfast', 'x3d', 'c3d', 'r2plus1d', 'ircsn'}
    assert expected <= set(FAMILIES)


def _assert_same_state_dict_layout(model, record):
    state_dict = model.state_dict()
    assert len(state_dict) == record['num_keys']
    assert sum(p.numel() for p in model.parameters()) == record['num_params']
    lines = sorted(f'{key}:{list(value.shape)}' for key, value in state_dict.items())
    assert hashlib.sha256('\n'.join(lines).encode()).hexdigest() == record['keys_sha256']


@pytest.mark.parametrize('family', FAMILIES)
def test_same_keys_params_and_outputs_as_mmaction2(family):
    record = json.loads((FIXTURES / f'{family}.json').read_text())
    with DefaultScope.overwrite_default_scope('mmaction_ft'):
        model = MODELS.build(copy.deepcopy(record['model']))
    fill_deterministic(model)
    model.eval()

    _assert_same_state_dict_layout(model, record)
    if 'standard' in record:  # outputs were compared on a reduced input size (make_fixtures.py)
        with DefaultScope.overwrite_default_scope('mmaction_ft'):
            standard = MODELS.build(copy.deepcopy(record['standard']['model']))
        _assert_same_state_dict_layout(standard, record['standard'])

    inputs = make_input(record['input_shape'])
    with torch.no_grad():
        feats, _ = model.extract_feat(inputs, stage='backbone')
        scores, _ = model.extract_feat(inputs, stage='head')
    feats = feats if isinstance(feats, tuple) else (feats,)
    # MViT gives [patch_tokens, cls_token] per scale.
    feats = [f for feat in feats for f in (feat if isinstance(feat, list) else [feat])]
    assert len(feats) == len(record['backbone'])
    for feat, expected in zip(feats, record['backbone']):
        assert list(feat.shape) == expected['shape']
        assert _rel_error(sample_values(feat), expected['values']) < RTOL
        assert abs(float(feat.double().norm()) / expected['norm'] - 1) < RTOL
    assert list(scores.shape) == record['scores']['shape']
    assert _rel_error(scores.flatten(), record['scores']['values']) < RTOL


@pytest.mark.parametrize('family', FAMILIES)
def test_kinetics_checkpoint_finetunes_to_101_classes(family):
    """``load_from`` of the 400-class model into a 101-class one re-initialises exactly the
    classifier that the head declares, and loads everything else."""
    record = json.loads((FIXTURES / f'{family}.json').read_text())
    source_cfg = copy.deepcopy(record['model'])
    source_cfg['cls_head']['num_classes'] = 400
    target_cfg = copy.deepcopy(record['model'])
    target_cfg['cls_head']['num_classes'] = 101
    with DefaultScope.overwrite_default_scope('mmaction_ft'):
        source, target = MODELS.build(source_cfg), MODELS.build(target_cfg)
    prefixes = classifier_prefixes(target)
    report = load_weights(target, source.state_dict(), mode='finetune', head_prefixes=prefixes)
    classifier = [key for key in target.state_dict() if key.startswith(prefixes)]
    assert classifier and report.reinitialised == classifier
    assert set(report.loaded) == set(target.state_dict()) - set(classifier)
