"""Per-class results of a test run: what ``tools/test.py CONFIG CKPT --out-dir DIR`` writes.

The test run dumps every prediction (``pred_score``, ``gt_label``) with mmengine's
``DumpResults`` to ``DIR/predictions.pkl`` (or to the ``--dump`` file). Gathered from every
process, the predictions come in the order of the test list, so the ``i``-th belongs to the
``i``-th video of the list, whose path is read from the test dataset built again from the config.
That is why the test sampler must not shuffle, and why every video's label is checked against
its line of the list before anything is written. Into ``DIR`` go, for single-label data::

    metrics.json                     the test metrics, num_videos, num_classes, top1 and mean1
    per_class.csv                    index,class,support,predicted,correct,accuracy,precision,recall
    confusion_matrix.csv             counts, rows true classes, columns predicted classes
    confusion_matrix.png             the counts as a heat map
    confusion_matrix_normalized.png  each row divided by its sum
    confused_pairs.csv               true,predicted,count,share: off-diagonal cells, most first
    misclassified.csv                index,path,true,predicted,predicted_score,true_score

and for multi-label data ``metrics.json`` and ``per_class_ap.csv`` (index,class,positives,ap).

The prediction of a video is its highest-scored class (``np.argmax``, the lowest index on a tie,
as ``acc/mean1`` predicts), so ``top1`` (the confusion matrix's trace over its sum) and ``mean1``
(the mean accuracy of the classes that have videos) equal ``acc/top1`` and ``acc/mean1`` except
on tied scores. Undefined values (the precision of a class never predicted) are empty cells.
"""

import copy
import json
import os
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence, Tuple

import numpy as np
import torch
from mmengine.config import Config
from mmengine.fileio import load

from mmaction_ft.evaluation.functional import (
    confusion_matrix,
    most_confused_pairs,
    per_class_average_precision,
    per_class_metrics,
)
from mmaction_ft.registry import DATASETS, building_scope
from mmaction_ft.visualization.confusion_matrix import plot_confusion_matrix

from .checkpoint_meta import checkpoint_classes
from .predict import write_rows

__all__ = ['eval_outputs_dump', 'write_eval_outputs', 'write_test_outputs']

PREDICTIONS_FILE = 'predictions.pkl'
PER_CLASS_HEADER = (
    'index',
    'class',
    'support',
    'predicted',
    'correct',
    'accuracy',
    'precision',
    'recall',
)


def eval_outputs_dump(cfg: Config, out_dir: str, dump: Optional[str] = None) -> str:
    """Where the test run must dump its predictions for :func:`write_test_outputs`.

    Checks first that the test sampler keeps the order of the list.

    Args:
        cfg: The test config.
        out_dir: The ``--out-dir`` (created here).
        dump: The ``--dump`` file, if one was asked for; it is used as it is.

    Returns:
        ``dump``, or ``out_dir/predictions.pkl``.
    """
    sampler = (cfg.get('test_dataloader') or {}).get('sampler') or {}
    # mmengine's DefaultSampler shuffles unless told not to.
    shuffles = sampler.get('shuffle', sampler.get('type') == 'DefaultSampler')
    if shuffles:
        raise ValueError(
            f'--out-dir matches predictions to the test list by position, but '
            f'test_dataloader.sampler={dict(sampler)!r} shuffles; set '
            f'test_dataloader.sampler.shuffle=False'
        )
    os.makedirs(out_dir, exist_ok=True)
    return dump or osp.join(out_dir, PREDICTIONS_FILE)


# ---------------------------------------------------------------------------------- reading
def _label(value: Any, num_classes: int) -> Any:
    """A class index (single-label) or a ``[num_classes]`` float one-hot (multi-label)."""
    label = torch.as_tensor(value).detach().cpu().reshape(-1)
    if label.numel() == 1 and not label.is_floating_point():
        return int(label.item())
    if label.is_floating_point():
        return label.numpy().astype(np.float32)
    onehot = np.zeros(num_classes, dtype=np.float32)
    onehot[label.numpy()] = 1
    return onehot


def _read_predictions(path: str) -> Tuple[np.ndarray, list, Optional[List[int]]]:
    """Scores ``[N, C]``, labels and (when the data samples carry it) ``sample_idx``."""
    rows = load(path)
    if not rows:
        raise ValueError(f'{path}: the test run dumped no prediction')
    scores = np.stack([torch.as_tensor(row['pred_score']).float().numpy() for row in rows])
    labels = [_label(row['gt_label'], scores.shape[1]) for row in rows]
    indices = [row.get('sample_idx') for row in rows]
    return scores, labels, None if None in indices else [int(i) for i in indices]


