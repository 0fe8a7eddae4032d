"""docs/model_zoo.md's table is what tools/analysis/model_table.py makes from the configs now,
and its counts agree with MMAction2's model-zoo metafiles."""

import importlib.util

import pytest
from conftest import REPO

from mmaction_ft.config import load_config

spec = importlib.util.spec_from_file_location('model_table', REPO / 'tools/analysis/model_table.py')
model_table = importlib.util.module_from_spec(spec)
spec.loader.exec_module(model_table)


def test_committed_table_is_current():
    doc = REPO / 'docs/model_zoo.md'
    text = doc.read_text()
    assert model_table.render(text) == text, (
        'docs/model_zoo.md is out of date: run python tools/analysis/model_table.py'
    )


@pytest.mark.parametrize(
    'config, num_classes, params, gflops',
    [
        # MMAction2 1.2.0 metafiles: C3D 78.4M / 38.5G (16x112x112, UCF101), X3D-M 3,794,322
        # parameters (Kinetics-400). Their FLOPs of the 256-px 3D models are 1.31x ours.
        ('configs/recognition/c3d/c3d_16x1x1_ucf101.py', 101, 78.4, 38.5),
        ('configs/recognition/x3d/x3d_m_16x5x1_ucf101.py', 400, 3.794322, None),
    ],
)
def test_counts_match_mmaction2_metafiles(config, num_classes, params, gflops):
    cfg, _ = load_config(str(REPO / config))
    cfg.model.cls_head.num_classes = num_classes
    got_params, got_gflops = model_table.count(cfg)
    assert got_params == pytest.approx(params, abs=0.05 if gflops else 1e-6)
    if gflops:
        assert got_gflops == pytest.approx(gflops, rel=0.01)


def test_render_needs_the_markers():
    with pytest.raises(ValueError, match='model-table begin'):
        model_table.render('# Model zoo\n')
