"""The per-sample record that travels from the pipeline through the model to the metric."""

from multiprocessing.reduction import ForkingPickler
from numbers import Number
from typing import Any, Sequence, Union

import numpy as np
import torch
from mmengine.structures import BaseDataElement

LabelLike = Union[torch.Tensor, np.ndarray, Sequence, Number]


def format_label(value: LabelLike) -> torch.Tensor:
    """Turn an int, a list of ints, an array or a tensor into a 1-D int64 tensor of labels."""
    if isinstance(value, torch.Tensor):
        return value.reshape(-1).long() if value.ndim == 0 else value.long()
    if isinstance(value, np.ndarray):
        return torch.from_numpy(value).reshape(-1).long()
    if isinstance(value, Number):
        return torch.tensor([int(value)], dtype=torch.long)
    if isinstance(value, Sequence) and not isinstance(value, str):
        return torch.tensor([int(v) for v in value], dtype=torch.long)
    raise TypeError(
        f'a label must be an int, a sequence of ints, an array or a tensor, '
        f'got {type(value).__name__}'
    )


class ActionDataSample(BaseDataElement):
    """Ground truth and predictions of one video.

    Fields:
        gt_label: ``[1]`` int64 class index, or ``[num_classes]`` float one-hot for multi-label.
        pred_score: ``[num_classes]`` float scores after test-time averaging.
        pred_label: ``[1]`` int64 arg-max of ``pred_score``.
    """

    def set_gt_label(self, value: LabelLike) -> 'ActionDataSample':
        if isinstance(value, torch.Tensor) and value.is_floating_point():
            self.set_field(value, 'gt_label', dtype=torch.Tensor)
        elif isinstance(value, np.ndarray) and value.dtype.kind == 'f':
            self.set_field(torch.from_numpy(value), 'gt_label', dtype=torch.Tensor)
        else:
            self.set_field(format_label(value), 'gt_label', dtype=torch.Tensor)
        return self

    def set_pred_score(self, value: torch.Tensor) -> 'ActionDataSample':
        self.set_field(value, 'pred_score', dtype=torch.Tensor)
        return self

    def set_pred_label(self, value: LabelLike) -> 'ActionDataSample':
        self.set_field(format_label(value), 'pred_label', dtype=torch.Tensor)
        return self


# Between dataloader workers and the main process, torch's pickler puts every tensor into its
# own shared-memory segment with a file descriptor: for a one-element label that costs the main
# process about 0.35 ms, more than the label is worth. A data sample sent that way carries its
# small CPU tensors inside the pickle instead, as numpy arrays (only this pickler: pickle.dumps,
# torch.save and deepcopy are unchanged).
_BY_VALUE_MAX_NUMEL = 4096
_NUMPY_DTYPES = frozenset(
    {
        torch.bool,
        torch.uint8,
        torch.int8,
        torch.int16,
        torch.int32,
        torch.int64,
        torch.float16,
        torch.float32,
        torch.float64,
    }
)


def _by_value(value: Any) -> bool:
    return (
        isinstance(value, torch.Tensor)
        and type(value) is torch.Tensor
        and value.device.type == 'cpu'
        and not value.requires_grad
        and value.dtype in _NUMPY_DTYPES
        and value.numel() <= _BY_VALUE_MAX_NUMEL
    )


class _TensorByValue:
    """A small tensor's values, pickled as a numpy array; a tensor again when unpickled."""

    def __init__(self, array: np.ndarray) -> None:
        self.array = array

    def __reduce__(self):
        return torch.from_numpy, (self.array,)


def _reduce_for_workers(sample: BaseDataElement):
    state = {
        key: _TensorByValue(value.numpy()) if _by_value(value) else value
        for key, value in sample.__dict__.items()
    }
    return _rebuild, (type(sample), state)


def _rebuild(cls: type, state: dict) -> BaseDataElement:
    sample = cls.__new__(cls)
    sample.__dict__.update(state)
    return sample


ForkingPickler.register(ActionDataSample, _reduce_for_workers)
