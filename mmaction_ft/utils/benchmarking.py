"""Seconds per training step, seconds per test video, pipeline clips/s and peak memory of a config.

Used by ``tools/analysis/benchmark.py`` and ``tools/analysis/bench_pipeline.py``. The module
imports nothing from ``mmaction_ft``: every component is built through mmengine's root
registries under a default scope, so ``benchmark.py --peer`` copies this very file into a
temporary script and runs the same measurements in an interpreter that has MMAction2 instead
(``python benchmarking.py CONFIG --scope mmaction``, one JSON line on stdout). Only the scope
differs between the two runs.

Peak memory is the resident set high-water mark of this process (``VmHWM``), reset before each
measurement where Linux allows it (``/proc/self/clear_refs``), else ``getrusage``'s peak so far.
"""

import argparse
import copy
import gc
import importlib
import json
import math
import os
import resource
import statistics
import sys
import time
from typing import Any, Dict, Iterable, List, Optional, Sequence

import torch


def clips_per_video(pipeline: Sequence[Dict[str, Any]]) -> int:
    """``num_clips`` of the pipeline's frame sampler (1 when it has none)."""
    for step in pipeline:
        if 'num_clips' in step:
            return int(step['num_clips'])
    return 1


def crops_per_clip(pipeline: Sequence[Dict[str, Any]]) -> int:
    """Crops a test pipeline takes of every clip: 3 for ``ThreeCrop``, 10 for ``TenCrop``."""
    for step in pipeline:
        if step.get('type') in ('ThreeCrop', 'TenCrop'):
            return 3 if step['type'] == 'ThreeCrop' else 10
    return 1


def draw(loader: Iterable, num_batches: int) -> Dict[str, float]:
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


def reset_peak_rss() -> bool:
    """Restart this process's resident-memory high-water mark; False where the OS cannot."""
    try:
        with open('/proc/self/clear_refs', 'w') as f:
            f.write('5')  # "5" resets VmHWM (Documentation/filesystems/proc.rst)
        return True
    except OSError:
        return False


def self_peak_rss_mib() -> float:
    """Peak resident memory of this process since the last :func:`reset_peak_rss`."""
    try:
        with open('/proc/self/status') as f:
            for line in f:
                if line.startswith('VmHWM:'):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return peak_rss_mib(resource.RUSAGE_SELF)


def spread(values: Sequence[float]) -> Dict[str, float]:
    """Median, minimum and maximum of repeated timings."""
    return dict(median=statistics.median(values), min=min(values), max=max(values), n=len(values))


def use_scope(scope: str) -> None:
    """Register every component of ``scope`` (``mmaction_ft`` or ``mmaction``) and make it the
    default scope, so mmengine's root registries build from it."""
    from mmengine.registry import init_default_scope

    importlib.import_module(f'{scope}.utils').register_all_modules(init_default_scope=False)
    init_default_scope(scope)


def loader_config(cfg, split: str, workers: Optional[int] = None) -> Dict[str, Any]:
    """A copy of ``<split>_dataloader`` with ``num_workers`` overridden when given."""
    key = f'{split}_dataloader'
    if cfg.get(key) is None:
        raise KeyError(f'the config has no {key}')
    loader_cfg = copy.deepcopy(cfg[key])
    if workers is not None:
        loader_cfg['num_workers'] = workers
    if loader_cfg.get('num_workers', 0) == 0:
        loader_cfg['persistent_workers'] = False  # torch refuses it without workers
    return loader_cfg


def _build_loader(cfg, loader_cfg: Dict[str, Any]):
    """The loader as the framework's runner builds it: mmaction_ft's ``ActionRunner`` (it gives
    a config without ``collate_fn`` its ``action_collate``), or mmengine's ``Runner`` for
    MMAction2 (this code in the peer's interpreter)."""
    from mmengine.registry import DefaultScope
    from mmengine.runner import Runner

    runner_cls = Runner
    scope = DefaultScope.get_current_instance()
    if scope is not None and scope.scope_name == 'mmaction_ft':
        from mmaction_ft.registry import RUNNERS

        runner_cls = RUNNERS.get('ActionRunner')  # a registry lookup: utils sit below engine
    return runner_cls.build_dataloader(loader_cfg, seed=cfg.get('randomness', {}).get('seed'))


