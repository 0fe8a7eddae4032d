"""Turn official dataset annotations into MMAction2 annotation lists.

The ``parse_*`` functions of :mod:`.official_annotations` read the files a dataset ships with
and return ``{list_key: [Sample, ...]}``; :func:`write_file_lists` then writes one file per list
key and format, named ``<prefix>_<list_key>_<format>.txt``:

    rawframes   <frame_dir> <total_frames> <label> [<label> ...]
    rawframes   <frame_dir> <offset> <total_frames> <label>       untrimmed videos (with_offset)
    videos      <video> <label> [<label> ...]

Labels are 0-based. ``total_frames`` comes from the ``frame_counts.txt`` written by
:func:`extract_frames` or from counting the frame files. Test subsets without labels are
not written: the datasets cannot read a line without a label.
"""

import os.path as osp
import re
from dataclasses import dataclass, field, replace
from functools import partial
from typing import Callable, Dict, List, Optional, Sequence, Tuple, Union

from ..video_io import open_video
from .frame_extraction import FRAME_COUNTS_FILE, VIDEO_EXTS, count_frames, read_frame_counts
from .official_annotations import (
    Sample,
    SampleLists,
    parse_activitynet,
    parse_hmdb51,
    parse_kinetics,
    parse_mit,
    parse_mmit,
    parse_sthv1,
    parse_sthv2,
    parse_thumos14,
    parse_ucf101,
)


@dataclass(frozen=True)
class DatasetSpec:
    """How to build the lists of one dataset.

    Attributes:
        parse: Reads the official annotations of ``ann_dir``.
        formats: The list formats the dataset can have.
        filename_tmpl: Frame file names of its frame folders.
        has_splits: ``parse`` takes ``splits`` (the numbered train/test splits of UCF101 and
            HMDB51).
    """

    parse: Callable[..., SampleLists]
    formats: Tuple[str, ...] = ('rawframes', 'videos')
    filename_tmpl: str = 'img_{:05d}.jpg'
    has_splits: bool = False


DATASETS: Dict[str, DatasetSpec] = {
    'ucf101': DatasetSpec(parse_ucf101, has_splits=True),
    'hmdb51': DatasetSpec(parse_hmdb51, has_splits=True),
    'kinetics400': DatasetSpec(parse_kinetics),
    'kinetics600': DatasetSpec(parse_kinetics),
    'kinetics700': DatasetSpec(parse_kinetics),
    'sthv1': DatasetSpec(parse_sthv1, ('rawframes',), '{:05d}.jpg'),
    'sthv2': DatasetSpec(parse_sthv2),
    'mit': DatasetSpec(parse_mit),
    'mmit': DatasetSpec(parse_mmit),
    'activitynet': DatasetSpec(parse_activitynet, ('rawframes',)),
    'thumos14': DatasetSpec(parse_thumos14, ('rawframes',)),
}


class FrameCounter:
    """Frame counts of the folders under a frames root.

    Reads ``<frames_root>/frame_counts.txt`` (from :func:`extract_frames`) when present and
    counts the files named like ``filename_tmpl`` for folders it does not list.

    Args:
        frames_root: Root folder of the frame folders.
        filename_tmpl: Frame file name template.
    """

    def __init__(self, frames_root: str, filename_tmpl: str = 'img_{:05d}.jpg') -> None:
        self.frames_root = frames_root
        self.filename_tmpl = filename_tmpl
        counts_file = osp.join(frames_root, FRAME_COUNTS_FILE)
        self.known = read_frame_counts(counts_file) if osp.isfile(counts_file) else {}

    def __call__(self, frame_dir: str) -> int:
        """Number of frames of ``frame_dir`` (relative to the root); 0 if it is missing."""
        if frame_dir in self.known:
            return self.known[frame_dir]
        return count_frames(osp.join(self.frames_root, frame_dir), self.filename_tmpl)


def probe_fps(video_path: str) -> float:
    """Average frame rate from the video header (decord)."""
    with open_video(video_path, 'decord') as reader:
        return reader.fps


def find_video(videos_root: str, sample: Sample) -> Optional[str]:
    """The sample's video path as found on disk, allowing another extension; None if absent.

    Downloaded Kinetics videos, for example, are ``.mp4``, ``.webm`` or ``.mkv``.
    """
    folder = osp.join(videos_root, sample.subset_dir)
    if osp.isfile(osp.join(folder, sample.video)):
        return sample.video
    for ext in VIDEO_EXTS:
        candidate = sample.frame_dir + ext
        if osp.isfile(osp.join(folder, candidate)):
            return candidate
    return None


def _video_fps(videos_root: str, cache: Dict[str, float], sample: Sample) -> float:
    """Frame rate of the sample's video, read once per video."""
    path = osp.join(videos_root, sample.subset_dir, sample.video)
    if path not in cache:
        cache[path] = probe_fps(path)
    return cache[path]


@dataclass
class BuildReport:
    """What :func:`write_file_lists` wrote.

    Attributes:
        written: ``path -> number of lines`` for each list file.
        skipped: ``(list file, sample, reason)`` for samples left out.
    """

    written: Dict[str, int] = field(default_factory=dict)
    skipped: List[Tuple[str, str, str]] = field(default_factory=list)

    def summary(self) -> str:
        """The files written, then a count of the samples left out and a few examples."""
        lines = [f'wrote {path} ({n} lines)' for path, n in self.written.items()]
        if self.skipped:
            lines.append(f'left out {len(self.skipped)} samples, e.g.:')
            lines += [f'  {osp.basename(p)}: {s}: {r}' for p, s, r in self.skipped[:10]]
        return '\n'.join(lines)


