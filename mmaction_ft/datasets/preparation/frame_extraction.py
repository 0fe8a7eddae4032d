"""Extract the frames of videos into ``img_00001.jpg`` folders for RawframeDataset.

Layout produced (``src_dir`` and ``out_dir`` mirror each other, one folder per video)::

    videos/ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi
    rawframes/ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01/img_00001.jpg ... img_00121.jpg
    rawframes/frame_counts.txt          one "<frame_dir> <num_frames>" line per finished video

Frame indices are 1-based because RawframeDataset's ``start_index`` defaults to 1.
``frame_counts.txt`` doubles as the journal that makes extraction resumable: the main
process appends a line as soon as a video is finished, so a video listed there whose folder
still holds exactly that many frames is skipped by the next run; anything else is redone.
"""

import multiprocessing
import os
import os.path as osp
import re
import string
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Sequence, Tuple

import cv2
import mmcv

from ..video_io import BACKENDS, check_video_file, iter_video_frames

VIDEO_EXTS = ('.avi', '.mp4', '.webm', '.mkv', '.mov', '.flv', '.mpg', '.mpeg', '.m4v')
FRAME_COUNTS_FILE = 'frame_counts.txt'


def template_regex(filename_tmpl: str) -> re.Pattern:
    """Compile a regex matching the file names produced by ``filename_tmpl``.

    Args:
        filename_tmpl: A ``str.format`` template with one integer field,
            e.g. ``'img_{:05d}.jpg'`` or ``'{:05}.jpg'``.

    Returns:
        A pattern whose group 1 is the frame index.
    """
    parts = []
    num_fields = 0
    for literal, field_name, _, _ in string.Formatter().parse(filename_tmpl):
        parts.append(re.escape(literal))
        if field_name is not None:
            num_fields += 1
            parts.append(r'(\d+)')
    if num_fields != 1:
        raise ValueError(
            f'filename_tmpl {filename_tmpl!r} must have exactly one index field, '
            f'e.g. "img_{{:05d}}.jpg"'
        )
    return re.compile(''.join(parts) + r'\Z')


def count_frames(frame_dir: str, filename_tmpl: str = 'img_{:05d}.jpg') -> int:
    """Count the files in ``frame_dir`` named like ``filename_tmpl`` (0 if it is missing)."""
    if not osp.isdir(frame_dir):
        return 0
    pattern = template_regex(filename_tmpl)
    return sum(1 for name in os.listdir(frame_dir) if pattern.match(name))


def read_frame_counts(path: str) -> Dict[str, int]:
    """Read a ``frame_counts.txt`` file: one ``<frame_dir> <num_frames>`` line per video.

    Later lines win, so an appended journal reads as its latest state.
    """
    counts: Dict[str, int] = {}
    with open(path, encoding='utf-8') as f:
        for line_no, line in enumerate(f, 1):
            if not line.strip():
                continue
            parts = line.rstrip('\n').rsplit(maxsplit=1)
            if len(parts) != 2 or not parts[1].isdigit():
                raise ValueError(
                    f'{path}:{line_no}: expected "<frame_dir> <num_frames>", got {line!r}'
                )
            counts[parts[0]] = int(parts[1])
    return counts


def write_frame_counts(path: str, counts: Dict[str, int]) -> None:
    """Write ``counts`` as a sorted ``frame_counts.txt`` file."""
    with open(path, 'w', encoding='utf-8') as f:
        for frame_dir in sorted(counts):
            f.write(f'{frame_dir} {counts[frame_dir]}\n')


def find_videos(src_dir: str, exts: Sequence[str] = VIDEO_EXTS) -> List[str]:
    """List the videos under ``src_dir`` (any depth) as sorted ``/``-separated relative paths."""
    exts = tuple(e.lower() for e in exts)
    videos = []
    for root, dirs, files in os.walk(src_dir):
        dirs.sort()
        for name in files:
            if name.lower().endswith(exts):
                rel = osp.relpath(osp.join(root, name), src_dir)
                videos.append(rel.replace(os.sep, '/'))
    return sorted(videos)


def output_size(
    height: int,
    width: int,
    short_side: Optional[int] = None,
    size: Optional[Tuple[int, int]] = None,
) -> Tuple[int, int]:
    """Return the ``(width, height)`` frames are saved at.

    Args:
        height: Height of the decoded frame.
        width: Width of the decoded frame.
        short_side: Resize so the shorter side has this length, keeping the aspect ratio.
        size: Resize to this fixed ``(width, height)``. Exclusive with ``short_side``.
    """
    if short_side is not None and size is not None:
        raise ValueError('give either short_side or size, not both')
    if size is not None:
        return int(size[0]), int(size[1])
    if short_side is None:
        return width, height
    scale = short_side / min(height, width)
    return max(1, round(width * scale)), max(1, round(height * scale))


