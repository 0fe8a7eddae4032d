import os.path as osp

import pytest
import torch
from mmengine.config import Config

from mmaction_ft.apis import (
    apply_precision,
    check_annotation_files,
    default_work_dir,
    prepare_test_cfg,
    prepare_train_cfg,
    run_setup,
)
from mmaction_ft.utils import cpu


def _cfg(**extra) -> Config:
    base = dict(
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', save_best='acc/top1')),
        val_cfg=dict(type='ValLoop'),
        val_dataloader=dict(dataset=dict(ann_file='val.txt')),
        val_evaluator=dict(type='AccMetric'),
        auto_scale_lr=dict(enable=False, base_batch_size=256),
    )
    base.update(extra)
    return Config(base)


def test_default_work_dir_is_named_after_the_config():
    assert default_work_dir('configs/tsn_ucf101.py') == osp.join('work_dirs', 'tsn_ucf101')


def test_work_dir_priority_cli_then_config_then_default():
    assert prepare_train_cfg(_cfg(), 'a/b.py').work_dir == osp.join('work_dirs', 'b')
    assert prepare_train_cfg(_cfg(work_dir='w'), 'a/b.py').work_dir == 'w'
    assert prepare_train_cfg(_cfg(work_dir='w'), 'a/b.py', work_dir='cli').work_dir == 'cli'


def test_resume_without_value_takes_latest_and_with_path_takes_it(tmp_path):
    work_dir = tmp_path / 'work'
    work_dir.mkdir()
    torch.save({'state_dict': {}, 'meta': {'epoch': 3}}, work_dir / 'epoch_3.pth')  # intact
    (work_dir / 'last_checkpoint').write_text(str(work_dir / 'epoch_3.pth'))
    cfg = prepare_train_cfg(
        _cfg(load_from='k400.pth'), 'c.py', work_dir=str(work_dir), resume='auto'
    )
    # The runner finds the checkpoint (ActionRunner.load_or_resume), so its log file says which.
    assert cfg.resume is True and cfg.load_from is None
    cfg = prepare_train_cfg(_cfg(), 'c.py', resume='work/epoch_3.pth')
    assert cfg.resume is True and cfg.load_from == 'work/epoch_3.pth'
    cfg = prepare_train_cfg(_cfg(load_from='k400.pth'), 'c.py')
    assert cfg.get('resume', False) is False and cfg.load_from == 'k400.pth'


def test_resume_without_value_and_nothing_to_resume_starts_from_load_from(tmp_path):
    cfg = prepare_train_cfg(
        _cfg(load_from='k400.pth'), 'c.py', work_dir=str(tmp_path), resume='auto'
    )
    assert cfg.resume is False and cfg.load_from == 'k400.pth'


def test_no_validate_drops_the_val_loop_and_best_checkpoint():
    cfg = prepare_train_cfg(_cfg(), 'c.py', no_validate=True)
    assert cfg.val_cfg is None and cfg.val_dataloader is None and cfg.val_evaluator is None
    assert 'save_best' not in cfg.default_hooks.checkpoint


def test_seed_deterministic_and_auto_scale_lr():
    cfg = prepare_train_cfg(_cfg(), 'c.py', seed=7, deterministic=True, auto_scale_lr=True)
    assert cfg.randomness == dict(seed=7, deterministic=True)
    assert cfg.auto_scale_lr.enable is True
    with pytest.raises(KeyError, match='base_batch_size'):
        prepare_train_cfg(Config(dict(optim_wrapper={})), 'c.py', auto_scale_lr=True)


@pytest.mark.skipif(torch.cuda.is_available(), reason='checks the CPU setting')
def test_amp_on_a_cpu_uses_the_amp_wrapper_without_gpu_loss_scaling():
    cfg = prepare_train_cfg(_cfg(), 'c.py', amp=True)
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
    assert 'loss_scale' not in cfg.optim_wrapper
    assert cfg.val_cfg == dict(type='ValLoop', fp16=True)


def test_amp_validates_in_mixed_precision_and_a_typeless_loop_gets_ours():
    cfg = prepare_train_cfg(_cfg(val_cfg=dict()), 'c.py', amp=True)
    # Without a type mmengine's runner would build its own ValLoop, which ignores the CPU.
    assert cfg.val_cfg == dict(type='ValLoop', fp16=True)
    assert 'fp16' not in prepare_train_cfg(_cfg(), 'c.py').val_cfg


