import importlib.util

import pytest
from mmengine.registry import DefaultScope

from mmaction_ft.registry import VISBACKENDS, VISUALIZERS
from mmaction_ft.visualization import TensorboardVisBackend


def test_missing_tensorboard_fails_when_built_with_the_install_command(tmp_path, monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        'find_spec',
        lambda name, *a: None if name == 'tensorboard' else real_find_spec(name, *a),
    )
    with DefaultScope.overwrite_default_scope('mmaction_ft'):
        cfg = dict(
            type='ActionVisualizer',
            name=f'tb-missing-{tmp_path.name}',
            vis_backends=[dict(type='TensorboardVisBackend')],
            save_dir=str(tmp_path),
        )
        with pytest.raises(ImportError, match=r'pip install -e "\.\[tensorboard\]"'):
            VISUALIZERS.build(cfg)


def test_with_tensorboard_installed_the_backend_builds_as_mmengines(tmp_path, monkeypatch):
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        'find_spec',
        lambda name, *a: object() if name == 'tensorboard' else real_find_spec(name, *a),
    )
    with DefaultScope.overwrite_default_scope('mmaction_ft'):
        backend = VISBACKENDS.build(dict(type='TensorboardVisBackend', save_dir=str(tmp_path)))
    assert type(backend) is TensorboardVisBackend
    assert backend._save_dir == str(tmp_path)