def _remove_frames(frame_dir: str, filename_tmpl: str) -> None:
    """Delete the frames a previous, unfinished run left in ``frame_dir``."""
    if not osp.isdir(frame_dir):
        return
    pattern = template_regex(filename_tmpl)
    for name in os.listdir(frame_dir):
        if pattern.match(name):
            os.remove(osp.join(frame_dir, name))


def short_error(exc: BaseException) -> str:
    """One readable line for an exception (decord's messages carry C++ stack prefixes)."""
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else ''
    # decord: "[12:00:00] /src/file.cc:218: Check failed: ... Error sending packet."
    text = re.sub(r'(\[[\d:]+\] [^ ]+:\d+: )+', '', text)
    return f'{type(exc).__name__}: {text}' if text else type(exc).__name__


def extract_video_frames(
    video_path: str,
    frame_dir: str,
    short_side: Optional[int] = None,
    size: Optional[Tuple[int, int]] = None,
    quality: int = 95,
    filename_tmpl: str = 'img_{:05d}.jpg',
    backend: str = 'decord',
) -> int:
    """Write every frame of one video as JPEG files numbered from 1.

    Frames from an earlier unfinished attempt are deleted first. If decoding fails part
    way, the frames written so far are deleted again and the error is raised, so a folder
    either holds the whole video or nothing.

    Args:
        video_path: The video file.
        frame_dir: Folder that receives ``filename_tmpl.format(1)``, ``...format(2)``, ...
        short_side: Resize so the shorter side has this length (keeps the aspect ratio).
        size: Resize to this fixed ``(width, height)`` instead.
        quality: JPEG quality, 0-100.
        filename_tmpl: File name template with one integer field.
        backend: Decoder, one of ``'decord'``, ``'pyav'``, ``'opencv'`` (see
            :mod:`~mmaction_ft.datasets.video_io`).

    Returns:
        The number of frames written.
    """
    check_video_file(video_path)
    os.makedirs(frame_dir, exist_ok=True)
    _remove_frames(frame_dir, filename_tmpl)
    params = [cv2.IMWRITE_JPEG_QUALITY, int(quality)]
    num_frames = 0
    target = None
    try:
        for rgb in iter_video_frames(video_path, backend):
            if target is None:
                target = output_size(rgb.shape[0], rgb.shape[1], short_side, size)
            if (rgb.shape[1], rgb.shape[0]) != target:
                rgb = cv2.resize(rgb, target, interpolation=cv2.INTER_LINEAR)
            path = osp.join(frame_dir, filename_tmpl.format(num_frames + 1))
            if not mmcv.imwrite(cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), path, params):
                raise OSError(f'cannot write {path}')
            num_frames += 1
        if num_frames == 0:
            raise RuntimeError('no frame could be decoded')
    except BaseException:
        _remove_frames(frame_dir, filename_tmpl)
        if not os.listdir(frame_dir):
            os.rmdir(frame_dir)
        raise
    return num_frames


@dataclass
class ExtractionReport:
    """What one :func:`extract_frames` run did.

    Attributes:
        extracted: ``frame_dir -> num_frames`` for the videos extracted by this run.
        skipped: ``frame_dir -> num_frames`` for videos a previous run had finished.
        failed: ``video -> error message`` for the videos that could not be extracted.
        counts_file: The ``frame_counts.txt`` holding the counts of all finished videos.
    """

    extracted: Dict[str, int] = field(default_factory=dict)
    skipped: Dict[str, int] = field(default_factory=dict)
    failed: Dict[str, str] = field(default_factory=dict)
    counts_file: str = ''

    def summary(self) -> str:
        """A few lines for the console: totals, then each failure."""
        lines = [
            f'extracted {len(self.extracted)} videos, skipped {len(self.skipped)} already '
            f'done, {len(self.failed)} failed; frame counts in {self.counts_file}'
        ]
        lines += [f'  FAILED {video}: {error}' for video, error in sorted(self.failed.items())]
        return '\n'.join(lines)


