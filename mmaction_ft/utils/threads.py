"""The items of one sample (the frame files of a clip), or the samples of a batch, on the cores
the main process leaves idle.

With ``num_workers=0`` (debugging, small datasets, prediction) the main process loads every
sample itself, one frame after another, while the other cores wait for the model. JPEG decoding
and file reads release the GIL, so the frames of a sample can be decoded side by side:
:func:`map_in_threads` runs them on a few threads, the caller's among them (no hand-over for the
first item). In a dataloader worker, where the workers already run one sample each in parallel,
:func:`sample_threads` keeps the work serial: more threads than cores only slow down.

Measured on the benchmark's TSN 1x1x3 training pipeline (3 JPEG frames of 320x240 a sample,
2-core Xeon, ``tools/analysis/benchmark.py --what pipeline``): see docs/benchmarks.md.
"""

import os
import threading
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, List, Optional, Sequence, TypeVar

from torch.utils.data import get_worker_info

T = TypeVar('T')
R = TypeVar('R')

MAX_THREADS = 4  # a clip's frames; beyond this the hand-overs cost what the cores give

_pool: Optional[ThreadPoolExecutor] = None
_pool_size = 0
_pool_lock = threading.Lock()
_local = threading.local()  # in_item: this thread runs an item of map_in_threads


def _forget_pool() -> None:
    # A forked child inherits the pool object but not its threads: it makes its own.
    global _pool, _pool_size, _pool_lock
    _pool, _pool_size, _pool_lock = None, 0, threading.Lock()


if hasattr(os, 'register_at_fork'):  # POSIX
    os.register_at_fork(after_in_child=_forget_pool)


def usable_cores() -> int:
    """The cores this process may run on (its affinity mask, else the machine's count)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def sample_threads(num_items: int, requested: Optional[int] = None) -> int:
    """Threads for ``num_items`` items of one sample: 1 inside an item of
    :func:`map_in_threads` (the cores are taken already); else ``requested`` when given
    (capped at the items); else 1 in a dataloader worker, and up to :data:`MAX_THREADS`, one
    per usable core, in any other process."""
    if getattr(_local, 'in_item', False):
        return 1
    if requested is not None:
        return max(1, min(requested, num_items))
    if get_worker_info() is not None:
        return 1
    return max(1, min(num_items, usable_cores(), MAX_THREADS))


def _helpers(count: int) -> ThreadPoolExecutor:
    """This process's helper threads, at least ``count`` of them. A smaller pool is replaced,
    not shut down: a caller may still hold it, and its idle threads end once it is collected."""
    global _pool, _pool_size
    with _pool_lock:
        if _pool is None or _pool_size < count:
            _pool = ThreadPoolExecutor(count, thread_name_prefix='mmaction_ft-sample')
            _pool_size = count
        return _pool


def map_in_threads(fn: Callable[[T], R], items: Sequence[T], threads: int) -> List[R]:
    """``[fn(item) for item in items]`` on ``threads`` threads, the caller's among them.

    Items are taken in order; after an exception no new item starts, and the exception of the
    earliest failing item is raised, as the plain loop would. ``fn`` must be thread-safe; inside
    it :func:`sample_threads` gives 1, so a sample loaded on a thread decodes its frames on
    that thread.
    """
    if threads <= 1 or len(items) <= 1:
        return [fn(item) for item in items]
    results: List[Optional[R]] = [None] * len(items)
    errors: List[Optional[BaseException]] = [None] * len(items)
    claim = threading.Lock()
    cursor = [0]  # the next item to start; len(items) stops every thread

    def work() -> None:
        outer, _local.in_item = getattr(_local, 'in_item', False), True
        try:
            while True:
                with claim:
                    index = cursor[0]
                    if index >= len(items):
                        return
                    cursor[0] = index + 1
                try:
                    results[index] = fn(items[index])
                except BaseException as err:  # noqa: BLE001 (raised again in the caller's thread)
                    errors[index] = err
                    with claim:
                        cursor[0] = len(items)
                    return
        finally:
            _local.in_item = outer

    helpers = min(threads, len(items)) - 1
    pool = _helpers(helpers)
    futures = [pool.submit(work) for _ in range(helpers)]
    work()
    for future in futures:
        if not future.cancel():  # a helper that never started (the pool was busy) is not awaited
            future.result()
    for err in errors:
        if err is not None:
            raise err
    return results  # type: ignore[return-value]
