"""Few-video finetuning end to end (CPU): a linear probe with EMA, early stopping and the best
checkpoint by ``acc/mean1`` through tools/train.py, then tools/test.py on that checkpoint."""

import re

import pytest
import torch
from conftest import REPO, run_tool

from mmaction_ft.config import load_config
from mmaction_ft.registry import MODELS

pytestmark = pytest.mark.slow


def _val_mean1(log: str) -> list:
    return [
        float(v) for v in re.findall(r'Epoch\(val\) \[\d+\]\[\d+/\d+\].*acc/mean1: ([0-9.]+)', log)
    ]


@pytest.fixture(scope='module')
def probed(tiny_demo, tmp_path_factory):
    root = tmp_path_factory.mktemp('probe')
    cfg, _ = load_config(str(tiny_demo['config']))
    model = MODELS.build(cfg.model)
    model.init_weights()
    for module in model.backbone.modules():  # BN statistics as a trained model has them
        if isinstance(module, torch.nn.BatchNorm2d):
            module.running_mean.uniform_(-0.1, 0.1)
            module.running_var.uniform_(0.5, 2.0)
    source = {k: v.clone() for k, v in model.state_dict().items()}
    torch.save({'state_dict': source}, root / 'source.pth')
    config = root / 'probe.py'
    config.write_text(f"""
_base_ = [{str(tiny_demo['config'])!r}]
load_from = {str(root / 'source.pth')!r}
finetune = dict(preset='linear_probe')
train_cfg = dict(max_epochs=4)
custom_hooks = [
    dict(type='EMAHook', momentum=0.5),
    # No validation improves an accuracy by more than 1: the run stops after the second.
    dict(type='EarlyStoppingHook', monitor='acc/mean1', patience=1, min_delta=1.0),
]
default_hooks = dict(checkpoint=dict(save_best='acc/mean1', rule='greater'))
""")
    work_dir = root / 'work'
    result = run_tool('tools/train.py', str(config), '--work-dir', str(work_dir), cwd=REPO)
    assert result.returncode == 0, result.stderr[-3000:]
    return config, work_dir, source, result.stdout + result.stderr


def test_linear_probe_keeps_the_backbone_bit_identical_and_trains_the_head(probed):
    _, work_dir, source, log = probed
    checkpoint = torch.load(work_dir / 'epoch_2.pth', weights_only=False)
    backbone = [key for key in source if key.startswith('backbone.')]
    assert any(key.endswith('running_var') for key in backbone)
    # The averaged weights (state_dict) and the trained ones (ema_state_dict) alike.
    for key in backbone:
        assert torch.equal(checkpoint['state_dict'][key], source[key]), key
        assert torch.equal(checkpoint['ema_state_dict'][f'module.{key}'], source[key]), key
    assert not torch.equal(
        checkpoint['state_dict']['cls_head.fc_cls.weight'], source['cls_head.fc_cls.weight']
    )
    assert 'frozen 11,176,512 parameters (60 tensors), norm layers in eval mode 20/20' in log
    assert 'lr 0.001, weight_decay 0.0001: 1 group, 2 tensors, 4,104 parameters (cls_head)' in log


def test_early_stopping_ended_the_run_and_the_best_checkpoint_is_by_mean1(probed):
    _, work_dir, _, log = probed
    assert not (work_dir / 'epoch_3.pth').exists()
    assert 'the monitored metric did not improve' in log
    assert len(_val_mean1(log)) == 2
    assert len(list(work_dir.glob('best_acc_mean1_epoch_*.pth'))) == 1


def test_test_tool_loads_the_ema_checkpoint_strictly_and_reproduces_validation(probed):
    config, work_dir, _, log = probed
    best = next(work_dir.glob('best_acc_mean1_epoch_*.pth'))
    epoch = int(best.stem.rsplit('_', 1)[1])
    result = run_tool(
        'tools/test.py', str(config), str(best), '--work-dir', str(work_dir / 'test'), cwd=REPO
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert f'Load checkpoint from {best} (strict)' in result.stdout + result.stderr
    mean1 = float(re.search(r'acc/mean1: ([0-9.]+)', result.stdout).group(1))
    # Validation scored the averaged weights, which the checkpoint's state_dict holds.
    assert mean1 == pytest.approx(_val_mean1(log)[epoch - 1], abs=1e-4)
