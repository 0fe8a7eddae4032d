"""Measure a config's data pipeline alone (no model): clips/s and peak memory.

Example::

    python tools/analysis/bench_pipeline.py configs/demo/tsn_r18_demo_pretrain.py --workers 2

The dataloader is built from ``<split>_dataloader`` exactly as training builds it (mmengine's
``Runner.build_dataloader``, registry scope ``mmaction_ft``), then ``--num-batches`` batches
are drawn after ``--warmup`` untimed ones (worker start-up, first file opens); the measuring code
is :func:`mmaction_ft.utils.benchmarking.measure_pipeline`, shared with ``benchmark.py``. Peak
memory is the resident high-water mark of this process from the moment the dataloader is built,
and ``getrusage``'s maximum resident set size of its largest finished child (the dataloader
workers are shut down before it is read). Importing torch already runs a child
process of a few hundred MiB; a worker peak below that one cannot be told apart and is printed
as an upper bound.
"""

import argparse
from typing import Dict, List, Optional

import torch  # noqa: F401  (before any decord import: decord2 preloads libnvblas)
from mmengine.config import DictAction

from mmaction_ft.config import load_config
from mmaction_ft.utils import register_all_modules
from mmaction_ft.utils.benchmarking import measure_pipeline, runner_process_settings


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config file')
    parser.add_argument('--split', default='train', choices=['train', 'val', 'test'])
    parser.add_argument('--workers', type=int, help="num_workers (default: the config's)")
    parser.add_argument('--num-batches', type=int, default=20, help='timed batches')
    parser.add_argument('--warmup', type=int, default=2, help='untimed batches drawn first')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        default={},
        help='override config keys, e.g. train_dataloader.batch_size=4',
    )
    args = parser.parse_args(argv)
    if args.num_batches < 1 or args.warmup < 0 or (args.workers is not None and args.workers < 0):
        parser.error('--num-batches must be >= 1, --warmup and --workers >= 0')
    return args


def main(argv: Optional[List[str]] = None) -> Dict[str, float]:
    args = parse_args(argv)
    cfg, _ = load_config(args.config, args.cfg_options)
    key = f'{args.split}_dataloader'
    if cfg.get(key) is None:
        raise SystemExit(f'{args.config} has no {key}')
    register_all_modules()  # default scope 'mmaction_ft' for the dataset and transforms
    runner_process_settings(cfg)  # OpenCV threads as in training
    result = measure_pipeline(cfg, args.split, args.workers, args.num_batches, args.warmup)
    print(
        f'{key} of {args.config}: batch_size {result["batch_size"]}, '
        f'{result["workers"]} workers, {result["clips_per_video"]} clips per video'
    )
    print(f'  warm-up     {args.warmup} batches in {result["warmup_seconds"]:.2f} s')
    print(
        f'  timed       {result["batches"]} batches, {result["videos"]} videos in '
        f'{result["seconds"]:.2f} s: {result["videos_per_s"]:.1f} videos/s = '
        f'{result["clips_per_s"]:.1f} clips/s'
    )
    main_peak, worker_peak = result['main_peak_mib'], result['worker_peak_mib']
    if result['workers']:
        bound = '<= ' if result['worker_peak_is_bound'] else ''  # hidden behind an earlier child
        total = main_peak + result['workers'] * worker_peak
        print(
            f'  peak RSS    main {main_peak:.0f} MiB, each worker {bound}{worker_peak:.0f} MiB '
            f'(together at most {total:.0f} MiB; shared pages count in every process)'
        )
    else:
        print(f'  peak RSS    {main_peak:.0f} MiB (data loaded in the main process)')
    figures = ('videos_per_s', 'clips_per_s', 'main_peak_mib', 'worker_peak_mib')
    return {name: result[name] for name in figures}


if __name__ == '__main__':
    main()
