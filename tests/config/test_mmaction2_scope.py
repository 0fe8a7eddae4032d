"""MMAction2 1.x config files name their registry scope 'mmaction'; they run here unchanged."""

from mmengine.registry import DefaultScope

from mmaction_ft.config import load_config
from mmaction_ft.registry import MODELS, VISUALIZERS
from mmaction_ft.visualization import ActionVisualizer


def test_mmaction_scope_runs_as_ours_and_is_reported(tmp_path):
    config = tmp_path / 'mmaction2_style.py'
    config.write_text(
        "default_scope = 'mmaction'\n"
        "model = dict(type='Recognizer2D', backbone=dict(type='ResNet', depth=18),\n"
        "             cls_head=dict(type='TSNHead', num_classes=3, in_channels=512))\n"
        "visualizer = dict(type='ActionVisualizer', name='scope_test',\n"
        "                  vis_backends=[dict(type='LocalVisBackend')])\n"
    )
    cfg, report = load_config(str(config))
    assert cfg.default_scope == 'mmaction_ft'
    assert "default_scope -> default_scope  (MMAction2's 'mmaction' -> 'mmaction_ft')" in (
        report.lines
    )
    with DefaultScope.overwrite_default_scope(cfg.default_scope):
        model = MODELS.build(cfg.model)
        visualizer = VISUALIZERS.build(cfg.visualizer)
    assert model.cls_head.num_classes == 3
    assert isinstance(visualizer, ActionVisualizer)


def test_our_scope_is_left_alone(tmp_path):
    config = tmp_path / 'ours.py'
    config.write_text("default_scope = 'mmaction_ft'\n")
    cfg, report = load_config(str(config))
    assert cfg.default_scope == 'mmaction_ft' and len(report) == 0
