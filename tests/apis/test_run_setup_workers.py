"""Dataloader worker counts are capped at the CPU cores this process may use."""

import os

from mmengine.config import Config

from mmaction_ft.apis import run_setup
from mmaction_ft.apis.run_setup import available_cpu_cores, prepare_test_cfg, prepare_train_cfg


def _loader(num_workers: int, persistent: bool = True) -> dict:
    return dict(batch_size=2, num_workers=num_workers, persistent_workers=persistent)


def _logged(monkeypatch) -> list:
    lines = []
    monkeypatch.setattr(run_setup, 'print_log', lambda msg, **kwargs: lines.append(msg))
    return lines


def test_available_cores_follow_the_affinity_mask():
    expected = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()
    assert available_cpu_cores() == expected


def test_train_and_val_workers_above_the_cores_are_capped_with_one_line_each(monkeypatch):
    monkeypatch.setattr(run_setup, 'available_cpu_cores', lambda: 2)
    lines = _logged(monkeypatch)
    cfg = Config(
        dict(train_dataloader=_loader(8), val_dataloader=_loader(2), test_dataloader=_loader(8))
    )
    prepare_train_cfg(cfg, 'configs/x.py', work_dir='w')
    assert cfg.train_dataloader.num_workers == 2
    assert cfg.train_dataloader.persistent_workers is True
    assert cfg.val_dataloader.num_workers == 2
    assert cfg.test_dataloader.num_workers == 8  # training builds no test loader
    assert lines == [
        'train_dataloader.num_workers=8 is more than the 2 CPU cores this process can use: using 2'
    ]

    cfg = Config(dict(test_dataloader=_loader(4)))
    prepare_test_cfg(cfg, 'configs/x.py', work_dir='w')
    assert cfg.test_dataloader.num_workers == 2
    assert lines[-1].startswith('test_dataloader.num_workers=4 is more than the 2 CPU cores')


def test_persistent_workers_without_workers_become_false(monkeypatch):
    lines = _logged(monkeypatch)
    cfg = Config(dict(train_dataloader=_loader(0)))
    prepare_train_cfg(cfg, 'configs/x.py', work_dir='w')
    assert cfg.train_dataloader.persistent_workers is False
    assert cfg.train_dataloader.num_workers == 0
    assert lines == [
        'train_dataloader.persistent_workers=True has no worker to keep with num_workers=0: '
        'using persistent_workers=False'
    ]