def _build_test_dataset(cfg: Config):
    dataset_cfg = copy.deepcopy(cfg.test_dataloader.dataset)
    # As the runner does: the config's scope, whatever scope an earlier runner left current.
    with building_scope(cfg.get('default_scope')):
        return DATASETS.build(dataset_cfg)


def _same_label(a: Any, b: Any) -> bool:
    if isinstance(a, int) or isinstance(b, int):
        return a == b
    return np.array_equal(np.asarray(a), np.asarray(b))


def _test_videos(
    cfg: Config, labels: list, indices: Optional[List[int]], num_classes: int
) -> Tuple[List[str], Optional[List[str]]]:
    """The path of each prediction's video and the test dataset's class names (or None)."""
    dataset = _build_test_dataset(cfg)
    ann_file = getattr(dataset, 'ann_file', 'the test list')
    if indices is None:
        if len(labels) != len(dataset):
            raise ValueError(
                f'the test run predicted {len(labels)} videos but {ann_file} '
                f'(test_dataloader.dataset) has {len(dataset)}'
            )
        indices = list(range(len(dataset)))
    paths = []
    for position, (idx, label) in enumerate(zip(indices, labels)):
        info = dataset.get_data_info(idx)
        expected = _label(info['label'], num_classes)
        if not _same_label(label, expected):
            raise ValueError(
                f'prediction {position} has label {label} but video {idx} of {ann_file} has '
                f'{expected}: the predictions are not in the order of the list (a shuffling '
                "test sampler, or on_bad_sample='skip' replacing a video that failed to load)"
            )
        paths.append(str(info.get('filename', info.get('frame_dir', f'video {idx}'))))
    classes = (getattr(dataset, 'metainfo', None) or {}).get('classes')
    return paths, [str(name) for name in classes] if classes else None


# ---------------------------------------------------------------------------------- writing
def _cell(value: Any) -> Any:
    """CSV cell: floats rounded to 6 digits, NaN (undefined) empty."""
    if isinstance(value, (float, np.floating)):
        return '' if np.isnan(value) else round(float(value), 6)
    return value.item() if isinstance(value, np.generic) else value


