"""Training curves and timing from the scalar logs mmengine writes.

mmengine writes one ``<work_dir>/<timestamp>/vis_data/scalars.json`` per run, one JSON record per
line::

    {"lr": 0.01, "loss": 2.27, "time": 2.56, "data_time": 0.18, "epoch": 1, "iter": 10, "step": 10}
    {"acc/top1": 0.15, "acc/top5": 0.74, "data_time": 0.12, "time": 0.74, "step": 1}

Training records carry ``lr`` / ``loss`` and ``step`` = the global iteration; validation records
carry the metrics and ``step`` = the epoch (the iteration for iteration-based training). A run
that was resumed has one such file per start: :func:`load_training_log` reads them all, in start
order, and keeps the record of the latest start where two starts logged the same step (the
iterations a crash interrupted and the resumed run repeated), so a resumed run reads as one
continuous run. MMAction2 0.x ``*.log.json`` files count iterations per epoch and are refused
with a message saying so.
"""

import glob
import json
import os.path as osp
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence

import numpy as np

TRAIN, VAL = 'train', 'val'


@dataclass
class TrainingLog:
    """The scalar records of one training run, resumes merged.

    Attributes:
        source: What was read (a work dir, a run dir or a file).
        files: The log files, in start order.
        train: Training records, sorted by iteration; each has ``iter`` (global, 1-based).
        val: Validation records, sorted by ``step``; each has ``iter``, the last training
            iteration before it (for plotting on one axis), when known.
        by_epoch: Whether validation ``step`` counts epochs.
    """

    source: str
    files: List[str]
    train: List[dict] = field(default_factory=list)
    val: List[dict] = field(default_factory=list)
    by_epoch: bool = True

    def keys(self) -> List[str]:
        """Every numeric key of the records, training keys first."""
        seen: Dict[str, None] = {}
        for record in self.train + self.val:
            for key, value in record.items():
                if isinstance(value, (int, float)) and key not in _POSITION_KEYS:
                    seen.setdefault(key)
        return list(seen)

    def series(self, key: str):
        """``(iterations, values, mode)`` of ``key``; mode is ``'train'`` or ``'val'``."""
        for mode, records in ((TRAIN, self.train), (VAL, self.val)):
            points = [(r['iter'], r[key]) for r in records if key in r and r.get('iter')]
            if points:
                iters, values = zip(*points)
                return np.asarray(iters), np.asarray(values, dtype=float), mode
        raise KeyError(
            f'{self.source} has no {key!r} records; keys there: {", ".join(self.keys())}'
        )


_POSITION_KEYS = frozenset({'epoch', 'iter', 'step'})


def find_log_files(path: str) -> List[str]:
    """The scalar log files of a work dir, a run dir or a file, in start order.

    Raises:
        FileNotFoundError: ``path`` does not exist or holds no log; the message names it.
    """
    if osp.isfile(path):
        return [path]
    if not osp.isdir(path):
        raise FileNotFoundError(f'no such work dir or log file: {path}')
    patterns = ('vis_data/scalars.json', '*/vis_data/scalars.json')
    for pattern in patterns:
        # Run dirs are named by their start time (YYYYMMDD_HHMMSS): name order is start order.
        files = sorted(glob.glob(osp.join(path, pattern)))
        if files:
            return files
    raise FileNotFoundError(
        f'{path} holds no training log (looked for {", ".join(patterns)}; mmengine writes '
        '<work_dir>/<timestamp>/vis_data/scalars.json)'
    )


def load_training_log(path: str) -> TrainingLog:
    """Read every run of ``path`` (see the module docstring) into one :class:`TrainingLog`."""
    files = find_log_files(path)
    train: Dict[int, dict] = {}
    val: Dict[int, dict] = {}
    for file in files:  # later starts override what earlier ones logged at the same step
        for lineno, record in _read_records(file):
            if 'mode' in record or 'env_info' in record:
                raise ValueError(
                    f'{file}:{lineno}: an MMAction2 0.x log record; this tool reads the '
                    'vis_data/scalars.json files that mmengine (and mmaction_ft) write'
                )
            mode = _mode(record)
            step = record.get('step')
            if not isinstance(step, int):
                raise ValueError(f'{file}:{lineno}: a {mode} record without a step: {record}')
            (train if mode == TRAIN else val)[step] = record
    log = TrainingLog(path, files)
    log.train = [dict(r, iter=step) for step, r in sorted(train.items())]
    log.by_epoch = any('epoch' in r for r in log.train)
    last_iter_of_epoch: Dict[int, int] = {}
    for record in log.train:
        if 'epoch' in record:
            last_iter_of_epoch[record['epoch']] = record['iter']
    for step, record in sorted(val.items()):
        record = dict(record, step=step)
        record['iter'] = last_iter_of_epoch.get(step) if log.by_epoch else step
        log.val.append(record)
    return log


