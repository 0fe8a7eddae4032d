"""Every config under configs/ loads (with its 0.x keys translated) and builds its model, which
runs on a clip shaped like its own pipeline's output."""

from pathlib import Path

import pytest
import torch
from mmengine.registry import DefaultScope

from mmaction_ft.config import load_config
from mmaction_ft.registry import MODELS

CONFIG_DIR = Path(__file__).resolve().parents[2] / 'configs'
RECIPES = sorted(p for p in CONFIG_DIR.rglob('*.py') if '_base_' not in p.parts)
BASES = sorted(p for p in CONFIG_DIR.rglob('*.py') if '_base_' in p.parts)
# Backbones whose fc layers fix the input size: the forward uses the config's crop size.
FIXED_INPUT_BACKBONES = ('C3D',)
TINY = 32  # spatial size of the forward for every other model
# Backbones built for one input size: rebuilt here at 2 x 2 patches (the argument named).
TINY_SIZE_ARGS = {'TimeSformer': 'img_size', 'UniFormerV2': 'input_resolution'}


def _transform(pipeline: list, name: str) -> dict:
    found = [t for t in pipeline if t['type'] in (name, f'mmaction.{name}')]
    assert found, f'pipeline has no {name}: {[t["type"] for t in pipeline]}'
    return found[0]


def _sampler(pipeline: list) -> dict:
    samplers = [t for t in pipeline if 'clip_len' in t]
    assert samplers, f'pipeline samples no frames: {[t["type"] for t in pipeline]}'
    return samplers[0]


def pipeline_input_shape(cfg) -> tuple:
    """``[1, views, 3, (T,) H, W]`` as the training pipeline packs one video, with 2 views for a
    3D model (multi-view testing) and a tiny H = W unless the backbone fixes its input size."""
    train = cfg.train_dataloader.dataset.pipeline
    sampler = _sampler(train)
    fmt = _transform(train, 'FormatShape')['input_format']
    size = TINY
    if cfg.model.backbone.type in TINY_SIZE_ARGS:
        size = 2 * cfg.model.backbone.patch_size
    if cfg.model.backbone.type in FIXED_INPUT_BACKBONES:
        crop = _transform(cfg.val_dataloader.dataset.pipeline, 'CenterCrop')['crop_size']
        size = crop if isinstance(crop, int) else crop[0]
    if fmt == 'NCHW':  # 2D: every sampled frame is a view; the head regroups them into clips
        return (1, sampler['clip_len'] * sampler['num_clips'], 3, size, size)
    assert fmt == 'NCTHW', fmt
    return (1, 2, 3, sampler['clip_len'], size, size)


def test_there_are_recipes_to_check():
    assert any(p.name == 'tsn_ucf101.py' for p in RECIPES)
    assert len(list((CONFIG_DIR / 'recognition').glob('*/*_ucf101.py'))) >= 8


@pytest.mark.parametrize('path', BASES, ids=lambda p: str(p.relative_to(CONFIG_DIR)))
def test_base_config_loads(path):
    cfg, _ = load_config(str(path))
    assert len(cfg.keys()) > 0


@pytest.mark.parametrize('path', RECIPES, ids=lambda p: str(p.relative_to(CONFIG_DIR)))
def test_recipe_builds_its_model(path):
    cfg, _ = load_config(str(path))
    assert cfg.default_scope == 'mmaction_ft'
    # The fastest precision that keeps accuracy, chosen per machine (docs/benchmarks.md).
    assert cfg.precision == 'auto'
    for key in ('train_dataloader', 'optim_wrapper', 'param_scheduler', 'train_cfg'):
        assert key in cfg, f'{path.name} lacks {key}'
    shape = pipeline_input_shape(cfg)
    size_arg = TINY_SIZE_ARGS.get(cfg.model.backbone.type)
    if size_arg:
        cfg.model.backbone[size_arg] = shape[-1]
    with DefaultScope.overwrite_default_scope('mmaction_ft'):
        model = MODELS.build(cfg.model)
    num_classes = cfg.model.cls_head.num_classes
    classifier = getattr(model.cls_head, model.cls_head.classifier_names[-1])
    assert classifier.out_features == num_classes
    # The model runs on a tiny input shaped like the config's training pipeline output.
    model.eval()
    with torch.no_grad():
        scores = model(torch.rand(shape), mode='tensor')
    # 2D heads average the frames of a clip (1 row a video), 3D heads score every view.
    rows = 1 if len(shape) == 5 else shape[1]
    assert scores.shape == (rows, num_classes)
