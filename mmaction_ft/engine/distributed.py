"""Multi-process training on machines without a GPU.

mmengine's pytorch launcher pins each process to ``cuda:LOCAL_RANK`` and wraps the model in DDP
with ``device_ids=[LOCAL_RANK]``; both fail on a CPU-only machine. ``setup_distributed`` starts a
gloo process group itself (mmengine then skips its own initialisation) and the wrapper below
drops ``device_ids`` for a model that lives on the CPU.

Two warnings that every CPU run printed once per process are avoided here: torch's deprecation
of DDP's ``broadcast_buffers`` (passed on under its new name where torch has it) and DDP's
"Grad strides do not match bucket view strides" for 1x1 kernels, whose strides differ only along
dimensions of size 1, i.e. the same memory layout (see ``_SAME_LAYOUT_STRIDES_WARNING``).
"""

import inspect
import os
import warnings
from typing import Any

import torch
import torch.distributed as dist
from mmengine.config import Config
from mmengine.model import MMDistributedDataParallel

from mmaction_ft.registry import MODEL_WRAPPERS

# DDP's warning when a gradient's strides differ from its bucket's, matched only where they
# differ along dimensions of size 1 (a [C_out, C_in, 1, 1] kernel whose gradient the CPU conv
# backward returns channels-last): the bytes are laid out the same, there is nothing to fix.
# The sizes and strides DDP appends to the message are compared by back-references.
_SAME_LAYOUT_STRIDES_WARNING = (
    r'(?s)Grad strides do not match bucket view strides\..*'
    r'\ngrad\.sizes\(\) = \[(\d+), (\d+)((?:, 1)+)\], strides\(\) = \[(\d+), 1(?:, \d+)+\]'
    r'\nbucket_view\.sizes\(\) = \[\1, \2\3\], strides\(\) = \[\4, 1\3\]'
)


def _has_forward_sync_buffers() -> bool:
    """Whether this torch's DDP takes ``forward_sync_buffers`` (and deprecates
    ``broadcast_buffers``)."""
    parameters = inspect.signature(torch.nn.parallel.DistributedDataParallel).parameters
    return 'forward_sync_buffers' in parameters


@MODEL_WRAPPERS.register_module()
class CPUDistributedDataParallel(MMDistributedDataParallel):
    """``MMDistributedDataParallel`` that accepts mmengine's ``device_ids`` for a CPU model.

    ``broadcast_buffers`` (mmengine's name) is passed as ``forward_sync_buffers`` where torch
    deprecates it. The one difference: torch then also copies rank 0's buffers to the other
    ranks when wrapping, which changes nothing for buffers that every rank initialised alike
    (BatchNorm statistics of a model built with the same seed or loaded from one checkpoint).
    """

    def __init__(self, module: torch.nn.Module, **kwargs: Any) -> None:
        if next(module.parameters()).device.type == 'cpu':
            # DDP requires device_ids=None for a CPU module (gradients all-reduced over gloo).
            kwargs.pop('device_ids', None)
            kwargs.pop('output_device', None)
            warnings.filterwarnings(
                'ignore', message=_SAME_LAYOUT_STRIDES_WARNING, category=UserWarning
            )
        if 'broadcast_buffers' in kwargs and 'forward_sync_buffers' not in kwargs:
            if _has_forward_sync_buffers():
                kwargs['forward_sync_buffers'] = kwargs.pop('broadcast_buffers')
        super().__init__(module=module, **kwargs)


def setup_distributed(cfg: Config, launcher: str) -> None:
    """Prepare ``cfg`` (and the process group) for ``launcher`` on this machine.

    With a GPU nothing changes (NCCL, mmengine's defaults). Without one, the backend becomes gloo,
    the process group is initialised here from torchrun's environment and the model wrapper is
    :class:`CPUDistributedDataParallel`.
    """
    cfg.launcher = launcher
    if launcher == 'none' or torch.cuda.is_available():
        return
    if launcher != 'pytorch':
        raise RuntimeError(
            f'--launcher {launcher} needs GPUs; on a CPU-only machine use --launcher pytorch '
            '(tools/dist_train.sh)'
        )
    cfg.setdefault('env_cfg', {}).setdefault('dist_cfg', {})['backend'] = 'gloo'
    # Scoped name: mmengine looks the wrapper type up in its root registry, not in ours.
    wrapper = dict(cfg.get('model_wrapper_cfg') or {})
    wrapper.setdefault('broadcast_buffers', False)
    wrapper['type'] = 'mmaction_ft.CPUDistributedDataParallel'
    cfg.model_wrapper_cfg = wrapper
    strategy = cfg.get('strategy')
    if strategy is not None and strategy.get('type') == 'FSDPStrategy':
        # mmengine passes device_id=LOCAL_RANK, which FSDP reads as a CUDA device; torch's
        # FSDP shards CPU parameters over gloo when told the device is the CPU.
        fsdp_wrapper = dict(strategy.get('model_wrapper') or {})
        fsdp_wrapper.setdefault('device_id', 'cpu')
        strategy.model_wrapper = fsdp_wrapper
    if not dist.is_initialized():
        dist.init_process_group(
            backend='gloo', rank=int(os.environ['RANK']), world_size=int(os.environ['WORLD_SIZE'])
        )


def release_distributed() -> None:
    """Destroy the default process group, if any, before the process exits.

    Left to interpreter shutdown, gloo's worker threads can be destroyed while still joinable,
    and the process aborts ("terminate called without an active exception", SIGABRT) after a
    run that succeeded; seen in 2-process CPU runs of tools/train.py.
    Called after a run that finished on every rank (a rank that failed would leave the others
    waiting at the barrier).
    """
    if dist.is_available() and dist.is_initialized():
        dist.barrier()  # no rank tears down while another still communicates
        dist.destroy_process_group()
