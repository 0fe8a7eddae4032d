"""One self-contained HTML page about a training run: ``tools/analysis/report.py WORK_DIR``.

Everything is read from what a run leaves in its work dir, and the page embeds its pictures, so
it can be mailed or archived as one file::

    WORK_DIR/<timestamp>/vis_data/scalars.json   curves, final and best validation, seconds/iter
    WORK_DIR/<timestamp>/<timestamp>.log         head swap and weight loading lines, environment
    WORK_DIR/<config name>.py                    the config the run used (as mmengine dumped it)
    EVAL_DIR/metrics.json, per_class.csv,        test metrics, per-class table, confusion matrix
    confusion_matrix_normalized.png              (``tools/test.py ... --out-dir EVAL_DIR``)

Sections (each an element with the id given): ``summary``, ``curves``, ``metrics``,
``per-class``, ``confusion``, ``loading``, ``environment``, ``config``. A section whose source is
missing says so instead of disappearing.
"""

import base64
import csv
import glob
import html
import json
import os.path as osp
import re
import tempfile
from typing import Dict, List, Optional, Sequence, Tuple

from mmaction_ft.visualization.training_logs import (
    TrainingLog,
    load_training_log,
    plot_curves,
    train_time_stats,
)

__all__ = ['SECTIONS', 'build_report', 'write_report']

SECTIONS = (
    ('summary', 'Run'),
    ('curves', 'Training curves'),
    ('metrics', 'Metrics'),
    ('per-class', 'Per-class results'),
    ('confusion', 'Confusion matrix'),
    ('loading', 'Weights loaded (head swap)'),
    ('environment', 'Hardware and software'),
    ('config', 'Config'),
)
# Log lines of the weight loader and the head swap (engine/weight_loading.py's report).
LOADING_LINE = re.compile(
    r're-initialised|reused \d+ of \d+ classifier rows|loaded \d+/\d+ tensors|skipped |'
    r'Load checkpoint from'
)
LOG_LINE = re.compile(r'^(\d{4}/\d{2}/\d{2} \d{2}:\d{2}:\d{2}) - \S+ - \w+ - (.*)$')
STYLE = """
body { font-family: sans-serif; margin: 2em auto; max-width: 70em; color: #222; }
h1 { font-size: 1.5em; } h2 { font-size: 1.2em; border-bottom: 1px solid #ccc; }
table { border-collapse: collapse; font-size: 0.9em; }
td, th { border: 1px solid #ddd; padding: 0.2em 0.6em; text-align: right; }
th { background: #f3f3f3; } td.name { text-align: left; }
pre { background: #f7f7f7; padding: 0.8em; overflow-x: auto; font-size: 0.8em; }
img { max-width: 100%; } .missing { color: #888; font-style: italic; }
"""


def _runs(work_dir: str) -> List[str]:
    """The run dirs (``<timestamp>/``) of a work dir, in start order."""
    return sorted(
        p
        for p in glob.glob(osp.join(work_dir, '*'))
        if re.fullmatch(r'\d{8}_\d{6}', osp.basename(p))
    )


def _log_lines(work_dir: str) -> List[str]:
    lines: List[str] = []
    for run in _runs(work_dir):
        for path in sorted(glob.glob(osp.join(run, '*.log'))):
            with open(path, encoding='utf-8', errors='replace') as f:
                lines += f.read().splitlines()
    return lines


def _environment(lines: Sequence[str]) -> str:
    """The ``System environment`` block mmengine logs, without torch's build details."""
    start = next((i for i, line in enumerate(lines) if line.startswith('System environment')), None)
    if start is None:
        return ''
    block = []
    for line in lines[start : start + 60]:
        if line.startswith('Runtime environment') or line.startswith('----'):
            break
        if line.startswith('  - Build settings') or line.startswith('PyTorch compiling details'):
            continue
        block.append(line)
    return '\n'.join(block)


def _config_text(work_dir: str) -> Tuple[Optional[str], str]:
    dumps = sorted(glob.glob(osp.join(work_dir, '*.py')))
    dumps = dumps or sorted(glob.glob(osp.join(work_dir, '*', 'vis_data', 'config.py')))
    if not dumps:
        return None, ''
    with open(dumps[-1], encoding='utf-8') as f:
        return dumps[-1], f.read()


def _image(path: str) -> str:
    with open(path, 'rb') as f:
        data = base64.b64encode(f.read()).decode('ascii')
    return f'<img alt="{html.escape(osp.basename(path))}" src="data:image/png;base64,{data}">'


def _table(header: Sequence[str], rows: Sequence[Sequence[object]], name_column: int = -1) -> str:
    head = ''.join(f'<th>{html.escape(str(h))}</th>' for h in header)
    body = []
    for row in rows:
        cells = [
            f'<td class="name">{html.escape(str(v))}</td>'
            if i == name_column
            else f'<td>{html.escape(_fmt(v))}</td>'
            for i, v in enumerate(row)
        ]
        body.append('<tr>' + ''.join(cells) + '</tr>')
    head = f'<tr>{head}</tr>' if any(header) else ''
    return f'<table>{head}{"".join(body)}</table>'


def _fmt(value: object) -> str:
    if isinstance(value, float):
        return f'{value:.4f}'
    return str(value)


def _missing(text: str) -> str:
    return f'<p class="missing">{html.escape(text)}</p>'


def _curves(log: Optional[TrainingLog]) -> str:
    if log is None:
        return _missing('no scalars.json in the work dir')
    keys = [k for k in ('loss', 'lr', 'acc/top1', 'acc/mean1') if k in log.keys()]
    with tempfile.TemporaryDirectory() as tmp:
        path = plot_curves([log], keys, osp.join(tmp, 'curves.png'), title=' ')
        return _image(path)


