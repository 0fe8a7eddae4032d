"""``class_weight='auto'``: the classification loss weighted by inverse class frequency.

A config asks for it on the head's loss::

    model = dict(cls_head=dict(loss_cls=dict(type='CrossEntropyLoss', class_weight='auto')))

and :class:`ClassWeightHook` fills the weights in before the first training step, from the
labels of ``train_dataloader.dataset`` (read from the annotation list, no video is opened).
``ActionRunner`` registers the hook by itself when a loss asks for ``'auto'``; with mmengine's
own runners add ``custom_hooks=[dict(type='ClassWeightHook')]``.

The weights are computed again at every start, resumes included: they follow from the training
list and are not saved in checkpoints.
"""

import logging
from typing import Any, Iterator, List, Tuple

import numpy as np
from mmengine.hooks import Hook
from mmengine.logging import print_log
from mmengine.model import is_model_wrapper
from torch import nn

from mmaction_ft.registry import HOOKS

from .dataset_labels import class_names, dataset_labels, label_counts

__all__ = ['ClassWeightHook', 'auto_class_weight_losses']

# Above this many classes the log lists the rarest and the most frequent ones only.
_LIST_ALL_UP_TO = 30
_LIST_EXTREMES = 5


def auto_class_weight_losses(model: nn.Module) -> Iterator[Tuple[str, nn.Module, int]]:
    """``(name, loss, num_classes)`` of every loss of ``model`` built with ``class_weight='auto'``.

    A loss is found as the ``loss_cls`` of a module with an int ``num_classes`` (every head of
    mmaction_ft); the loss says it wants weights with ``auto_class_weight=True`` and takes them
    through ``set_class_counts(counts)`` (see ``mmaction_ft.models.losses.CrossEntropyLoss``).
    """
    model = model.module if is_model_wrapper(model) else model
    for name, module in model.named_modules():
        loss = getattr(module, 'loss_cls', None)
        num_classes = getattr(module, 'num_classes', None)
        if getattr(loss, 'auto_class_weight', False) and isinstance(num_classes, int):
            yield (f'{name}.loss_cls' if name else 'loss_cls'), loss, num_classes


def _weight_table(names: List[str], counts: np.ndarray, weights: np.ndarray) -> str:
    rows = [f'{names[c]}: n={counts[c]} w={weights[c]:.4g}' for c in range(len(names))]
    if len(rows) <= _LIST_ALL_UP_TO:
        return '; '.join(rows)
    order = np.argsort(counts, kind='stable')
    rare = '; '.join(rows[c] for c in order[:_LIST_EXTREMES])
    common = '; '.join(rows[c] for c in order[-_LIST_EXTREMES:][::-1])
    return f'rarest: {rare} ... most frequent: {common}'


@HOOKS.register_module()
class ClassWeightHook(Hook):
    """Fills every ``class_weight='auto'`` loss from the training labels before training.

    The weight of class ``c`` is ``w_c = N / (C * n_c)`` (``n_c`` its training samples, ``N``
    their sum, ``C`` the head's ``num_classes``): see
    :func:`mmaction_ft.models.losses.inverse_frequency_weights`. A class without a training
    sample gets weight 0 and a warning that names it. The weights are logged.
    """

    # Before anything that could run a training step or look at the loss.
    priority = 'VERY_HIGH'

    def before_train(self, runner: Any) -> None:
        losses = list(auto_class_weight_losses(runner.model))
        if not losses:
            return
        dataset = runner.train_dataloader.dataset
        labels = dataset_labels(dataset)
        for name, loss, num_classes in losses:
            try:
                counts = label_counts(labels, num_classes)
            except ValueError as err:
                raise ValueError(f'{name}: {err} (a label of {_source(dataset)})') from None
            weights = loss.set_class_counts(counts).numpy()
            names = class_names(dataset, num_classes)
            empty = [names[c] for c in np.flatnonzero(counts == 0)]
            if empty:
                print_log(
                    f"{name}: class_weight='auto' found no training sample of {len(empty)} "
                    f'class(es) in {_source(dataset)}: {", ".join(empty)}; their weight is 0 '
                    '(the model cannot learn them from this list)',
                    logger='current',
                    level=logging.WARNING,
                )
            print_log(
                f"{name}: class_weight='auto' from {len(labels)} training samples, "
                f'w_c = N / (C * n_c) with N={int(counts.sum())}, C={num_classes}: '
                f'{_weight_table(names, counts, weights)}',
                logger='current',
                level=logging.INFO,
            )


def _source(dataset: Any) -> str:
    ann_file = getattr(dataset, 'ann_file', None)
    return str(ann_file) if ann_file else f'the {type(dataset).__name__}'
