"""load_config patches mmengine's private ``Config._merge_a_into_b`` for one merge rule; these
checks fail when an mmengine release outside the tested range changes it."""

import inspect
import re
from pathlib import Path

import mmengine
from mmengine.config import Config
from packaging.specifiers import SpecifierSet

from mmaction_ft.config import load_config
from mmaction_ft.config.loading import MERGE_PARAMETERS, private_merge

REQUIREMENTS = Path(__file__).resolve().parents[2] / 'requirements.txt'


def test_mmengine_is_in_the_pinned_range():
    line = next(
        line for line in REQUIREMENTS.read_text().splitlines() if line.startswith('mmengine')
    )
    spec = SpecifierSet(re.sub(r'^mmengine', '', line.split('#')[0].strip()))
    assert '<' in str(spec), 'the private API needs an upper bound on mmengine'
    assert mmengine.__version__ in spec


def test_private_merge_has_the_patched_signature():
    method = Config.__dict__['_merge_a_into_b']
    assert isinstance(method, staticmethod)
    assert tuple(inspect.signature(method.__func__).parameters) == MERGE_PARAMETERS
    assert private_merge() is method


def test_dict_over_none_merges_and_the_original_is_restored(tmp_path):
    original = Config.__dict__['_merge_a_into_b']
    (tmp_path / 'base.py').write_text('model = dict(type="Recognizer2D", test_cfg=None)\n')
    (tmp_path / 'child.py').write_text("_base_ = ['base.py']\nmodel = dict(test_cfg=dict(fps=4))\n")
    cfg, report = load_config(str(tmp_path / 'child.py'))
    assert cfg.model.test_cfg == dict(fps=4)
    assert any('dict over None' in entry.detail for entry in report)
    assert Config.__dict__['_merge_a_into_b'] is original