def _metrics(log: Optional[TrainingLog], eval_dir: Optional[str]) -> str:
    parts = []
    if log is not None and log.val:
        keys = [k for k in log.val[-1] if k.startswith('acc/') or k.startswith('mAP')]
        best = max(log.val, key=lambda r: r.get('acc/top1', float('-inf')))
        rows = [('last validation', log.val[-1]['step'])] + [(k, log.val[-1][k]) for k in keys]
        rows += [('best acc/top1 at step', best['step'])]
        rows += [(f'best {k}', best[k]) for k in keys if k in best]
        parts.append(_table(('validation', 'value'), rows, name_column=0))
    test = osp.join(eval_dir, 'metrics.json') if eval_dir else None
    if test and osp.isfile(test):
        with open(test) as f:
            metrics = json.load(f)
        rows = []
        for key, value in metrics.items():
            inner = value if isinstance(value, dict) else {key: value}
            rows += [(k, v) for k, v in inner.items() if isinstance(v, (int, float, str))]
        parts.append(_table(('test', 'value'), rows, name_column=0))
    return ''.join(parts) or _missing('no validation records and no test metrics.json')


def _per_class(eval_dir: Optional[str]) -> str:
    for name in ('per_class.csv', 'per_class_ap.csv'):
        path = osp.join(eval_dir, name) if eval_dir else None
        if path and osp.isfile(path):
            with open(path, newline='', encoding='utf-8') as f:
                rows = list(csv.reader(f))
            return _table(rows[0], rows[1:], name_column=rows[0].index('class'))
    return _missing('no per_class.csv: run tools/test.py CONFIG CKPT --out-dir EVAL_DIR')


def _confusion(eval_dir: Optional[str]) -> str:
    for name in ('confusion_matrix_normalized.png', 'confusion_matrix.png'):
        path = osp.join(eval_dir, name) if eval_dir else None
        if path and osp.isfile(path):
            return _image(path)
    return _missing('no confusion matrix: run tools/test.py CONFIG CKPT --out-dir EVAL_DIR')


def _find_eval_dir(work_dir: str) -> Optional[str]:
    found = glob.glob(osp.join(work_dir, '**', 'per_class*.csv'), recursive=True)
    return osp.dirname(max(found, key=osp.getmtime)) if found else None


def build_report(work_dir: str, eval_dir: Optional[str] = None) -> str:
    """The HTML page (see the module docstring) for ``work_dir``.

    Args:
        work_dir: The run's work dir.
        eval_dir: Where ``tools/test.py --out-dir`` wrote; None looks for a folder with a
            ``per_class.csv`` inside ``work_dir``.
    """
    if not osp.isdir(work_dir):
        raise FileNotFoundError(f'no such work dir: {work_dir}')
    eval_dir = eval_dir or _find_eval_dir(work_dir)
    try:
        log: Optional[TrainingLog] = load_training_log(work_dir)
    except FileNotFoundError:
        log = None
    lines = _log_lines(work_dir)
    stamps = [m.group(1) for m in map(LOG_LINE.match, lines) if m]
    config_path, config_text = _config_text(work_dir)

    summary: List[Tuple[str, object]] = [('work dir', osp.abspath(work_dir))]
    if config_path:
        summary.append(('config', osp.basename(config_path)))
    if stamps:
        summary += [('first log line', stamps[0]), ('last log line', stamps[-1])]
    if log is not None:
        summary.append(('starts (resumes + 1)', len(log.files)))
        summary.append(('iterations', log.train[-1]['iter'] if log.train else 0))
        if any('time' in r for r in log.train):
            stats = train_time_stats(log)
            summary.append(('seconds per iteration', f'{stats["mean"]:.3f} ± {stats["std"]:.3f}'))
    if eval_dir:
        summary.append(('test outputs', osp.abspath(eval_dir)))

    loading = [LOG_LINE.match(line).group(2) if LOG_LINE.match(line) else line for line in lines]
    loading = [line for line in loading if LOADING_LINE.search(line)]
    environment = _environment(lines)
    bodies: Dict[str, str] = {
        'summary': _table(('', ''), summary, name_column=0),
        'curves': _curves(log),
        'metrics': _metrics(log, eval_dir),
        'per-class': _per_class(eval_dir),
        'confusion': _confusion(eval_dir),
        'loading': f'<pre>{html.escape(chr(10).join(loading))}</pre>'
        if loading
        else _missing('no weight loading in the log (trained from scratch?)'),
        'environment': f'<pre>{html.escape(environment)}</pre>'
        if environment
        else _missing('no environment block in the log'),
        'config': f'<pre>{html.escape(config_text)}</pre>'
        if config_text
        else _missing('no config dump in the work dir'),
    }
    title = f'Training report: {osp.basename(osp.abspath(work_dir))}'
    sections = ''.join(
        f'<section id="{key}"><h2>{html.escape(heading)}</h2>{bodies[key]}</section>'
        for key, heading in SECTIONS
    )
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f'<title>{html.escape(title)}</title><style>{STYLE}</style></head>'
        f'<body><h1>{html.escape(title)}</h1>{sections}</body></html>\n'
    )


def write_report(work_dir: str, out: str, eval_dir: Optional[str] = None) -> str:
    """Write :func:`build_report`'s page to ``out``; returns ``out``."""
    page = build_report(work_dir, eval_dir)
    with open(out, 'w', encoding='utf-8') as f:
        f.write(page)
    return out
