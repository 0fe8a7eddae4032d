"""Predictions for many videos: what ``tools/predict.py`` reads, runs and writes.

Inputs are one video file, one frame folder, a folder of videos (searched recursively), or an
MMAction2 annotation list, whose lines start with the path::

    <path> <label>                        video lists
    <frame_dir> <total_frames> <label>    frame-folder lists

Integer fields at the end of a line are dropped, so the path may contain spaces. A video that
fails (missing, undecodable) is reported and skipped; the others are still predicted.
"""

import csv
import json
import os
import os.path as osp
import re
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

from torch import nn

from mmaction_ft.datasets.annotation import read_lines

from .inference import VIDEO_EXTENSIONS, detect_frame_template, inference_recognizer, top_classes

# Whitespace-separated integer fields at the end of a list line.
_TRAILING_INTS = re.compile(r'(\s+-?\d+)+$')

__all__ = ['collect_inputs', 'format_table', 'predict_videos', 'write_predictions']


def _is_frame_folder(path: str) -> bool:
    try:
        detect_frame_template(path)
    except (FileNotFoundError, ValueError):
        return False
    return True


def _list_paths(list_file: str, data_prefix: Optional[str]) -> List[str]:
    paths = []
    for _, line in read_lines(list_file, what='annotation list'):
        path = _TRAILING_INTS.sub('', line)  # labels, total_frames, offset
        paths.append(osp.join(data_prefix, path) if data_prefix else path)
    return paths


def collect_inputs(target: str, data_prefix: Optional[str] = None) -> List[str]:
    """The videos (files or frame folders) that ``target`` names, in a stable order.

    Args:
        target: A video file, a frame folder, a folder of videos or an annotation list (any
            other file: a text file whose lines start with a path).
        data_prefix: Joined in front of the paths of an annotation list.

    Raises:
        FileNotFoundError: ``target`` does not exist, or a folder holds no video.
    """
    if osp.isdir(target):
        if _is_frame_folder(target):
            return [target]
        videos = sorted(
            osp.join(root, name)
            for root, _, names in os.walk(target)
            for name in names
            if name.lower().endswith(VIDEO_EXTENSIONS)
        )
        if not videos:
            raise FileNotFoundError(
                f'no video ({", ".join(VIDEO_EXTENSIONS)}) and no numbered frames in '
                f'{osp.abspath(target)}'
            )
        return videos
    if not osp.isfile(target):
        raise FileNotFoundError(f'no such video, folder or list: {osp.abspath(target)}')
    if target.lower().endswith(VIDEO_EXTENSIONS):
        return [target]
    return _list_paths(target, data_prefix)


def predict_videos(
    model: nn.Module, paths: Sequence[str], topk: int = 5, progress: bool = True
) -> Tuple[List[Dict[str, Any]], List[Tuple[str, str]]]:
    """Predict every path with :func:`inference_recognizer`.

    Returns:
        ``rows``: one dict per predicted video, with ``path``, ``topk`` (``[[name, score],
        ...]``) and ``note`` (a short-video note, or ``''``); ``failures``: ``(path, error)`` of
        the videos that could not be read, in order.
    """
    from mmengine.utils import ProgressBar

    bar = ProgressBar(len(paths)) if progress and paths else None
    rows, failures = [], []
    for path in paths:
        try:
            result = inference_recognizer(model, path)
        except (OSError, ValueError, IndexError) as err:
            # Missing, unreadable or undecodable input (DecodeError is a ValueError). Anything
            # else (a model / pipeline mismatch) would fail every video: it is raised.
            failures.append((path, f'{type(err).__name__}: {err}'))
        else:
            rows.append(
                dict(
                    path=path,
                    topk=[
                        [name, round(score, 6)] for name, score in top_classes(model, result, topk)
                    ],
                    note=result.metainfo.get('short_video', ''),
                )
            )
        if bar is not None:
            bar.update()
    if bar is not None:
        bar.file.write('\n')
    return rows, failures


def write_rows(
    rows: Sequence[Dict[str, Any]],
    path: str,
    what: str,
    header: Sequence[str],
    cells: Callable[[Dict[str, Any]], Sequence[Any]],
) -> str:
    """Write ``rows`` as ``.json`` (as they are) or ``.csv`` (``header``, then ``cells(row)``
    per row); ``what`` names the output in the error for another extension."""
    if not path.endswith(('.json', '.csv')):
        raise ValueError(f'{what} output must end in .csv or .json, got {path!r}')
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    with open(path, 'w', newline='') as f:
        if path.endswith('.json'):
            json.dump(list(rows), f, indent=1)
        else:
            writer = csv.writer(f)
            writer.writerow(header)
            writer.writerows(cells(row) for row in rows)
    return path


def write_predictions(rows: Sequence[Dict[str, Any]], path: str) -> str:
    """Write ``.csv`` (path, class_1, score_1, ..., note) or ``.json`` (the rows as they are)."""
    k = max((len(row['topk']) for row in rows), default=0)
    header = ['path'] + [f'{field}_{i}' for i in range(1, k + 1) for field in ('class', 'score')]

    def cells(row: Dict[str, Any]) -> List[Any]:
        scores = [cell for name, score in row['topk'] for cell in (name, score)]
        return [row['path']] + scores + [''] * (2 * k - len(scores)) + [row['note']]

    return write_rows(rows, path, 'predictions', header + ['note'], cells)


def format_table(rows: Sequence[Dict[str, Any]], shown: int = 3) -> str:
    """A short text table: the video's name and its ``shown`` best classes with scores."""
    if not rows:
        return '(no predictions)'
    names = [osp.basename(osp.normpath(row['path'])) for row in rows]
    width = min(max(len(name) for name in names), 48)
    lines = [f'{"video":<{width}}  top classes']
    for name, row in zip(names, rows):
        best = ', '.join(f'{cls} {score:.3f}' for cls, score in row['topk'][:shown])
        note = '  (short video: padded)' if row['note'] else ''
        lines.append(f'{name:<{width}}  {best}{note}')
    return '\n'.join(lines)
