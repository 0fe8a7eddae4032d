"""Every config under configs/ loads (with its 0.x keys translated) and builds its model."""

from pathlib import Path

import pytest
import torch
from mmengine.registry import DefaultScope

from mmaction_ft.config import load_config
from mmaction_ft.registry import MODELS

CONFIG_DIR = Path(__file__).resolve().parents[2] / 'configs'
RECIPES = sorted(p for p in CONFIG_DIR.rglob('*.py') if '_base_' not in p.parts)
BASES = sorted(p for p in CONFIG_DIR.rglob('*.py') if '_base_' in p.parts)


def test_there_are_recipes_to_check():
    assert any(p.name == 'tsn_ucf101.py' for p in RECIPES)


@pytest.mark.parametrize('path', BASES, ids=lambda p: str(p.relative_to(CONFIG_DIR)))
def test_base_config_loads(path):
    cfg, _ = load_config(str(path))
    assert len(cfg.keys()) > 0


@pytest.mark.parametrize('path', RECIPES, ids=lambda p: str(p.relative_to(CONFIG_DIR)))
def test_recipe_builds_its_model(path):
    cfg, _ = load_config(str(path))
    assert cfg.default_scope == 'mmaction_ft'
    for key in ('train_dataloader', 'optim_wrapper', 'param_scheduler', 'train_cfg'):
        assert key in cfg, f'{path.name} lacks {key}'
    with DefaultScope.overwrite_default_scope('mmaction_ft'):
        model = MODELS.build(cfg.model)
    num_classes = cfg.model.cls_head.num_classes
    assert model.cls_head.fc_cls.out_features == num_classes
    # The model runs on a tiny clip shaped like the config's training input.
    model.eval()
    with torch.no_grad():
        scores = model(torch.rand(1, 2, 3, 32, 32), mode='tensor')
    assert scores.shape == (1, num_classes)
