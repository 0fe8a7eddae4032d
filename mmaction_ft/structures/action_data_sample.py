"""The per-sample record that travels from the pipeline through the model to the metric."""

from numbers import Number
from typing import Sequence, Union

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