def test_test_amp_sets_the_test_loop_only():
    cfg = _cfg(test_cfg=dict(type='TestLoop'), test_dataloader=dict(num_workers=0))
    assert 'fp16' not in prepare_test_cfg(cfg.copy(), 'c.py').test_cfg
    cfg = prepare_test_cfg(cfg, 'c.py', amp=True)
    assert cfg.test_cfg == dict(type='TestLoop', fp16=True)
    assert cfg.optim_wrapper.get('type') is None and 'fp16' not in cfg.val_cfg


def test_missing_annotation_lists_are_named_with_their_keys(tmp_path):
    present = tmp_path / 'train.txt'
    present.write_text('a 3 0\n')
    cfg = Config(
        dict(
            train_dataloader=dict(dataset=dict(ann_file=str(present))),
            val_dataloader=dict(
                dataset=dict(
                    type='RepeatDataset', times=2, dataset=dict(ann_file=str(tmp_path / 'val.txt'))
                )
            ),
        )
    )
    with pytest.raises(FileNotFoundError) as err:
        check_annotation_files(cfg, ['train', 'val'])
    message = str(err.value)
    assert 'val_dataloader.dataset.dataset.ann_file' in message
    assert str(tmp_path / 'val.txt') in message
    assert 'train.txt' not in message
    assert 'docs/data_preparation.md' in message
    check_annotation_files(cfg, ['train'])  # the present list alone passes


def test_relative_annotation_list_is_looked_up_under_data_root(tmp_path):
    (tmp_path / 'train.txt').write_text('a 3 0\n')
    cfg = Config(
        dict(train_dataloader=dict(dataset=dict(data_root=str(tmp_path), ann_file='train.txt')))
    )
    check_annotation_files(cfg, ['train'])
    cfg.train_dataloader.dataset.ann_file = 'missing.txt'
    with pytest.raises(FileNotFoundError, match='missing.txt'):
        check_annotation_files(cfg, ['train'])


@pytest.fixture
def logged(monkeypatch):
    """The messages run_setup logs."""
    messages = []
    monkeypatch.setattr(run_setup, 'print_log', lambda msg, **kwargs: messages.append(msg))
    return messages


@pytest.mark.skipif(torch.cuda.is_available(), reason='checks the CPU choice')
@pytest.mark.parametrize('native', [True, False])
def test_auto_precision_trains_in_bf16_only_where_the_cpu_computes_it(monkeypatch, logged, native):
    monkeypatch.setattr(cpu, 'has_native_bf16', lambda: native)
    cfg = prepare_train_cfg(_cfg(precision='auto'), 'c.py')
    (said,) = logged
    if native:
        assert cfg.optim_wrapper.type == 'AmpOptimWrapper'
        assert cfg.val_cfg == dict(type='ValLoop', fp16=True)
        assert said == (
            "precision='auto': training and validation in mixed precision, because the CPU "
            'computes bfloat16 natively (AVX-512 BF16 / AMX)'
        )
    else:
        assert 'type' not in cfg.optim_wrapper and 'fp16' not in cfg.val_cfg
        assert said.startswith("precision='auto': training and validation in float32, because")
        assert 'emulated and slower' in said


@pytest.mark.skipif(torch.cuda.is_available(), reason='checks the CPU choice')
def test_fp32_or_no_precision_key_stays_float32_and_amp_flag_wins(monkeypatch, logged):
    monkeypatch.setattr(cpu, 'has_native_bf16', lambda: True)
    for cfg in (_cfg(precision='fp32'), _cfg()):  # no key: an MMAction2 config, float32
        prepared = prepare_train_cfg(cfg, 'c.py')
        assert 'type' not in prepared.optim_wrapper and 'fp16' not in prepared.val_cfg
    assert logged == []
    monkeypatch.setattr(cpu, 'has_native_bf16', lambda: False)
    cfg = prepare_train_cfg(_cfg(precision='fp32'), 'c.py', amp=True)
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper' and cfg.val_cfg.fp16 is True


def test_apply_precision_returns_what_runs(monkeypatch):
    monkeypatch.setattr(run_setup, 'accelerator_available', lambda: True)
    # On a GPU 'auto' keeps float32: float16 needs loss scaling and is asked for with --amp.
    assert apply_precision(_cfg(precision='auto')) == 'fp32'
    assert apply_precision(_cfg(precision='amp')) == 'amp'
