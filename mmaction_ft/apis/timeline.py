"""Recognition over time: a sliding window over a long video, as a timeline table and chart.

Each window of ``window`` seconds (every ``stride`` seconds) is treated as one video: the test
pipeline samples its clips from the window's frames only, and only the sampled frames are
decoded (a decord reader's ``read_frames``), so memory depends on the clip size, not on the
video length.
A last window is added to cover the tail when the stride does not reach the end exactly.
"""

import logging
import math
import os
import os.path as osp
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
from mmengine.logging import print_log
from torch import nn

from .checkpoint_meta import inference_settings
from .inference import build_inference_pipeline, inference_recognizer, top_classes
from .predict import write_rows

__all__ = ['plot_timeline', 'sliding_windows', 'video_timeline', 'write_timeline']

TIMELINE_FIELDS = ('start', 'end', 'top_class', 'score')


def sliding_windows(
    total_frames: int, fps: float, window: float, stride: float
) -> List[Tuple[int, int]]:
    """``(first frame, end frame)`` of every window; the last one ends at ``total_frames``.

    Args:
        total_frames: Frames in the video.
        fps: Its frame rate.
        window: Window length in seconds (a video shorter than that is one window).
        stride: Seconds between window starts.
    """
    if window <= 0 or stride <= 0:
        raise ValueError(f'window and stride must be > 0 seconds, got {window} and {stride}')
    size = max(1, round(window * fps))
    step = max(1, round(stride * fps))
    if total_frames <= size:
        return [(0, total_frames)]
    starts = list(range(0, total_frames - size + 1, step))
    if starts[-1] + size < total_frames:
        starts.append(total_frames - size)  # cover the tail
    return [(start, start + size) for start in starts]


class _WindowFrames:
    """Frames ``start .. stop - 1`` of a video reader (or an array), decoded when indexed."""

    def __init__(self, source: Any, start: int, stop: int) -> None:
        self.source, self.start, self.stop = source, start, stop

    def __len__(self) -> int:
        return self.stop - self.start

    def __getitem__(self, inds: np.ndarray) -> np.ndarray:
        inds = np.asarray(inds, dtype=np.int64) + self.start  # [K] frame numbers of the video
        if isinstance(self.source, np.ndarray):
            return self.source[inds]
        return np.stack(self.source.read_frames(inds))  # [K, H, W, 3]


def _open(video: Union[str, np.ndarray], fps: Optional[float]) -> Tuple[Any, int, float]:
    if isinstance(video, np.ndarray):
        if not fps:
            raise ValueError('a video given as an array needs its fps')
        return video, len(video), float(fps)
    from mmaction_ft.datasets.video_io import open_video

    reader = open_video(video, 'decord')
    rate = float(fps or reader.fps)
    if not math.isfinite(rate) or rate <= 0:
        raise ValueError(
            f'{video} reports a frame rate of {reader.fps!r}: windows in seconds need one; give '
            'the fps yourself (video_timeline(..., fps=N))'
        )
    return reader, len(reader), rate


def video_timeline(
    model: nn.Module,
    video: Union[str, np.ndarray],
    window: float,
    stride: float,
    topk: int = 3,
    fps: Optional[float] = None,
    progress: bool = False,
    on_window: Optional[Callable[[int, Dict[str, Any]], None]] = None,
) -> List[Dict[str, Any]]:
    """Recognise every window of a video with ``model``'s test pipeline.

    Args:
        model: A model from :func:`~mmaction_ft.apis.init_recognizer`.
        video: A video file, or ``[T, H, W, 3]`` frames (then ``fps`` is required).
        window, stride: In seconds.
        topk: Classes kept per window besides the top one.
        fps: Overrides the file's frame rate.
        progress: Draw an mmengine progress bar.
        on_window: Called as ``on_window(index, row)`` after each window (e.g. to watch memory).

    Returns:
        One dict per window: ``start``, ``end`` (seconds), ``top_class``, ``score``, ``label``
        (index) and ``topk`` (``[[name, score], ...]``).
    """
    from mmengine.utils import ProgressBar

    from mmaction_ft.registry import TRANSFORMS

    source, total_frames, fps = _open(video, fps)
    settings = inference_settings(model.cfg)
    steps = build_inference_pipeline(settings['test_pipeline'], 'array')
    transforms = [TRANSFORMS.build(step) for step in steps]
    modality = settings['dataset'].get('modality', 'RGB')
    windows = sliding_windows(total_frames, fps, window, stride)
    if len(windows) == 1 and windows[0][1] < round(window * fps):
        print_log(
            f'the video ({total_frames / fps:.2f} s) is shorter than one window ({window} s): '
            'one window over the whole video',
            logger='current',
            level=logging.WARNING,
        )
    bar = ProgressBar(len(windows)) if progress else None
    rows = []
    for start, stop in windows:
        data = dict(
            array=_WindowFrames(source, start, stop),
            total_frames=stop - start,
            start_index=0,
            modality=modality,
            label=-1,
        )
        result = inference_recognizer(model, data, test_pipeline=transforms)
        best = top_classes(model, result, topk)
        rows.append(
            dict(
                start=round(start / fps, 3),
                end=round(stop / fps, 3),
                top_class=best[0][0],
                score=round(best[0][1], 6),
                label=int(result.pred_score.argmax()),
                topk=[[name, round(score, 6)] for name, score in best],
            )
        )
        if on_window is not None:
            on_window(len(rows) - 1, rows[-1])
        if bar is not None:
            bar.update()
    if bar is not None:
        bar.file.write('\n')
    return rows


def write_timeline(rows: Sequence[Dict[str, Any]], path: str) -> str:
    """Write the timeline as ``.csv`` (start, end, top_class, score) or ``.json`` (all fields)."""
    return write_rows(
        rows, path, 'timeline', TIMELINE_FIELDS, lambda row: [row[k] for k in TIMELINE_FIELDS]
    )


def plot_timeline(rows: Sequence[Dict[str, Any]], path: str, title: str = '') -> str:
    """A PNG strip chart: the top class of each window as a coloured strip, and below it the
    score over time of every class that is on top somewhere."""
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    names = list(dict.fromkeys(row['top_class'] for row in rows))
    colours = {name: plt.get_cmap('tab10')(i % 10) for i, name in enumerate(names)}
    fig, (strip, lines) = plt.subplots(
        2, 1, sharex=True, figsize=(10, 3.5), gridspec_kw=dict(height_ratios=[1, 3])
    )
    for row in rows:
        strip.axvspan(row['start'], row['end'], color=colours[row['top_class']], lw=0)
    strip.set_yticks([])
    strip.set_title(title or 'top class per window')
    centres = [(row['start'] + row['end']) / 2 for row in rows]
    for name in names:
        scores = [dict(map(tuple, row['topk'])).get(name, 0.0) for row in rows]
        lines.plot(centres, scores, marker='.', color=colours[name], label=name)
    lines.set_xlabel('time (s)')
    lines.set_ylabel('score')
    lines.set_ylim(0, 1)
    lines.legend(loc='upper right', fontsize='small', ncol=min(len(names), 4))
    fig.tight_layout()
    os.makedirs(osp.dirname(osp.abspath(path)), exist_ok=True)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path
