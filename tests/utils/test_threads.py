import multiprocessing
import os
import threading
import time

import pytest
import torch

from mmaction_ft.utils import threads
from mmaction_ft.utils.threads import MAX_THREADS, map_in_threads, sample_threads


def test_map_in_threads_keeps_order_and_uses_the_threads():
    used = set()

    def slow_square(x):
        used.add(threading.get_ident())
        time.sleep(0.01)  # long enough for the helper to take items too
        return x * x

    assert map_in_threads(slow_square, list(range(8)), threads=2) == [x * x for x in range(8)]
    assert threading.get_ident() in used and len(used) == 2


def test_map_in_threads_with_one_thread_stays_in_the_callers():
    used = []
    assert map_in_threads(lambda x: used.append(threading.get_ident()) or x, [1, 2], 1) == [1, 2]
    assert set(used) == {threading.get_ident()}


def test_map_in_threads_raises_the_earliest_failure_and_starts_nothing_after_it():
    started = []

    def fn(x):
        started.append(x)
        time.sleep(0.02 if x == 1 else 0.0)
        if x in (1, 2):
            raise ValueError(f'item {x}')
        return x

    with pytest.raises(ValueError, match='item 1'):  # item 2 fails first in time
        map_in_threads(fn, list(range(20)), threads=2)
    assert len(started) < 20


def test_sample_threads_follows_the_request_the_items_and_the_cores(monkeypatch):
    monkeypatch.setattr(threads, 'usable_cores', lambda: 2)
    assert sample_threads(3) == 2
    assert sample_threads(1) == 1
    monkeypatch.setattr(threads, 'usable_cores', lambda: 64)
    assert sample_threads(25) == MAX_THREADS
    assert sample_threads(25, requested=1) == 1
    assert sample_threads(2, requested=8) == 2


class _ThreadsOfASample(torch.utils.data.Dataset):
    def __len__(self):
        return 1

    def __getitem__(self, index):
        return sample_threads(3)


def test_dataloader_workers_run_a_sample_on_one_thread(monkeypatch):
    # Workers already run in parallel, one sample each; the main process may spread a sample.
    monkeypatch.setattr(threads, 'usable_cores', lambda: 8)
    assert sample_threads(3) == 3
    loader = torch.utils.data.DataLoader(_ThreadsOfASample(), num_workers=1, batch_size=None)
    assert list(loader) == [1]


def _child_makes_its_own_helpers():
    # Exit status 0 when the inherited pool was forgotten and a new one runs work.
    fresh = threads._pool is None
    ok = threads._helpers(1).submit(lambda: 7).result() == 7
    os._exit(0 if fresh and ok else 1)


def test_a_forked_child_makes_its_own_helpers():
    threads._helpers(1)  # the parent's pool, with live threads
    child = multiprocessing.get_context('fork').Process(target=_child_makes_its_own_helpers)
    child.start()
    child.join(30)
    assert child.exitcode == 0


def test_a_bigger_pool_replaces_the_smaller_one():
    small = threads._helpers(1)
    assert threads._helpers(1) is small
    big = threads._helpers(MAX_THREADS + 1)
    assert big is not small and threads._helpers(2) is big
    assert big.submit(lambda: 3).result() == 3


def test_inside_an_item_a_sample_gets_one_thread(monkeypatch):
    """A batch's samples on threads each decode their frames on their own thread."""
    monkeypatch.setattr(threads, 'usable_cores', lambda: 4)
    seen = []

    def item(_):
        time.sleep(0.02)
        seen.append((threading.current_thread().name, sample_threads(8), sample_threads(8, 3)))

    map_in_threads(item, range(4), 2)
    assert {count for _, *counts in seen for count in counts} == {1}
    assert len({name for name, *_ in seen}) == 2  # the caller's thread and a helper
    assert sample_threads(8) == 4  # back outside
