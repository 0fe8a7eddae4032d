"""tools/analysis/analyze_logs.py on a work dir with one run."""

import importlib.util
import json
from pathlib import Path

TOOL = Path(__file__).resolve().parents[2] / 'tools' / 'analysis' / 'analyze_logs.py'


def load_tool():
    spec = importlib.util.spec_from_file_location('tool_analyze_logs', TOOL)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_plot_curve_and_cal_train_time(tmp_path, capsys):
    vis = tmp_path / 'work' / '20261206_120000' / 'vis_data'
    vis.mkdir(parents=True)
    records = [
        dict(lr=0.1, loss=3.0 - i / 2, time=0.4 + i / 10, epoch=i, iter=i, step=i)
        for i in (1, 2, 3)
    ]
    records.append({'acc/top1': 0.5, 'step': 3})
    (vis / 'scalars.json').write_text(''.join(json.dumps(r) + '\n' for r in records))
    tool = load_tool()

    out = tmp_path / 'curves.png'
    assert (
        tool.main(
            ['plot_curve', str(tmp_path / 'work'), '--keys', 'loss', 'acc/top1', '--out', str(out)]
        )
        == 0
    )
    assert out.stat().st_size > 10_000
    assert tool.main(['cal_train_time', str(tmp_path / 'work')]) == 0
    text = capsys.readouterr().out
    assert 'work: 3 iterations' in text
    assert 'average 0.6500 s/iter' in text  # iterations 2 and 3; the first interval is left out
    assert 'slowest epoch 3 (0.7000 s/iter), fastest epoch 2 (0.6000 s/iter)' in text

    assert (
        tool.main(['plot_curve', str(tmp_path / 'work'), '--keys', 'acc/top9', '--out', str(out)])
        == 2
    )
    assert "no 'acc/top9' records" in capsys.readouterr().err