def _one_epoch_loader(cfg, loader_cfg: Dict[str, Any], num_batches: int):
    """The loader of ``loader_cfg``, its dataset repeated (mmengine's ``RepeatDataset``) when
    one epoch holds fewer than ``num_batches`` batches and workers load it: a benchmark list of
    a few dozen videos would otherwise measure the refill of the workers' queues at every epoch
    boundary. Without workers a new epoch costs nothing, and the dataset is measured as it is
    (a wrapper would hide a dataset's own batch loading, ``__getitems__``)."""
    loader = _build_loader(cfg, loader_cfg)
    per_epoch = len(loader)
    if per_epoch >= num_batches or not loader_cfg.get('num_workers', 0):
        return loader
    del loader
    repeated = copy.deepcopy(loader_cfg)
    times = math.ceil(num_batches / max(per_epoch, 1))
    repeated['dataset'] = dict(type='RepeatDataset', times=times, dataset=loader_cfg['dataset'])
    return _build_loader(cfg, repeated)


def measure_pipeline(
    cfg, split: str = 'train', workers: Optional[int] = None, num_batches: int = 20, warmup: int = 2
) -> Dict[str, Any]:
    """Draw ``num_batches`` batches of ``<split>_dataloader`` after ``warmup`` untimed ones,
    all from one epoch (the steady state of the workers; see :func:`_one_epoch_loader`).

    Worker peak memory is ``getrusage``'s largest finished child: the workers are shut down
    before it is read. A child that finished earlier (importing torch runs one) hides a smaller
    worker peak; ``worker_peak_is_bound`` then says the figure is only an upper bound.
    """
    loader_cfg = loader_config(cfg, split, workers)
    children_before = peak_rss_mib(resource.RUSAGE_CHILDREN)
    reset_peak_rss()
    loader = _one_epoch_loader(cfg, loader_cfg, warmup + num_batches)
    start = time.perf_counter()
    if warmup:
        draw(loader, warmup)
    warmup_seconds = time.perf_counter() - start
    timed = draw(loader, num_batches)
    del loader  # shuts the workers down, so RUSAGE_CHILDREN includes them
    gc.collect()

    num_workers = loader_cfg.get('num_workers', 0)
    worker_peak = peak_rss_mib(resource.RUSAGE_CHILDREN) if num_workers else 0.0
    num_clips = clips_per_video(loader_cfg['dataset'].get('pipeline', []))
    videos_per_s = timed['videos'] / timed['seconds']
    return dict(
        split=split,
        batch_size=loader_cfg.get('batch_size'),
        workers=num_workers,
        clips_per_video=num_clips,
        warmup_batches=warmup,
        warmup_seconds=warmup_seconds,
        batches=timed['batches'],
        videos=timed['videos'],
        seconds=timed['seconds'],
        videos_per_s=videos_per_s,
        clips_per_s=videos_per_s * num_clips,
        main_peak_mib=self_peak_rss_mib(),
        worker_peak_mib=worker_peak,
        worker_peak_is_bound=bool(num_workers) and worker_peak <= children_before,
    )


def _next_batch(loader, batches):
    """The next batch of the iterator ``batches``; a new epoch of ``loader`` when it runs out."""
    try:
        return next(batches), batches
    except StopIteration:
        batches = iter(loader)
        return next(batches), batches


def measure_train(cfg, iters: int, warmup: int) -> Dict[str, Any]:
    """Seconds per training step (preprocessing, forward, loss, backward, optimizer step) on
    batches of the config's train dataloader; drawing the batch is timed apart."""
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import MODELS

    reset_peak_rss()
    model = MODELS.build(copy.deepcopy(cfg.model))
    model.train()
    optim_wrapper = build_optim_wrapper(model, copy.deepcopy(cfg.optim_wrapper))
    loader = _build_loader(cfg, loader_config(cfg, 'train'))
    batches = iter(loader)
    step_s, data_s = [], []
    for i in range(warmup + iters):
        start = time.perf_counter()
        data, batches = _next_batch(loader, batches)
        loaded = time.perf_counter()
        model.train_step(data, optim_wrapper)
        done = time.perf_counter()
        if i >= warmup:
            data_s.append(loaded - start)
            step_s.append(done - loaded)
    return dict(
        batch_size=len(data['inputs']),
        step_s=spread(step_s),
        data_s=spread(data_s),
        peak_mib=self_peak_rss_mib(),
    )