def _read_records(path: str):
    with open(path, encoding='utf-8') as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                yield lineno, json.loads(line)
            except json.JSONDecodeError as exc:
                if not line.endswith('\n'):
                    return  # the last line of a run killed while writing it
                raise ValueError(f'{path}:{lineno}: not a JSON record ({exc.msg})') from None


def _mode(record: dict) -> str:
    return TRAIN if 'lr' in record or 'loss' in record else VAL


def plot_curves(
    logs: Sequence[TrainingLog],
    keys: Sequence[str],
    out: str,
    title: Optional[str] = None,
    legend: Optional[Sequence[str]] = None,
) -> str:
    """One panel per key, iterations on the x axis, one line per log; written to ``out``.

    Args:
        logs: The runs to compare.
        keys: Scalar keys (``loss``, ``lr``, ``acc/top1`` ...).
        out: Image path (``.png``, ``.pdf``, ``.svg``).
        title: Figure title (default: the sources).
        legend: One label per log (default: the sources).

    Returns:
        ``out``.
    """
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    if not keys:
        raise ValueError('give at least one key to plot')
    legend = list(legend) if legend else [log.source for log in logs]
    if len(legend) != len(logs):
        raise ValueError(f'{len(legend)} legend entries for {len(logs)} logs')
    fig, axes = plt.subplots(len(keys), 1, figsize=(8, 2.6 * len(keys)), sharex=True, squeeze=False)
    for ax, key in zip(axes[:, 0], keys):
        for log, label in zip(logs, legend):
            iters, values, mode = log.series(key)
            style = dict(marker='o', markersize=3) if mode == VAL else {}
            ax.plot(iters, values, label=label, **style)
        ax.set_ylabel(key)
        ax.grid(alpha=0.3)
    axes[-1, 0].set_xlabel('iteration')
    axes[0, 0].legend(loc='best', fontsize='small')
    fig.suptitle(title or ', '.join(log.source for log in logs), fontsize='medium')
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def train_time_stats(log: TrainingLog, include_outliers: bool = False) -> Dict[str, float]:
    """Seconds per iteration over the run, as MMAction2's ``cal_train_time`` reports them.

    The first logged interval of each start (warm-up: worker start, first allocation) is left out
    unless ``include_outliers``.

    Returns:
        ``mean`` and ``std`` seconds per iteration, ``slowest_epoch`` / ``fastest_epoch`` with
        their mean times (by-epoch runs), ``iters`` (iterations covered).
    """
    records = log.train if include_outliers else _without_first_interval(log)
    times = [r['time'] for r in records if 'time' in r]
    if not times:
        raise ValueError(f'{log.source} has no training records with a time')
    stats = dict(mean=float(np.mean(times)), std=float(np.std(times)), iters=log.train[-1]['iter'])
    per_epoch: Dict[int, List[float]] = {}
    for record in records:
        if 'epoch' in record and 'time' in record:
            per_epoch.setdefault(record['epoch'], []).append(record['time'])
    if per_epoch:
        means = {epoch: float(np.mean(t)) for epoch, t in per_epoch.items()}
        slowest = max(means, key=means.__getitem__)
        fastest = min(means, key=means.__getitem__)
        stats.update(
            slowest_epoch=slowest,
            slowest_epoch_time=means[slowest],
            fastest_epoch=fastest,
            fastest_epoch_time=means[fastest],
        )
    return stats


def _without_first_interval(log: TrainingLog) -> List[dict]:
    """Training records except the first one logged by each start of the run."""
    firsts = set()
    for file in log.files:
        for _, record in _read_records(file):
            if _mode(record) == TRAIN:
                firsts.add(record.get('step'))
                break
    return [r for r in log.train if r['iter'] not in firsts]
