"""Soak test: train long on demo data with bad samples; watch memory and the skip count.

Example::

    OMP_NUM_THREADS=1 python tools/analysis/soak.py --iters 2000 --work-dir work_dirs/soak

Writes the demo motion videos (:mod:`mmaction_ft.demo.data`, 8 classes), then a training list in
which ``--bad-fraction`` of the lines (5 % by default) point at bad videos, in turn: a missing
file, an empty file, garbage bytes, and an MP4 with its index in front cut in its middle frame
(see :mod:`mmaction_ft.datasets.video_io`). A small TSN (ResNet-18; the 64 px videos resized to
32 px) trains for ``--iters`` iterations with ``--workers`` dataloader workers and
``on_bad_sample='skip'``.

Every ``--interval`` iterations the resident memory (RSS) of the main process and of each worker
is sampled (psutil when installed, else ``/proc``). The verdict compares:

- memory: the growth of each process from its sample at the end of the warm-up
  (``--warmup`` iterations) to its largest later sample, against ``--max-growth-mib``;
- skips: the skips the dataset made for the samples that were trained on, against the bad
  samples drawn, counted without the dataset's error handling: the sampler's indices are replayed
  from its seed, and each replacement the dataset draws for a skipped sample is looked up in the
  list of bad lines this tool wrote.

Each worker counts its own skips (``BaseActionDataset.skipped``); every sample it returns carries
the skips made while loading it, so the main process adds up exactly the samples it consumed
(the loader prefetches batches that are never trained on).
"""

import argparse
import os
import os.path as osp
import re
import shutil
from typing import Dict, List, Optional, Sequence

import numpy as np
import torch  # noqa: F401  (before any decord import: decord2 preloads libnvblas)
from mmengine.dataset import DefaultSampler
from mmengine.hooks import Hook