def measure_test(cfg, iters: int, warmup: int) -> Dict[str, Any]:
    """Seconds per video of the config's test pipeline and model, every view of a video in one
    batch as the test loop runs it (``model.test_step`` under ``torch.no_grad``, eval mode, and
    under autocast with ``test_cfg.fp16``, as mmengine's ``TestLoop``)."""
    from mmengine.registry import MODELS
    from mmengine.runner.amp import autocast

    reset_peak_rss()
    model = MODELS.build(copy.deepcopy(cfg.model))
    model.eval()
    loader_cfg = loader_config(cfg, 'test')
    loader = _build_loader(cfg, loader_cfg)
    batches = iter(loader)
    video_s, load_s = [], []
    fp16 = bool((cfg.get('test_cfg') or {}).get('fp16', False))
    with torch.no_grad():
        for i in range(warmup + iters):
            start = time.perf_counter()
            data, batches = _next_batch(loader, batches)
            loaded = time.perf_counter()
            with autocast(enabled=fp16):
                model.test_step(data)
            done = time.perf_counter()
            if i >= warmup:
                videos = len(data['inputs'])
                load_s.append((loaded - start) / videos)
                video_s.append((done - loaded) / videos)
    pipeline = loader_cfg['dataset'].get('pipeline', [])
    return dict(
        batch_size=len(data['inputs']),
        views_per_video=clips_per_video(pipeline) * crops_per_clip(pipeline),
        video_s=spread(video_s),
        data_s=spread(load_s),
        peak_mib=self_peak_rss_mib(),
    )


def runner_process_settings(cfg) -> None:
    """Set what mmengine's ``Runner.setup_env`` sets before it builds anything, from the
    config's ``env_cfg.mp_cfg``: OpenCV's thread count (0 in the runtime configs of both
    frameworks: each dataloader worker, and the main process with 0 workers, resizes on one
    thread) and the start method of worker processes."""
    from mmengine.utils.dl_utils import set_multi_processing

    set_multi_processing(**cfg.get('env_cfg', {}).get('mp_cfg', {}), distributed=False)


def measure(
    cfg, sections: Sequence[str], iters: int, warmup: int, workers: Sequence[int] = (0, 2)
) -> Dict[str, Any]:
    """Run the named sections (``train``, ``test``, ``pipeline``) under the current scope, in
    the process settings a runner makes first (:func:`runner_process_settings`)."""
    runner_process_settings(cfg)
    results: Dict[str, Any] = {}
    if 'train' in sections:
        results['train'] = measure_train(cfg, iters, warmup)
    if 'test' in sections:
        results['test'] = measure_test(cfg, iters, warmup)
    if 'pipeline' in sections:
        results['pipeline'] = [
            measure_pipeline(cfg, 'train', n, num_batches=max(iters, 2), warmup=warmup)
            for n in workers
        ]
    return results


def default_threads() -> int:
    """Torch threads for a benchmark: ``OMP_NUM_THREADS`` if set, else the usable cores."""
    if os.environ.get('OMP_NUM_THREADS'):
        return int(os.environ['OMP_NUM_THREADS'])
    return len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()


def main(argv: Optional[List[str]] = None) -> None:
    """Measure in this interpreter and print one ``BENCHMARK_JSON {...}`` line."""
    parser = argparse.ArgumentParser(description='Measure a config in this interpreter.')
    parser.add_argument('config')
    parser.add_argument('--scope', required=True, help='mmaction_ft or mmaction')
    parser.add_argument('--what', nargs='+', default=['train', 'test', 'pipeline'])
    parser.add_argument('--iters', type=int, default=3)
    parser.add_argument('--warmup', type=int, default=1)
    parser.add_argument('--workers', type=int, nargs='+', default=[0, 2])
    args = parser.parse_args(argv)
    from mmengine.config import Config

    torch.set_num_threads(default_threads())
    use_scope(args.scope)
    cfg = Config.fromfile(args.config)
    cfg.default_scope = args.scope
    results = measure(cfg, args.what, args.iters, args.warmup, args.workers)
    results['torch'] = torch.__version__
    results['threads'] = torch.get_num_threads()
    print('BENCHMARK_JSON ' + json.dumps(results))


if __name__ == '__main__':
    main()