def _segment_frames(
    sample: Sample, num_frames: int, fps: Union[float, Callable[[Sample], float], None]
) -> Tuple[int, int]:
    """``(offset, total_frames)`` of a segment inside a video of ``num_frames`` frames."""
    if callable(fps):
        rate = fps(sample)
    elif fps is not None:
        rate = float(fps)
    elif sample.duration:
        rate = num_frames / sample.duration  # frames were extracted at the native rate
    else:
        raise ValueError('frame rate unknown: pass fps or videos_root')
    start, end = sample.segment
    offset = max(0, int(round(start * rate)))
    last = min(num_frames, int(round(end * rate)))
    return offset, last - offset


def format_line(
    sample: Sample,
    fmt: str,
    num_frames: Optional[int] = None,
    fps: Union[float, Callable[[Sample], float], None] = None,
) -> str:
    """One list line for ``sample`` in format ``'rawframes'`` or ``'videos'``.

    Args:
        sample: The sample.
        fmt: ``'rawframes'`` or ``'videos'``.
        num_frames: Frames in the sample's folder (rawframes only).
        fps: Frame rate used to turn segment times into frames: a number, a function of
            the sample, or None to use ``num_frames / duration``.

    Raises:
        ValueError: If the line cannot be written (no frames, empty segment, whitespace
            in the path).
    """
    labels = ' '.join(str(label) for label in sample.labels)
    path = sample.video if fmt == 'videos' else sample.frame_dir
    if re.search(r'\s', path):
        raise ValueError(f'path {path!r} contains whitespace, which the list format cannot hold')
    if fmt == 'videos':
        if sample.segment is not None:
            raise ValueError('a segment of an untrimmed video needs the rawframes format')
        return f'{path} {labels}'
    if fmt != 'rawframes':
        raise ValueError(f"format must be 'rawframes' or 'videos', got {fmt!r}")
    if not num_frames:
        raise ValueError('no frames (folder missing or empty)')
    if sample.segment is None:
        return f'{path} {num_frames} {labels}'
    offset, total = _segment_frames(sample, num_frames, fps)
    if total < 1:
        raise ValueError(f'segment {sample.segment} has no frames in a {num_frames}-frame video')
    return f'{path} {offset} {total} {labels}'


def write_file_lists(
    prefix: str,
    lists: SampleLists,
    out_dir: str,
    formats: Sequence[str] = ('rawframes', 'videos'),
    frames_root: Optional[str] = None,
    videos_root: Optional[str] = None,
    filename_tmpl: str = 'img_{:05d}.jpg',
    fps: Optional[float] = None,
) -> BuildReport:
    """Write ``<out_dir>/<prefix>_<list_key>_<format>.txt`` for every list and format.

    A ``{subset}`` in ``frames_root`` / ``videos_root`` is replaced by the first word of the
    list key (``train``, ``val``, ``test``), for datasets kept in one folder per subset
    such as Kinetics' ``rawframes_train/`` and ``rawframes_val/``.

    Args:
        prefix: Dataset name at the start of each file name, e.g. ``'ucf101'``.
        lists: The output of a ``parse_*`` function.
        out_dir: Folder that receives the lists.
        formats: Any of ``'rawframes'`` and ``'videos'``.
        frames_root: Root of the frame folders (needed for rawframes).
        videos_root: Root of the videos. When given, videos lists hold only the videos
            found there (under their actual extension; the others are reported as left
            out), and the frame rate of untrimmed videos is read from them when ``fps``
            is None.
        filename_tmpl: Frame file names, used when frames must be counted.
        fps: Frame rate of every untrimmed video.

    Returns:
        The files written and the samples left out (e.g. frame folder missing).
    """
    if 'rawframes' in formats and frames_root is None:
        raise ValueError('the rawframes format needs frames_root')
    counters: Dict[str, FrameCounter] = {}
    probed: Dict[str, float] = {}
    report = BuildReport()
    for fmt in formats:
        for key, samples in lists.items():
            subset = key.split('_')[0]
            frame_rate: Union[float, Callable[[Sample], float], None] = fps
            if fps is None and videos_root is not None:
                frame_rate = partial(_video_fps, videos_root.format(subset=subset), probed)
            if fmt == 'rawframes':
                root = frames_root.format(subset=subset)
                if root not in counters:
                    counters[root] = FrameCounter(root, filename_tmpl)
                counter = counters[root]
            out_path = osp.join(out_dir, f'{prefix}_{key}_{fmt}.txt')
            lines = []
            for sample in samples:
                num_frames = None
                if fmt == 'rawframes':
                    num_frames = counter(osp.join(sample.subset_dir, sample.frame_dir))
                elif videos_root is not None:
                    found = find_video(videos_root.format(subset=subset), sample)
                    if found is None:
                        report.skipped.append((out_path, sample.video, 'video not found'))
                        continue
                    sample = replace(sample, video=found)
                try:
                    lines.append(format_line(sample, fmt, num_frames, frame_rate))
                except (ValueError, OSError, RuntimeError) as exc:
                    report.skipped.append((out_path, sample.video, str(exc)))
            with open(out_path, 'w', encoding='utf-8') as f:
                f.writelines(line + '\n' for line in lines)
            report.written[out_path] = len(lines)
    return report