from mmaction_ft.datasets.video_dataset import VideoDataset
from mmaction_ft.demo.data import make_demo_dataset
from mmaction_ft.registry import DATASETS, HOOKS

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
BAD_KINDS = ('missing', 'empty', 'garbage', 'cut_mp4')
SAMPLER_SEED = 0


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--iters', type=int, default=2000, help='training iterations')
    parser.add_argument('--workers', type=int, default=2, help='dataloader workers')
    parser.add_argument('--batch-size', type=int, default=4)
    parser.add_argument('--videos-per-class', type=int, default=20, help='8 classes of demo data')
    parser.add_argument('--bad-fraction', type=float, default=0.05, help='share of bad lines')
    parser.add_argument('--interval', type=int, default=100, help='iterations between samples')
    parser.add_argument('--warmup', type=int, help='iterations before the baseline (iters / 10)')
    parser.add_argument(
        '--max-growth-mib',
        type=float,
        default=16.0,
        help='allowed RSS growth of any process after the warm-up (docs/data_preparation.md)',
    )
    parser.add_argument('--work-dir', default='work_dirs/soak', help='data, list, logs')
    args = parser.parse_args(argv)
    if min(args.iters, args.interval, args.workers, args.batch_size, args.videos_per_class) < 1:
        parser.error(
            '--iters, --interval, --workers, --batch-size and --videos-per-class must be >= 1'
        )
    if not 0 < args.bad_fraction < 1:
        parser.error('--bad-fraction must lie in (0, 1)')
    if args.warmup is None:
        args.warmup = max(args.interval, args.iters // 10)
    return args


# ----------------------------------------------------------------------------- data
def write_cut_mp4(src: str, dst: str) -> None:
    """Remux ``src`` with its index in front (``faststart``), cut inside its middle frame.

    The header still promises every frame; only the first half is in the file, so every clip
    sampled across the video asks for a missing frame.
    """
    import av

    full = dst + '.full.mp4'
    with av.open(src) as inp, av.open(full, 'w', options={'movflags': 'faststart'}) as out:
        stream = out.add_stream_from_template(inp.streams.video[0])
        for packet in inp.demux(inp.streams.video[0]):
            if packet.dts is not None:  # the demuxer's final empty packet
                packet.stream = stream
                out.mux(packet)
    with av.open(full) as container:
        entries = container.streams.video[0].index_entries
        middle = entries[len(entries) // 2]
        cut = middle.pos + middle.size // 2
    with open(full, 'rb') as f:
        data = f.read(cut)
    os.remove(full)
    with open(dst, 'wb') as f:
        f.write(data)


def write_bad_list(data: dict, work_dir: str, bad_fraction: float, seed: int = 0) -> Dict:
    """Copy the demo training list with ``bad_fraction`` of its lines pointing at bad videos.

    Returns:
        ``ann_file``, ``prefix`` (the folder the list's paths are relative to), ``bad`` (the
        0-based line indices that are bad, with their kind) and ``num_samples``.
    """
    prefix = osp.join(work_dir, 'soak_videos')
    shutil.rmtree(prefix, ignore_errors=True)
    with open(data['train_list_videos'], encoding='utf-8') as f:
        lines = [line.split() for line in f if line.strip()]
    rng = np.random.default_rng(seed)
    num_bad = max(1, round(bad_fraction * len(lines)))
    bad_lines = sorted(int(i) for i in rng.choice(len(lines), num_bad, replace=False))
    bad = {}
    out = []
    for index, (path, label) in enumerate(lines):
        src = osp.join(data['videos_prefix'], path)
        if index in bad_lines:
            kind = BAD_KINDS[len(bad) % len(BAD_KINDS)]
            bad[index] = kind
            path = osp.join('bad', f'{kind}_{index:04d}.mp4')
            dst = osp.join(prefix, path)
            os.makedirs(osp.dirname(dst), exist_ok=True)
            if kind == 'empty':
                open(dst, 'wb').close()
            elif kind == 'garbage':
                with open(dst, 'wb') as f:
                    f.write(rng.integers(0, 256, 4096, dtype=np.uint8).tobytes())
            elif kind == 'cut_mp4':
                write_cut_mp4(src, dst)
        else:
            dst = osp.join(prefix, path)
            os.makedirs(osp.dirname(dst), exist_ok=True)
            os.symlink(src, dst)
        out.append(f'{path} {label}')
    ann_file = osp.join(work_dir, 'soak_train_list.txt')
    with open(ann_file, 'w', encoding='utf-8') as f:
        f.writelines(line + '\n' for line in out)
    return dict(ann_file=ann_file, prefix=prefix, bad=bad, num_samples=len(lines))


# ----------------------------------------------------------------------------- counting
@DATASETS.register_module(force=True)  # force: the tool may be loaded twice (tests)
class SoakVideoDataset(VideoDataset):
    """A :class:`VideoDataset` whose samples say what happened while they were loaded.

    Each returned sample's metainfo holds ``soak_idx`` (the index asked for), ``soak_skips``
    (skips the dataset made on the way) and ``soak_bad_replacements`` (replacements it drew that
    are in ``bad_indices``, the lines this tool made bad: ground truth, not the dataset's view).
    """

    def __init__(self, *args, bad_indices: Sequence[int] = (), **kwargs) -> None:
        self.bad_indices = frozenset(bad_indices)
        self._bad_replacements = 0
        super().__init__(*args, **kwargs)

    def _draw_replacement(self, error: Optional[Exception]) -> int:
        idx = super()._draw_replacement(error)
        self._bad_replacements += idx in self.bad_indices
        return idx

    def __getitem__(self, idx: int) -> dict:
        skips, replacements = self.num_skipped, self._bad_replacements
        data = super().__getitem__(idx)
        data['data_samples'].set_metainfo(
            dict(
                soak_idx=int(idx),
                soak_skips=self.num_skipped - skips,
                soak_bad_replacements=self._bad_replacements - replacements,
            )
        )
        return data


def rss_mib(pid: int) -> float:
    """Resident memory of a process in MiB."""
    try:
        import psutil

        return psutil.Process(pid).memory_info().rss / 2**20
    except ImportError:
        with open(f'/proc/{pid}/status', encoding='ascii') as f:
            return int(re.search(r'VmRSS:\s+(\d+) kB', f.read()).group(1)) / 1024


def child_pids(pid: int) -> List[int]:
    """The direct children of a process (the dataloader workers), oldest first."""
    try:
        import psutil

        return sorted(p.pid for p in psutil.Process(pid).children())
    except ImportError:
        with open(f'/proc/{pid}/task/{pid}/children', encoding='ascii') as f:
            return sorted(int(p) for p in f.read().split())


@HOOKS.register_module(force=True)
class SoakMonitorHook(Hook):
    """Sums the per-sample counts of :class:`SoakVideoDataset` and samples RSS."""

    # Before the CheckpointHook (VERY_LOW): the run's one checkpoint, saved after its last
    # iteration, is a one-off, not growth per iteration. Sampled after the save, the last row
    # of one 30-iteration CI run was 25 MiB up while the rows before it were flat.
    priority = 'LOW'

    def __init__(self, interval: int = 100) -> None:
        self.interval = interval
        self.sampled: List[int] = []
        self.skips = 0
        self.bad_replacements = 0
        self.rows: List[dict] = []

    def after_train_iter(self, runner, batch_idx: int, data_batch=None, outputs=None) -> None:
        for sample in data_batch['data_samples']:
            self.sampled.append(sample.soak_idx)
            self.skips += sample.soak_skips
            self.bad_replacements += sample.soak_bad_replacements
        done = runner.iter + 1
        if done == 1 or done % self.interval == 0 or done == runner.max_iters:
            pid = os.getpid()
            self.rows.append(
                dict(
                    iter=done,
                    main=rss_mib(pid),
                    workers=[rss_mib(child) for child in child_pids(pid)],
                    skips=self.skips,
                )
            )


def replay_sampler(dataset, batch_size: int, iters: int) -> List[int]:
    """The indices ``iters`` batches of a seeded ``DefaultSampler`` give, epoch after epoch."""
    sampler = DefaultSampler(dataset, shuffle=True, seed=SAMPLER_SEED)
    batches: List[List[int]] = []
    epoch = 0
    while len(batches) < iters:
        sampler.set_epoch(epoch)  # as mmengine's iteration-based loop does at each new epoch
        order = list(sampler)
        batches += [order[i : i + batch_size] for i in range(0, len(order), batch_size)]
        epoch += 1
    return [idx for batch in batches[:iters] for idx in batch]


# ----------------------------------------------------------------------------- the run
CONFIG = """
_base_ = [{base!r}]
train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=3),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(32, 32), keep_ratio=False),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs'),
]
train_dataloader = dict(
    batch_size={batch_size}, num_workers={workers}, persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True, seed={seed}),
    dataset=dict(type='SoakVideoDataset', ann_file={ann_file!r}, data_prefix=dict(video={prefix!r}),
                 label_map={label_map!r}, pipeline=train_pipeline, on_bad_sample='skip',
                 bad_indices={bad!r}))
val_dataloader = None
val_cfg = None
val_evaluator = None
train_cfg = dict(_delete_=True, type='IterBasedTrainLoop', max_iters={iters})
param_scheduler = []
default_hooks = dict(logger=dict(interval={interval}),
                     checkpoint=dict(interval={iters}, by_epoch=False, save_best=None))
log_processor = dict(by_epoch=False)
custom_hooks = [dict(type='SoakMonitorHook', interval={interval})]
"""


def differs(sampled: List[int], replayed: List[int]) -> str:
    """Where the indices trained on first differ from the replayed sampler's."""
    for n, (a, b) in enumerate(zip(sampled, replayed)):
        if a != b:
            return f'DIFFERS from sample {n} (trained on {a}, replay {b})'
    return f'DIFFERS in length ({len(sampled)} trained on, {len(replayed)} replayed)'


def growth(rows: List[dict], warmup: int) -> Dict[str, float]:
    """Largest RSS after the first sample at or past ``warmup`` minus that sample, per process."""
    after = [row for row in rows if row['iter'] >= warmup]
    if len(after) < 2:
        return {}
    base = after[0]
    out = {'main': max(row['main'] for row in after) - base['main']}
    for w in range(len(base['workers'])):
        later = [row['workers'][w] for row in after if len(row['workers']) > w]
        out[f'worker {w}'] = max(later) - base['workers'][w]
    return out


def main(argv: Optional[List[str]] = None) -> Dict:
    args = parse_args(argv)
    from mmaction_ft.apis.run_setup import prepare_train_cfg
    from mmaction_ft.config import load_config
    from mmaction_ft.engine.runner import ActionRunner

    work_dir = osp.abspath(args.work_dir)
    os.makedirs(work_dir, exist_ok=True)
    data = make_demo_dataset(
        osp.join(work_dir, 'data'),
        class_set='source',
        videos_per_class=args.videos_per_class,
        val_per_class=0,
        num_frames=12,
        size=64,  # decord decodes 64 px rows in batches (32 px ones are padded)
        formats=('videos',),
    )
    bad_list = write_bad_list(data, work_dir, args.bad_fraction)
    config = osp.join(work_dir, 'soak_config.py')
    with open(config, 'w', encoding='utf-8') as f:
        f.write(
            CONFIG.format(
                base=osp.join(REPO, 'configs', 'demo', 'tsn_r18_demo_pretrain.py'),
                batch_size=args.batch_size,
                workers=args.workers,
                seed=SAMPLER_SEED,
                ann_file=bad_list['ann_file'],
                prefix=bad_list['prefix'],
                label_map=data['label_map'],
                bad=sorted(bad_list['bad']),
                iters=args.iters,
                interval=args.interval,
            )
        )
    cfg, _ = load_config(config)
    prepare_train_cfg(cfg, config, work_dir=work_dir, seed=0)
    runner = ActionRunner.from_cfg(cfg)
    runner.train()
    monitor = next(h for h in runner.hooks if isinstance(h, SoakMonitorHook))

    dataset = runner.train_dataloader.dataset
    replayed = replay_sampler(dataset, args.batch_size, args.iters)
    bad = bad_list['bad']
    sampled_bad = sum(idx in bad for idx in replayed)
    drawn = sampled_bad + monitor.bad_replacements
    grown = growth(monitor.rows, args.warmup)

    print(f'soak: {args.iters} iterations, batch {args.batch_size}, {args.workers} workers')
    print(
        f'list {bad_list["ann_file"]}: {bad_list["num_samples"]} samples, {len(bad)} bad '
        f'({", ".join(f"{k} {list(bad.values()).count(k)}" for k in BAD_KINDS)})'
    )
    workers = max(len(row['workers']) for row in monitor.rows)
    header = ['iter', 'main MiB'] + [f'worker {w} MiB' for w in range(workers)] + ['skips']
    print('  '.join(f'{h:>12}' for h in header))
    for row in monitor.rows:
        cells = [f'{row["iter"]:>12}', f'{row["main"]:>12.1f}']
        cells += [f'{mib:>12.1f}' for mib in row['workers']]
        cells += [f'{"":>12}'] * (workers - len(row['workers'])) + [f'{row["skips"]:>12}']
        print('  '.join(cells))

    memory_ok = bool(grown) and max(grown.values()) <= args.max_growth_mib
    sampler_ok = monitor.sampled == replayed
    skips_ok = monitor.skips == drawn
    text = ', '.join(f'{k} {v:+.1f}' for k, v in grown.items()) or 'too few samples'
    print(
        f'memory: {"OK" if memory_ok else "FAIL"}  growth after iteration {args.warmup} (MiB): '
        f'{text}; bound {args.max_growth_mib:.0f} MiB per process'
    )
    print(
        f'skips: {"OK" if skips_ok and sampler_ok else "FAIL"}  {monitor.skips} skips, '
        f'{drawn} bad samples drawn ({sampled_bad} by the sampler, '
        f'{monitor.bad_replacements} as replacements); sampler replay '
        f'{"matches" if sampler_ok else differs(monitor.sampled, replayed)}'
    )
    return dict(
        rows=monitor.rows,
        growth=grown,
        skips=monitor.skips,
        bad_drawn=drawn,
        sampled_bad=sampled_bad,
        sampler_matches=sampler_ok,
        ok=memory_ok and skips_ok and sampler_ok,
    )


if __name__ == '__main__':
    raise SystemExit(0 if main()['ok'] else 1)
