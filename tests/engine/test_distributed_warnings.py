"""CPU DDP runs do not print warnings that say nothing to the user (and keep the ones that do)."""

import inspect
import warnings

import pytest
import torch
from torch import nn

from mmaction_ft.engine.distributed import CPUDistributedDataParallel

# DDP's warning, as torch words it, for a 1x1 kernel whose gradient came back channels-last.
SAME_LAYOUT = (
    'Grad strides do not match bucket view strides. This may indicate grad was not created '
    "according to the gradient layout contract, or that the param's strides changed since DDP "
    'was constructed.  This is not an error, but may impair performance.\n'
    'grad.sizes() = [512, 256, 1, 1], strides() = [256, 1, 256, 256]\n'
    'bucket_view.sizes() = [512, 256, 1, 1], strides() = [256, 1, 1, 1] (Triggered internally '
    'at /torch/csrc/distributed/c10d/reducer.cpp:335.)'
)
# A 3x3 kernel in another memory layout: a real performance problem, still reported.
OTHER_LAYOUT = SAME_LAYOUT.replace('[512, 256, 1, 1]', '[512, 256, 3, 3]').replace(
    '[256, 1, 256, 256]', '[2304, 1, 768, 256]'
)
DDP_PARAMETERS = inspect.signature(nn.parallel.DistributedDataParallel).parameters


@pytest.fixture
def gloo(tmp_path):
    torch.distributed.init_process_group(
        'gloo', init_method=f'file://{tmp_path}/rendezvous', rank=0, world_size=1
    )
    yield
    torch.distributed.destroy_process_group()


def test_cpu_wrapper_warns_neither_about_broadcast_buffers_nor_same_layout_strides(gloo):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        wrapped = CPUDistributedDataParallel(
            module=nn.Linear(2, 2), device_ids=[0], broadcast_buffers=False
        )
        warnings.warn(SAME_LAYOUT, UserWarning, stacklevel=1)
        warnings.warn(OTHER_LAYOUT, UserWarning, stacklevel=1)
    messages = [str(w.message) for w in caught]
    assert messages == [OTHER_LAYOUT]
    # forward_sync_buffers: torch's new name for mmengine's broadcast_buffers.
    if 'forward_sync_buffers' in DDP_PARAMETERS:
        assert wrapped.forward_sync_buffers is False
    else:
        assert wrapped.broadcast_buffers is False
