import pytest
import torch
import torch.distributed as dist
from mmengine.config import Config
from torch import nn

from mmaction_ft.engine.distributed import (
    CPUDistributedDataParallel,
    release_distributed,
    setup_distributed,
)


def test_launcher_none_changes_nothing():
    cfg = Config(dict(env_cfg=dict(dist_cfg=dict(backend='nccl'))))
    setup_distributed(cfg, 'none')
    assert cfg.launcher == 'none'
    assert cfg.env_cfg.dist_cfg.backend == 'nccl'
    assert 'model_wrapper_cfg' not in cfg


@pytest.mark.skipif(torch.cuda.is_available(), reason='CPU-only behaviour')
def test_slurm_without_gpu_is_refused():
    with pytest.raises(RuntimeError, match='--launcher pytorch'):
        setup_distributed(Config(dict()), 'slurm')


def test_cpu_ddp_wrapper_accepts_mmengine_device_ids(tmp_path):
    # A one-process gloo group is enough to construct DDP.
    torch.distributed.init_process_group(
        'gloo', init_method=f'file://{tmp_path}/rendezvous', rank=0, world_size=1
    )
    try:
        wrapped = CPUDistributedDataParallel(module=nn.Linear(2, 2), device_ids=[0])
        assert wrapped.device_ids is None
        out = wrapped(torch.ones(1, 2))
        assert out.shape == (1, 2)
    finally:
        torch.distributed.destroy_process_group()


@pytest.mark.skipif(torch.cuda.is_available(), reason='CPU-only behaviour')
def test_pytorch_launcher_without_gpu_selects_gloo_and_a_wrapper_mmengine_finds(
    monkeypatch, tmp_path
):
    from mmengine.registry import MODEL_WRAPPERS

    monkeypatch.setenv('RANK', '0')
    monkeypatch.setenv('WORLD_SIZE', '1')
    monkeypatch.setenv('MASTER_ADDR', '127.0.0.1')
    monkeypatch.setenv('MASTER_PORT', '29533')
    cfg = Config(dict(env_cfg=dict(dist_cfg=dict(backend='nccl'))))
    try:
        setup_distributed(cfg, 'pytorch')
        assert torch.distributed.is_initialized()
        assert torch.distributed.get_backend() == 'gloo'
    finally:
        if torch.distributed.is_initialized():
            torch.distributed.destroy_process_group()
    assert cfg.env_cfg.dist_cfg.backend == 'gloo'
    # mmengine's Runner.wrap_model resolves the type through its root registry.
    assert MODEL_WRAPPERS.get(cfg.model_wrapper_cfg['type']) is CPUDistributedDataParallel


@pytest.mark.skipif(torch.cuda.is_available(), reason='CPU-only behaviour')
def test_cpu_wrapper_keeps_the_users_ddp_options(monkeypatch):
    monkeypatch.setattr(torch.distributed, 'is_initialized', lambda: True)
    cfg = Config(dict(model_wrapper_cfg=dict(find_unused_parameters=True)))
    setup_distributed(cfg, 'pytorch')
    assert cfg.model_wrapper_cfg == dict(
        find_unused_parameters=True,
        broadcast_buffers=False,
        type='mmaction_ft.CPUDistributedDataParallel',
    )


def test_release_destroys_the_process_group(monkeypatch):
    release_distributed()  # nothing started: nothing to do
    monkeypatch.setenv('MASTER_ADDR', '127.0.0.1')
    monkeypatch.setenv('MASTER_PORT', '29533')
    dist.init_process_group('gloo', rank=0, world_size=1)
    release_distributed()
    assert not dist.is_initialized()
