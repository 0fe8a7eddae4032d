"""``AccMetric``: top-k, mean class accuracy and mAP of a validation / test run."""

import difflib
import re
from typing import Any, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.evaluator import BaseMetric
from mmengine.structures import BaseDataElement

from mmaction_ft.evaluation.functional import (
    confusion_matrix,
    mean_average_precision,
    mean_class_accuracy,
    mmit_mean_average_precision,
    per_class_metrics,
    top_k_accuracy,
)
from mmaction_ft.registry import METRICS

# metric name -> the options it takes in ``metric_options``.
_METRICS = {
    'top_k_accuracy': ('topk',),
    'mean_class_accuracy': (),
    'mean_average_precision': (),
    'mmit_mean_average_precision': (),
}
_MULTI_LABEL = {
    'mean_average_precision': mean_average_precision,
    'mmit_mean_average_precision': mmit_mean_average_precision,
}


def _unknown(kind: str, name: str, allowed: Sequence[str]) -> ValueError:
    close = difflib.get_close_matches(name, allowed, n=1)
    hint = f" (did you mean '{close[0]}'?)" if close else ''
    return ValueError(f"AccMetric: unknown {kind} '{name}'{hint}; allowed: {', '.join(allowed)}")


@METRICS.register_module()
class AccMetric(BaseMetric):
    """Accuracy of video classification, with MMAction2 1.x names and result keys.

    Result keys (mmengine prefixes them with ``prefix``, default ``'acc'``):
    ``top{k}`` for each k of ``top_k_accuracy`` (``acc/top1``, ``acc/top5``), ``mean1`` for
    ``mean_class_accuracy`` (``acc/mean1``), ``mean_average_precision`` and
    ``mmit_mean_average_precision`` for multi-label data, and with ``per_class=True``
    ``class_<name>`` (``acc/class_walk``) for every class. See
    :mod:`mmaction_ft.evaluation.functional.accuracy` for the definitions (ties, classes absent
    from the ground truth).

    Each data sample needs ``pred_score`` (``[num_classes]``) and ``gt_label``: one class index
    (single-label), a ``[num_classes]`` float one-hot, or several class indices (multi-label).

    Args:
        metric_list: One metric name or a tuple of them, from 'top_k_accuracy',
            'mean_class_accuracy', 'mean_average_precision', 'mmit_mean_average_precision'.
        collect_device: Where results are gathered across processes, 'cpu' or 'gpu'.
        metric_options: Per-metric options; only ``top_k_accuracy=dict(topk=...)`` (an int or a
            tuple of ints, default ``(1, 5)``).
        prefix: Prefix of the result keys; None means ``'acc'``.
        per_class: Also report the accuracy of every class (single-label data): the share of
            its videos whose arg-max prediction is right, the values ``mean1`` averages. Keys
            are ``class_<name>`` with the names of the dataset's ``metainfo['classes']``
            (spaces and ``/`` become ``_``), or ``class_<index>`` without names. A class
            without validation videos has no accuracy and no key. Meant for a few classes
            (one scalar each in the log line and in TensorBoard); for many, the confusion
            matrix hook shows the same per class.
    """

    default_prefix: Optional[str] = 'acc'

    def __init__(
        self,
        metric_list: Union[str, Tuple[str, ...]] = ('top_k_accuracy', 'mean_class_accuracy'),
        collect_device: str = 'cpu',
        metric_options: Optional[Dict[str, Dict[str, Any]]] = None,
        prefix: Optional[str] = None,
        per_class: bool = False,
    ) -> None:
        super().__init__(collect_device=collect_device, prefix=prefix)
        if not isinstance(per_class, bool):
            raise TypeError(f'AccMetric: per_class must be True or False, got {per_class!r}')
        metrics = (metric_list,) if isinstance(metric_list, str) else metric_list
        if not isinstance(metrics, (tuple, list)) or not metrics:
            raise TypeError(
                f'AccMetric: metric_list must be a metric name or a tuple of them, '
                f'got {metric_list!r}'
            )
        for name in metrics:
            if name not in _METRICS:
                raise _unknown('metric', str(name), list(_METRICS))

        options = {'top_k_accuracy': {'topk': (1, 5)}}
        for name, opts in (metric_options or {}).items():
            if name not in _METRICS:
                raise _unknown('metric in metric_options', str(name), list(_METRICS))
            if not isinstance(opts, dict):
                raise TypeError(f'AccMetric: metric_options.{name} must be a dict, got {opts!r}')
            for key in opts:
                if key not in _METRICS[name]:
                    raise _unknown(f'option of {name}', str(key), list(_METRICS[name]) or ['none'])
            options.setdefault(name, {}).update(opts)
        topk = options['top_k_accuracy']['topk']
        topk = (topk,) if isinstance(topk, int) else topk
        if not (
            isinstance(topk, (tuple, list))
            and topk
            and all(isinstance(k, int) and k > 0 for k in topk)
        ):
            raise ValueError(
                f'AccMetric: topk must be a positive int or a tuple of them, got {topk!r}'
            )

        self.metrics = tuple(metrics)
        self.topk = tuple(topk)
        self.per_class = per_class

    def process(
        self, data_batch: Any, data_samples: Sequence[Union[dict, BaseDataElement]]
    ) -> None:
        """Keep the scores and label of each video as numpy.

        Args:
            data_batch: The batch from the dataloader (unused).
            data_samples: Model outputs, dicts (``ActionDataSample.to_dict()``) or data samples.
        """
        for sample in data_samples:
            if isinstance(sample, BaseDataElement):
                sample = sample.to_dict()
            pred = sample['pred_score']
            if isinstance(pred, dict):
                raise TypeError(
                    'AccMetric: pred_score must be one score vector, got a dict of '
                    f'them (keys {list(pred)})'
                )
            pred = torch.as_tensor(pred).detach().float().cpu().numpy()  # [num_classes]
            label = torch.as_tensor(sample['gt_label']).detach().cpu().reshape(-1)
            if label.numel() == 1 and not label.is_floating_point():
                label = int(label.item())
            elif label.is_floating_point():
                label = label.numpy()  # [num_classes] one-hot
            else:
                onehot = np.zeros(pred.shape[-1], dtype=np.float32)
                onehot[label.numpy()] = 1
                label = onehot
            self.results.append({'pred': pred, 'label': label})

    def compute_metrics(self, results: List[dict]) -> Dict[str, float]:
        """Compute the configured metrics over all processed videos.

        Args:
            results: What :meth:`process` stored, gathered from every process.

        Returns:
            ``{'top1': ..., 'top5': ..., 'mean1': ..., ...}`` before the prefix is added.
        """
        if not results:
            raise ValueError('AccMetric: no video was evaluated (empty results)')
        preds = np.stack([r['pred'] for r in results])  # [N, num_classes]
        labels = [r['label'] for r in results]
        single_label = all(isinstance(label, int) for label in labels)

        eval_results = {}
        for name in self.metrics:
            if name in _MULTI_LABEL:
                onehot = np.stack([self._onehot(label, preds.shape[1]) for label in labels])
                eval_results[name] = _MULTI_LABEL[name](preds, onehot)
                continue
            if not single_label:
                raise ValueError(
                    f'AccMetric: {name} needs one class per video, but the '
                    f'ground truth is multi-label; use mean_average_precision'
                )
            if name == 'top_k_accuracy':
                for k, acc in zip(self.topk, top_k_accuracy(preds, labels, self.topk)):
                    eval_results[f'top{k}'] = acc
            elif name == 'mean_class_accuracy':
                eval_results['mean1'] = mean_class_accuracy(preds, labels)
        if self.per_class:
            if not single_label:
                raise ValueError(
                    'AccMetric: per_class=True needs one class per video, but the ground truth '
                    'is multi-label'
                )
            eval_results.update(self._per_class_accuracy(preds, labels))
        return eval_results

    def _per_class_accuracy(self, preds: np.ndarray, labels: List[int]) -> Dict[str, float]:
        num_classes = preds.shape[1]
        confusion = confusion_matrix(preds.argmax(axis=1), labels, num_classes=num_classes)
        accuracy = per_class_metrics(confusion)['accuracy']
        names = self._class_keys(num_classes)
        return {
            f'class_{names[c]}': float(accuracy[c])
            for c in range(num_classes)
            if not np.isnan(accuracy[c])
        }

    def _class_keys(self, num_classes: int) -> List[str]:
        """Class names for result keys; indices when the dataset names none (or repeats one)."""
        names = list((self.dataset_meta or {}).get('classes') or ())
        keys = [re.sub(r'[\s/]+', '_', str(name)) for name in names]
        if len(keys) != num_classes or len(set(keys)) != num_classes:
            return [str(c) for c in range(num_classes)]
        return keys

    @staticmethod
    def _onehot(label: Union[int, np.ndarray], num_classes: int) -> np.ndarray:
        if isinstance(label, int):
            onehot = np.zeros(num_classes, dtype=np.float32)
            onehot[label] = 1
            return onehot
        return label