def _extract_task(task: tuple) -> Tuple[str, str, int, Optional[str]]:
    """Pool worker: extract one video and report instead of raising."""
    video, video_path, frame_dir_rel, frame_dir, kwargs = task
    try:
        return video, frame_dir_rel, extract_video_frames(video_path, frame_dir, **kwargs), None
    except Exception as exc:  # a bad video must not stop the others
        return video, frame_dir_rel, 0, short_error(exc)


def extract_frames(
    src_dir: str,
    out_dir: str,
    videos: Optional[Sequence[str]] = None,
    exts: Sequence[str] = VIDEO_EXTS,
    short_side: Optional[int] = None,
    size: Optional[Tuple[int, int]] = None,
    quality: int = 95,
    filename_tmpl: str = 'img_{:05d}.jpg',
    backend: str = 'decord',
    workers: int = 1,
    progress: bool = True,
) -> ExtractionReport:
    """Extract the frames of every video under ``src_dir`` into folders under ``out_dir``.

    ``<src_dir>/a/b.mp4`` goes to ``<out_dir>/a/b/img_00001.jpg ...``; the count of each
    finished video is appended to ``<out_dir>/frame_counts.txt`` (rewritten sorted at the
    end). Videos finished by an earlier run are skipped; failures are collected in the
    report and never stop the run.

    Args:
        src_dir: Root folder of the videos.
        out_dir: Root folder of the frame folders.
        videos: Relative paths of the videos to extract; all videos under ``src_dir`` with
            an extension in ``exts`` if None.
        exts: Video extensions searched for when ``videos`` is None.
        short_side: Resize so the shorter side has this length (keeps the aspect ratio).
        size: Resize to this fixed ``(width, height)`` instead.
        quality: JPEG quality, 0-100.
        filename_tmpl: Frame file name template with one integer field.
        backend: Decoder, one of ``'decord'``, ``'pyav'``, ``'opencv'``.
        workers: Number of processes.
        progress: Show a progress bar.

    Returns:
        The report of extracted, skipped and failed videos.
    """
    if backend not in BACKENDS:
        raise ValueError(f'backend must be one of {BACKENDS}, got {backend!r}')
    if not 0 <= quality <= 100:
        raise ValueError(f'quality must be in [0, 100], got {quality}')
    output_size(1, 1, short_side, size)  # validates the resize options before any work
    template_regex(filename_tmpl)
    if not osp.isdir(src_dir):
        raise FileNotFoundError(f'video folder {src_dir} not found')
    if videos is None:
        videos = find_videos(src_dir, exts)
    os.makedirs(out_dir, exist_ok=True)
    counts_file = osp.join(out_dir, FRAME_COUNTS_FILE)
    counts = read_frame_counts(counts_file) if osp.exists(counts_file) else {}
    report = ExtractionReport(counts_file=counts_file)
    kwargs = dict(
        short_side=short_side,
        size=size,
        quality=quality,
        filename_tmpl=filename_tmpl,
        backend=backend,
    )

    tasks = []
    for video in videos:
        frame_dir_rel = osp.splitext(video)[0]
        frame_dir = osp.join(out_dir, frame_dir_rel)
        done = counts.get(frame_dir_rel)
        if done is not None and count_frames(frame_dir, filename_tmpl) == done:
            report.skipped[frame_dir_rel] = done
        else:
            tasks.append((video, osp.join(src_dir, video), frame_dir_rel, frame_dir, kwargs))

    bar = None
    if progress and tasks:
        from mmengine.utils import ProgressBar

        bar = ProgressBar(len(tasks))
    with open(counts_file, 'a', encoding='utf-8') as journal:
        if workers > 1 and len(tasks) > 1:
            pool = multiprocessing.Pool(min(workers, len(tasks)))
            results = pool.imap_unordered(_extract_task, tasks)
        else:
            pool = None
            results = map(_extract_task, tasks)
        try:
            for video, frame_dir_rel, num_frames, error in results:
                if error is None:
                    report.extracted[frame_dir_rel] = num_frames
                    counts[frame_dir_rel] = num_frames
                    journal.write(f'{frame_dir_rel} {num_frames}\n')
                    journal.flush()
                else:
                    report.failed[video] = error
                    counts.pop(frame_dir_rel, None)
                if bar is not None:
                    bar.update()
        finally:
            if pool is not None:  # every task has returned, or we are unwinding an error
                pool.terminate()
                pool.join()
    if bar is not None:
        bar.file.write('\n')
    write_frame_counts(counts_file, counts)
    return report
