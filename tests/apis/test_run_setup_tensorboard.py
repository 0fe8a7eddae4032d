import importlib.util

import pytest
from mmengine.config import Config

from mmaction_ft.apis.run_setup import add_tensorboard


def config(**extra):
    return Config(
        dict(
            visualizer=dict(type='ActionVisualizer', vis_backends=[dict(type='LocalVisBackend')]),
            val_dataloader=dict(batch_size=1),
            **extra,
        )
    )


def test_tensorboard_backend_and_confusion_matrix_hook_are_added_once(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, 'find_spec', lambda n, *a: object() if n == 'tensorboard' else real(n, *a)
    )
    cfg = add_tensorboard(add_tensorboard(config(custom_hooks=[dict(type='EMAHook')])))
    assert [b['type'] for b in cfg.visualizer.vis_backends] == [
        'LocalVisBackend',
        'TensorboardVisBackend',
    ]
    assert [h['type'] for h in cfg.custom_hooks] == ['EMAHook', 'ConfusionMatrixHook']
    no_val = add_tensorboard(Config(dict()))  # no validation: nothing to draw
    assert no_val.custom_hooks == [] and len(no_val.visualizer.vis_backends) == 2


def test_without_tensorboard_the_flag_names_the_install_command(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util, 'find_spec', lambda n, *a: None if n == 'tensorboard' else real(n, *a)
    )
    with pytest.raises(
        ImportError, match=r'--tensorboard needs .*pip install -e "\.\[tensorboard\]"'
    ):
        add_tensorboard(config())
