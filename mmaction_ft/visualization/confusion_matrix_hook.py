"""The validation confusion matrix as an image in the run's visualizer (TensorBoard, files)."""

import os.path as osp
import tempfile
from typing import Optional, Sequence

import cv2
import numpy as np
import torch
from mmengine.hooks import Hook

from mmaction_ft.engine.dataset_labels import class_names
from mmaction_ft.registry import HOOKS

from .confusion_matrix import plot_confusion_matrix


@HOOKS.register_module()
class ConfusionMatrixHook(Hook):
    """Draw the row-normalised confusion matrix of each validation into the visualizer.

    The predictions of the validation loop (``pred_score`` and ``gt_label`` of its data samples)
    are collected on each process; after the epoch, the main process draws the matrix with
    :func:`~mmaction_ft.visualization.plot_confusion_matrix` and hands it to
    ``runner.visualizer.add_image('val_confusion_matrix', ...)``, so every backend of the
    visualizer gets it (TensorBoard's image tab, ``vis_image/`` of the local backend). Class names
    come from the validation dataset's ``metainfo['classes']``. Multi-label validation is skipped.

    Config::

        custom_hooks = [dict(type='ConfusionMatrixHook')]

    Args:
        interval: Draw every ``interval`` validations.
    """

    priority = 'LOW'

    def __init__(self, interval: int = 1) -> None:
        if not isinstance(interval, int) or interval < 1:
            raise ValueError(f'ConfusionMatrixHook: interval must be an int >= 1, got {interval!r}')
        self.interval = interval
        self._validations = 0
        self._scores: list = []
        self._labels: list = []

    def before_val_epoch(self, runner) -> None:
        self._scores, self._labels = [], []

    def after_val_iter(
        self, runner, batch_idx: int, data_batch=None, outputs: Optional[Sequence] = None
    ) -> None:
        for sample in outputs or ():
            label = sample.gt_label
            if not isinstance(label, torch.Tensor) or label.numel() != 1:
                continue  # multi-label: no confusion matrix
            self._scores.append(sample.pred_score.detach().float().cpu())
            self._labels.append(int(label.item()))

    def after_val_epoch(self, runner, metrics=None) -> None:
        self._validations += 1
        if self._validations % self.interval or not self._labels:
            return
        from mmengine.dist import all_gather_object, is_main_process

        gathered = all_gather_object((self._scores, self._labels))
        if not is_main_process():
            return
        scores = torch.stack([s for part, _ in gathered for s in part]).numpy()
        labels = np.array([label for _, part in gathered for label in part])
        num_classes = scores.shape[1]
        confusion = np.zeros((num_classes, num_classes), dtype=np.int64)
        np.add.at(confusion, (labels, scores.argmax(axis=1)), 1)
        names = class_names(getattr(runner.val_dataloader, 'dataset', None), num_classes)
        with tempfile.TemporaryDirectory() as tmp:
            path = plot_confusion_matrix(
                confusion,
                names,
                osp.join(tmp, 'confusion.png'),
                normalize=True,
                title=f'validation confusion matrix, epoch {runner.epoch}',
            )
            image = cv2.cvtColor(cv2.imread(path), cv2.COLOR_BGR2RGB)
        runner.visualizer.add_image('val_confusion_matrix', image, step=runner.epoch)
