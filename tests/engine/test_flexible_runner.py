"""tools/train.py's runner choice: ActionFlexibleRunner for a FlexibleRunner config (strategies
such as FSDP), ActionRunner otherwise, and an error for a strategy mmengine's Runner would
ignore. (Training under FSDP is tested end to end in tests/tools/test_transformer_demo.py.)"""

import pytest
from mmengine.config import Config

from mmaction_ft.apis.run_setup import build_runner
from mmaction_ft.config import load_config
from mmaction_ft.engine.flexible_runner import ActionFlexibleRunner
from mmaction_ft.engine.runner import ActionCheckpointLoading, ActionRunner
from mmaction_ft.registry import RUNNERS

FSDP_CONFIG = 'configs/recognition/videomae/vit_large_p16_videomae_16x4x1_ucf101_fsdp.py'


def test_flexible_runner_shares_the_checkpoint_loading():
    assert issubclass(ActionFlexibleRunner, ActionCheckpointLoading)
    assert issubclass(ActionRunner, ActionCheckpointLoading)
    assert RUNNERS.get('ActionFlexibleRunner') is ActionFlexibleRunner


def test_fsdp_recipe_selects_the_flexible_runner():
    cfg, _ = load_config(FSDP_CONFIG)
    assert cfg.runner_type == 'FlexibleRunner'
    assert cfg.strategy.type == 'FSDPStrategy' and cfg.strategy.state_dict_cfg == 'full'
    assert cfg.optim_wrapper.clip_grad is None  # per-shard clipping would be wrong


def test_strategy_without_flexible_runner_is_refused(tmp_path):
    cfg = Config(dict(strategy=dict(type='FSDPStrategy'), work_dir=str(tmp_path)))
    with pytest.raises(ValueError, match="runner_type='FlexibleRunner'"):
        build_runner(cfg)


def test_unknown_runner_type_is_refused(tmp_path):
    cfg = Config(dict(runner_type='IterRunner', work_dir=str(tmp_path)))
    with pytest.raises(ValueError, match='unknown runner_type'):
        build_runner(cfg)


def test_finetune_preset_under_the_flexible_runner_is_refused_not_ignored(tmp_path):
    cfg = Config(
        dict(
            runner_type='FlexibleRunner',
            strategy=dict(type='FSDPStrategy'),
            finetune=dict(preset='linear_probe'),
            work_dir=str(tmp_path),
        )
    )
    with pytest.raises(ValueError) as raised:
        build_runner(cfg)
    message = str(raised.value)
    assert message.startswith("finetune={'preset': 'linear_probe'} is applied by the default")
    assert "runner_type='FlexibleRunner' (strategy 'FSDPStrategy') it would be ignored" in message