def _write_csv(path: str, header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    return write_rows(
        rows, path, osp.basename(path), header, lambda row: [_cell(value) for value in row]
    )


def _write_single_label(
    scores: np.ndarray,
    labels: np.ndarray,
    paths: Sequence[str],
    names: Sequence[str],
    out_dir: str,
) -> Tuple[Dict[str, Any], List[str]]:
    predicted = scores.argmax(axis=1)
    confusion = confusion_matrix(predicted, labels, num_classes=len(names))
    per_class = per_class_metrics(confusion)
    written = []

    columns = [per_class[key] for key in PER_CLASS_HEADER[2:]]
    rows = [[i, name] + [column[i] for column in columns] for i, name in enumerate(names)]
    written.append(_write_csv(osp.join(out_dir, 'per_class.csv'), PER_CLASS_HEADER, rows))

    rows = [[name] + list(counts) for name, counts in zip(names, confusion)]
    header = ['true \\ predicted'] + list(names)
    written.append(_write_csv(osp.join(out_dir, 'confusion_matrix.csv'), header, rows))
    for normalize, name in (
        (False, 'confusion_matrix.png'),
        (True, 'confusion_matrix_normalized.png'),
    ):
        written.append(
            plot_confusion_matrix(confusion, names, osp.join(out_dir, name), normalize=normalize)
        )

    rows = [
        [names[true], names[pred], count, count / per_class['support'][true]]
        for true, pred, count in most_confused_pairs(confusion)
    ]
    header = ('true', 'predicted', 'count', 'share')
    written.append(_write_csv(osp.join(out_dir, 'confused_pairs.csv'), header, rows))

    # The most confident mistakes first: those are worth a look (or a label check) first.
    wrong = np.flatnonzero(predicted != labels)
    predicted_score = scores[wrong, predicted[wrong]]
    wrong = wrong[np.argsort(-predicted_score, kind='stable')]
    rows = [
        [
            i,
            paths[i],
            names[labels[i]],
            names[predicted[i]],
            scores[i, predicted[i]],
            scores[i, labels[i]],
        ]
        for i in wrong
    ]
    header = ('index', 'path', 'true', 'predicted', 'predicted_score', 'true_score')
    written.append(_write_csv(osp.join(out_dir, 'misclassified.csv'), header, rows))

    summary = dict(
        top1=float(np.trace(confusion) / confusion.sum()),
        mean1=float(np.nanmean(per_class['accuracy'])),
        num_misclassified=int(len(wrong)),
    )
    return summary, written


def _write_multi_label(
    scores: np.ndarray, labels: np.ndarray, names: Sequence[str], out_dir: str
) -> Tuple[Dict[str, Any], List[str]]:
    aps = per_class_average_precision(scores, labels)
    positives = (labels > 0).sum(axis=0)
    rows = [[i, name, positives[i], aps[i]] for i, name in enumerate(names)]
    header = ('index', 'class', 'positives', 'ap')
    path = _write_csv(osp.join(out_dir, 'per_class_ap.csv'), header, rows)
    valid = aps[~np.isnan(aps)]
    summary = dict(mean_average_precision=float(valid.mean()) if valid.size else float('nan'))
    return summary, [path]


def write_eval_outputs(
    scores: np.ndarray,
    labels: Sequence[Any],
    paths: Sequence[str],
    out_dir: str,
    class_names: Optional[Sequence[str]] = None,
    metrics: Optional[Dict[str, Any]] = None,
) -> List[str]:
    """Write the per-class results of N predicted videos into ``out_dir`` (see the module doc).

    Args:
        scores: ``[N, C]`` class scores.
        labels: N class indices (single-label), or N ``[C]`` one-hot arrays (multi-label).
        paths: N video paths, in the order of ``scores``.
        out_dir: Where the files go (created if needed).
        class_names: C names; default ``class 0``, ``class 1`` ...
        metrics: The test run's metrics, kept in ``metrics.json`` under ``test_metrics``.

    Returns:
        The files written, ``metrics.json`` last.
    """
    scores = np.asarray(scores)
    if scores.ndim != 2 or not len(scores):
        raise ValueError(f'scores must be [num_videos, num_classes], got shape {scores.shape}')
    num_videos, num_classes = scores.shape
    if len(labels) != num_videos or len(paths) != num_videos:
        raise ValueError(
            f'{num_videos} score rows, {len(labels)} labels and {len(paths)} paths: '
            'give one of each per video'
        )
    names = [str(n) for n in class_names] if class_names else None
    names = names or [f'class {i}' for i in range(num_classes)]
    if len(names) != num_classes:
        raise ValueError(f'{len(names)} class names for {num_classes} scores per video')
    os.makedirs(out_dir, exist_ok=True)

    single_label = all(isinstance(label, (int, np.integer)) for label in labels)
    if single_label:
        labels = np.asarray(labels, dtype=np.int64)
        if labels.min() < 0 or labels.max() >= num_classes:
            raise ValueError(
                f'labels must be class indices in [0, {num_classes}), got '
                f'{labels.min()} .. {labels.max()}'
            )
        summary, written = _write_single_label(scores, labels, paths, names, out_dir)
    else:
        labels = np.stack([np.asarray(label, dtype=np.float32) for label in labels])
        summary, written = _write_multi_label(scores, labels, names, out_dir)

    test_metrics = {k: v for k, v in (metrics or {}).items() if isinstance(v, (int, float))}
    content = dict(
        num_videos=num_videos, num_classes=num_classes, **summary, test_metrics=test_metrics
    )
    path = osp.join(out_dir, 'metrics.json')
    with open(path, 'w') as f:
        json.dump(content, f, indent=1)
    return written + [path]


def write_test_outputs(
    cfg: Config,
    dump: str,
    out_dir: str,
    metrics: Optional[Dict[str, Any]] = None,
    checkpoint: Optional[str] = None,
) -> List[str]:
    """Read what a test run dumped and write its per-class results into ``out_dir``.

    Class names come from the test dataset (``label_map`` or ``metainfo.classes``), else from
    the checkpoint's meta, else they are ``class <i>``.

    Args:
        cfg: The config the test ran with.
        dump: The predictions pickle (:func:`eval_outputs_dump`).
        out_dir: Where the files go.
        metrics: The test run's metrics, kept in ``metrics.json``.
        checkpoint: The tested checkpoint, read for class names only when the dataset has none.

    Returns:
        The files written.
    """
    from mmaction_ft.engine import load_checkpoint_file

    scores, labels, indices = _read_predictions(dump)
    paths, classes = _test_videos(cfg, labels, indices, scores.shape[1])
    if classes is None and checkpoint:
        classes = checkpoint_classes(load_checkpoint_file(checkpoint, map_location='cpu'))
    if classes is not None and len(classes) != scores.shape[1]:
        raise ValueError(
            f'{len(classes)} class names (test_dataloader.dataset label_map / metainfo, or '
            f'the checkpoint) but the model scores {scores.shape[1]} classes'
        )
    return write_eval_outputs(scores, labels, paths, out_dir, classes, metrics)
