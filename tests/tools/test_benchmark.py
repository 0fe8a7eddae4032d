import importlib.util
import re
import sys

import pytest
import torch
from conftest import REPO

from mmaction_ft.utils import cpu

SCRIPT = REPO / 'tools' / 'analysis' / 'benchmark.py'
NUMBER = r'\d+\.\d+'


def _load_tool():
    spec = importlib.util.spec_from_file_location('benchmark', SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_ratios_divide_medians_over_rounds(capsys):
    tool = _load_tool()

    def figures(step, clips):
        return dict(
            train=dict(step_s=dict(median=step)),
            pipeline=[dict(workers=0, clips_per_s=clips)],
        )

    ours = [figures(1.0, 30.0), figures(3.0, 10.0), figures(2.0, 20.0)]
    theirs = [figures(4.0, 10.0), figures(4.0, 10.0), figures(8.0, 5.0)]
    ratios = tool.print_ratios(ours, theirs)
    assert ratios['train s/step'] == pytest.approx(2.0 / 4.0)
    assert ratios['pipeline clips/s, 0 workers'] == pytest.approx(20.0 / 10.0)
    assert '= 0.50x' in capsys.readouterr().out


def test_benchmark_prints_every_section_on_tiny_demo(tiny_demo, capsys):
    tool = _load_tool()
    result = tool.main([str(tiny_demo['config']), '--iters', '2', '--warmup', '1'])
    out = capsys.readouterr().out
    assert re.search(
        r'cpu: .+ usable cores, torch threads \d+; flags .+; native bf16 (yes|no)', out
    )
    assert 'measuring mmaction_ft alone' in out
    assert re.search(rf'train +batch 8: step {NUMBER} s median .*2 timed.*peak RSS \d+ MiB', out)
    assert re.search(rf'test +3 views per video, batch 8: {NUMBER} s/video median', out)
    for workers in (0, 2):
        assert re.search(rf'pipeline +{workers} workers, batch 8: {NUMBER} clips/s', out)
    (ours,) = result['ours']
    assert ours['train']['step_s']['n'] == 2 and ours['train']['step_s']['median'] > 0
    assert ours['train']['peak_mib'] > 50 and ours['test']['peak_mib'] > 50
    for run in ours['pipeline']:  # 3 clips per video in the demo's train pipeline
        assert run['clips_per_s'] == pytest.approx(3 * run['videos_per_s'])
    assert result['theirs'] == [] and result['ratios'] == {}


def test_missing_peer_is_skipped(tiny_demo, capsys):
    tool = _load_tool()
    argv = [str(tiny_demo['config']), '--what', 'test', '--iters', '1', '--warmup', '0']
    result = tool.main(argv + ['--peer', '/nonexistent/venv/bin/python'])
    out = capsys.readouterr().out
    assert 'peer: /nonexistent/venv/bin/python is not an executable interpreter' in out
    assert 'MMAction2 not measured, skipped' in out and 'mmaction_ft / MMAction2' not in out
    assert result['theirs'] == [] and 'train' not in result['ours'][0]


def test_peer_script_runs_standalone(tiny_demo):
    """The temporary peer script (prologue + measuring module), run in a fresh interpreter under
    this package's scope: what --peer runs, minus MMAction2."""
    tool = _load_tool()
    args = tool.parse_args([str(tiny_demo['config']), '--what', 'test', '--iters', '1'])
    result = tool.run_peer(sys.executable, args, scope='mmaction_ft')
    assert result['test']['views_per_video'] == 3 and result['test']['video_s']['n'] == 1
    assert result['test']['video_s']['median'] > 0 and result['threads'] >= 1


def _precision_cfg(**extra):
    from mmengine.config import Config

    return Config(
        dict(
            optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
            val_cfg=dict(type='ValLoop'),
            test_cfg=dict(type='TestLoop'),
            **extra,
        )
    )


@pytest.mark.skipif(torch.cuda.is_available(), reason='checks the CPU choice')
def test_precision_follows_the_config_and_amp_adds_the_test(monkeypatch, capsys):
    tool = _load_tool()
    monkeypatch.setattr(cpu, 'has_native_bf16', lambda: True)
    cfg = _precision_cfg(precision='auto')
    tool.precision_settings(cfg, amp=False)  # what tools/train.py and tools/test.py do
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper' and 'fp16' not in cfg.test_cfg
    assert 'mmaction_ft precision: training mixed; test in float32' in capsys.readouterr().out
    cfg = _precision_cfg()
    tool.precision_settings(cfg, amp=True)
    assert cfg.optim_wrapper.type == 'AmpOptimWrapper' and cfg.test_cfg.fp16 is True
    assert 'training mixed; test under autocast, because the CPU' in capsys.readouterr().out

    monkeypatch.setattr(cpu, 'has_native_bf16', lambda: False)
    cfg = _precision_cfg(precision='auto')
    tool.precision_settings(cfg, amp=True)  # emulated bfloat16 would be slower: float32 test
    assert 'fp16' not in cfg.test_cfg
    assert 'test in float32, because this CPU has no bfloat16' in capsys.readouterr().out


def test_test_section_autocasts_with_test_cfg_fp16(tiny_demo, monkeypatch):
    """``measure_test`` runs the model as ``TestLoop(fp16=...)`` does."""
    import mmengine.runner.amp as amp

    from mmaction_ft.config import load_config
    from mmaction_ft.utils import benchmarking, register_all_modules

    seen = []
    real = amp.autocast

    def recording(*args, **kwargs):
        seen.append(kwargs.get('enabled'))
        return real(*args, **kwargs)

    monkeypatch.setattr(amp, 'autocast', recording)
    register_all_modules()
    for fp16 in (False, True):
        cfg, _ = load_config(
            str(tiny_demo['config']), {'test_cfg': dict(type='TestLoop', fp16=fp16)}
        )
        benchmarking.measure_test(cfg, iters=1, warmup=0)
        assert seen[-1] is fp16
