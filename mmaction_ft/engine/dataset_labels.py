"""The class labels of a training set, read from its annotations without loading a video.

Shared by :class:`~mmaction_ft.datasets.ClassBalancedSampler` (which samples by class) and
:class:`~mmaction_ft.engine.class_weight_hook.ClassWeightHook` (which weights the loss by class).
It lives in the engine, below ``datasets``, so the hook can use it; it only relies on the
``get_data_info(idx)['label']`` interface of mmengine's ``BaseDataset``, which
``BaseActionDataset`` and mmengine's wrappers (``ConcatDataset``, ``RepeatDataset``,
``ClassBalancedDataset``) all have. ``get_data_info`` returns the parsed annotation line, so no
video or frame is opened.
"""

from typing import Any, List, Sequence, Tuple

import numpy as np
import torch

__all__ = ['class_names', 'dataset_labels', 'label_counts']


def _describe(dataset: Any) -> str:
    ann_file = getattr(dataset, 'ann_file', None)
    return f'{type(dataset).__name__}' + (f' ({ann_file})' if ann_file else '')


def _as_classes(label: Any, idx: int, dataset: Any) -> Tuple[int, ...]:
    """The class indices of one sample's ``label``: an int, a list of ints or a one-hot."""
    if isinstance(label, (torch.Tensor, np.ndarray)):
        values = np.asarray(label.cpu() if isinstance(label, torch.Tensor) else label)
        if values.ndim == 0:
            label = int(values)
        elif values.dtype.kind == 'f':  # a [num_classes] one-hot of a multi-label sample
            return tuple(int(c) for c in np.flatnonzero(values > 0))
        else:
            label = values.tolist()
    classes = (label,) if isinstance(label, (int, np.integer)) else tuple(label)
    if not classes or any(not isinstance(c, (int, np.integer)) or c < 0 for c in classes):
        raise ValueError(
            f'sample {idx} of {_describe(dataset)} has label {label!r}; balancing by class needs '
            'every training sample labelled with class indices >= 0 (-1 marks an unlabelled '
            'test line)'
        )
    return tuple(int(c) for c in classes)


def dataset_labels(dataset: Any) -> List[Tuple[int, ...]]:
    """The class indices of every sample, in dataset order.

    Args:
        dataset: A dataset with ``get_data_info(idx)`` returning a dict with ``label``: an int
            (single-label), a list of ints or a float one-hot (multi-label).

    Returns:
        One tuple of class indices per sample (one index for a single-label sample).

    Raises:
        TypeError: The dataset has no ``get_data_info`` (a plain ``torch.utils.data.Dataset``,
            or mmengine's ``num_batch_per_epoch`` slice): its labels cannot be read without
            loading the samples.
        ValueError: A sample has no label, or a negative one; the message names the sample.
    """
    get_data_info = getattr(dataset, 'get_data_info', None)
    if not callable(get_data_info):
        raise TypeError(
            f'cannot read the labels of {_describe(dataset)} without loading its samples: it has '
            'no get_data_info(idx) (BaseActionDataset and mmengine dataset wrappers have one)'
        )
    labels = []
    for idx in range(len(dataset)):
        info = get_data_info(idx)
        if 'label' not in info:
            raise ValueError(
                f'sample {idx} of {_describe(dataset)} has no label (keys: {sorted(info)})'
            )
        labels.append(_as_classes(info['label'], idx, dataset))
    return labels


def label_counts(labels: Sequence[Tuple[int, ...]], num_classes: int) -> np.ndarray:
    """How many samples carry each class (a multi-label sample counts for each of its classes).

    Args:
        labels: What :func:`dataset_labels` returned.
        num_classes: Length of the result; every label must be below it.

    Returns:
        ``[num_classes]`` int64 counts.
    """
    flat = np.fromiter((c for classes in labels for c in classes), dtype=np.int64)
    if flat.size and flat.max() >= num_classes:
        raise ValueError(f'label {flat.max()} is out of range for num_classes={num_classes}')
    return np.bincount(flat, minlength=num_classes)


def class_names(dataset: Any, num_classes: int) -> List[str]:
    """``metainfo['classes']`` of the dataset, or ``'class <i>'`` when it names none (or not
    ``num_classes`` of them)."""
    names = list((getattr(dataset, 'metainfo', None) or {}).get('classes') or ())
    if len(names) != num_classes:
        return [f'class {i}' for i in range(num_classes)]
    return [str(name) for name in names]
