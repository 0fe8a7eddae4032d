"""The batch a dataloader hands to the model: ``action_collate``, the default collate function.

mmengine's ``pseudo_collate`` keeps ``inputs`` as a list of one tensor per video. From a
dataloader worker every tensor crosses to the main process on its own (a shared-memory segment
and a file descriptor each), which cost the main process about 0.35 ms per tensor on a 2-core
AMD EPYC: time taken from the workers on a small machine, and from the training step on a GPU.
``action_collate`` stacks the inputs of a batch into one tensor when they share shape and dtype
(written straight into shared memory in a worker, as torch's ``default_collate`` does), and the
data samples send their small tensors (labels, scores) inside the pickle
(:mod:`mmaction_ft.structures.action_data_sample`). ``ActionDataPreprocessor`` takes a tensor
or a list alike.

A dataloader config without ``collate_fn`` gets ``action_collate`` from mmaction_ft's runners
(:func:`mmaction_ft.engine.runner.with_default_collate`);
``collate_fn=dict(type='pseudo_collate')`` keeps mmengine's lists.
"""

from typing import Any, Sequence

import numpy as np
import torch
from mmengine.dataset import pseudo_collate
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS
from torch.utils.data import get_worker_info

from mmaction_ft.registry import FUNCTIONS

_NUMPY_DTYPES = (torch.uint8, torch.float32, torch.float16, torch.float64, torch.int64)


@FUNCTIONS.register_module()
def action_collate(data_batch: Sequence[Any]) -> Any:
    """``pseudo_collate``, with ``inputs`` stacked into one ``[N, ...]`` tensor when every
    sample's has the same shape and dtype (else the list stays)."""
    batch = pseudo_collate(data_batch)
    if not isinstance(batch, dict):
        return batch
    inputs = batch.get('inputs')
    if not isinstance(inputs, list) or not inputs:
        return batch
    first = inputs[0]
    if not all(
        isinstance(x, torch.Tensor) and x.shape == first.shape and x.dtype == first.dtype
        for x in inputs
    ):
        return batch
    if get_worker_info() is not None:
        # In a worker the batch goes to shared memory anyway: write it there in one pass.
        storage = first._typed_storage()._new_shared(len(inputs) * first.numel())
        out = first.new(storage).resize_(len(inputs), *first.shape)
        batch['inputs'] = torch.stack(inputs, out=out)  # [N, *sample shape]
    elif (
        first.dtype in _NUMPY_DTYPES
        and first.device.type == 'cpu'
        and not any(x.requires_grad for x in inputs)
    ):
        # In the main process (num_workers=0) numpy copies on this thread: torch.stack would
        # start OpenMP's threads, which then spin for milliseconds (libgomp) on the cores that
        # decode the next batch's frames (mmaction_ft.utils.threads), taking its speed-up.
        batch['inputs'] = torch.from_numpy(np.stack([x.numpy() for x in inputs]))
    else:
        batch['inputs'] = torch.stack(inputs)
    return batch


# mmengine's Runner looks a ``collate_fn`` type up in its root FUNCTIONS registry, without the
# config's default scope (see repeat_aug_dataset.py): register it there too.
if 'action_collate' not in MMENGINE_FUNCTIONS.module_dict:
    MMENGINE_FUNCTIONS.register_module(name='action_collate', module=action_collate)
