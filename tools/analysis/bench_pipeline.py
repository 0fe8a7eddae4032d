"""Measure a config's data pipeline alone (no model): clips/s and peak memory.

Example::

    python tools/analysis/bench_pipeline.py configs/demo/tsn_r18_demo_pretrain.py --workers 2

The dataloader is built from ``<split>_dataloader`` exactly as training builds it (mmengine's
``Runner.build_dataloader``, registry scope ``mmaction_ft``), then ``--num-batches`` batches
are drawn after ``--warmup`` untimed ones (worker start-up, first file opens). Peak memory is
``getrusage``'s maximum resident set size of this process and of its largest finished child
(the dataloader workers are shut down before it is read). Importing torch already runs a child
process of a few hundred MiB; a worker peak below that one cannot be told apart and is printed
as an upper bound.
"""

import argparse
import copy
import gc
import resource
import sys
import time
from typing import Any, Dict, List, Optional

import torch  # noqa: F401  (before any decord import: decord2 preloads libnvblas)
from mmengine.config import DictAction
from mmengine.runner import Runner

from mmaction_ft.config import load_config
from mmaction_ft.utils import register_all_modules


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


def clips_per_video(pipeline: List[Dict[str, Any]]) -> int:
    """``num_clips`` of the pipeline's frame sampler (1 when it has none)."""
    for step in pipeline:
        if 'num_clips' in step:
            return int(step['num_clips'])
    return 1


def draw(loader, num_batches: int) -> Dict[str, float]:
    """Draw batches (a new epoch whenever the loader runs out); count videos and seconds."""
    videos = batches = 0
    start = time.perf_counter()
    while batches < num_batches:
        for batch in loader:
            videos += len(batch['inputs'])
            batches += 1
            if batches == num_batches:
                break
    return dict(videos=videos, batches=batches, seconds=time.perf_counter() - start)


def peak_rss_mib(who: int) -> float:
    """Peak resident memory of ``resource.RUSAGE_SELF`` or of the largest finished child."""
    # Linux reports ru_maxrss in KiB, macOS in bytes.
    scale = 1 / 1024 if sys.platform != 'darwin' else 1 / 1024**2
    return resource.getrusage(who).ru_maxrss * scale


def main(argv: Optional[List[str]] = None) -> Dict[str, float]:
    args = parse_args(argv)
    cfg, _ = load_config(args.config, args.cfg_options)
    key = f'{args.split}_dataloader'
    if cfg.get(key) is None:
        raise SystemExit(f'{args.config} has no {key}')
    loader_cfg = copy.deepcopy(cfg[key])
    if args.workers is not None:
        loader_cfg['num_workers'] = args.workers
    if loader_cfg.get('num_workers', 0) == 0:
        loader_cfg['persistent_workers'] = False  # torch refuses it without workers
    register_all_modules()  # default scope 'mmaction_ft' for the dataset and transforms
    children_before = peak_rss_mib(resource.RUSAGE_CHILDREN)

    loader = Runner.build_dataloader(loader_cfg, seed=cfg.get('randomness', {}).get('seed'))
    start = time.perf_counter()
    if args.warmup:
        draw(loader, args.warmup)
    warmup_seconds = time.perf_counter() - start
    timed = draw(loader, args.num_batches)
    del loader  # shuts the workers down, so RUSAGE_CHILDREN includes them
    gc.collect()

    num_clips = clips_per_video(loader_cfg['dataset'].get('pipeline', []))
    rate = timed['videos'] / timed['seconds']
    main_peak = peak_rss_mib(resource.RUSAGE_SELF)
    worker_peak = peak_rss_mib(resource.RUSAGE_CHILDREN)
    workers = loader_cfg.get('num_workers', 0)
    bound = '' if worker_peak > children_before else '<= '  # hidden behind an earlier child
    print(
        f'{key} of {args.config}: batch_size {loader_cfg.get("batch_size")}, '
        f'{workers} workers, {num_clips} clips per video'
    )
    print(f'  warm-up     {args.warmup} batches in {warmup_seconds:.2f} s')
    print(
        f'  timed       {timed["batches"]} batches, {timed["videos"]} videos in '
        f'{timed["seconds"]:.2f} s: {rate:.1f} videos/s = {rate * num_clips:.1f} clips/s'
    )
    if workers:
        total = main_peak + workers * worker_peak
        print(
            f'  peak RSS    main {main_peak:.0f} MiB, each worker {bound}{worker_peak:.0f} MiB '
            f'(together at most {total:.0f} MiB; shared pages count in every process)'
        )
    else:
        print(f'  peak RSS    {main_peak:.0f} MiB (data loaded in the main process)')
    return dict(
        videos_per_s=rate,
        clips_per_s=rate * num_clips,
        main_peak_mib=main_peak,
        worker_peak_mib=worker_peak if workers else 0.0,
    )


if __name__ == '__main__':
    main()
