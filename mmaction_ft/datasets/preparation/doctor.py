"""Dataset doctor: check every line of an annotation list against the files on disk.

It reads the list the way RawframeDataset / VideoDataset do (whitespace separated, 0-based
labels)::

    <frame_dir> <total_frames> <label> [<label> ...]      rawframes
    <frame_dir> <offset> <total_frames> <label>           rawframes, with_offset=True
    <video> <label> [<label> ...]                         videos

and reports, with the line number, each problem that would crash or silently hurt a
training run. Issue kinds (``error`` lines are dropped from a cleaned list):

    parse_error            error    the line does not have the expected fields
    missing                error    frame folder or video file does not exist
    short_folder           error    the folder lacks frames the line asks for
    extra_frames           warning  the folder holds more frames than the line says
    empty_file             error    the video has 0 bytes
    undecodable            error    the video cannot be opened (truncated, not a video)
    decode_error           error    decoding stops part way (truncated or corrupt data)
    frame_count_mismatch   error    fewer frames decode than the header says (warning if more)
    label_out_of_range     error    a label is < 0 or >= num_classes
    duplicate              error    the same video (and offset) already appeared
    empty_class            warning  a class has no usable sample (line 0: whole dataset)
"""

import io
import os
import os.path as osp
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple

from ..video_io import DecodeError, open_video
from .frame_extraction import short_error

ERROR = 'error'
WARNING = 'warning'
DATA_TYPES = ('rawframes', 'videos')
DECODE_MODES = ('full', 'header')


@dataclass(frozen=True)
class Issue:
    """One problem found by the doctor.

    Attributes:
        line_no: 1-based line of the annotation file; 0 for dataset-wide issues.
        kind: One of the kinds in the module docstring.
        message: What is wrong, with the path or values involved.
        severity: ``'error'`` or ``'warning'``.
    """

    line_no: int
    kind: str
    message: str
    severity: str = ERROR

    def __str__(self) -> str:
        where = f'line {self.line_no}' if self.line_no else 'dataset'
        return f'{where}: {self.kind}: {self.message}'


@dataclass(frozen=True)
class Entry:
    """A parsed annotation line."""

    line_no: int
    path: str
    labels: Tuple[int, ...]
    total_frames: Optional[int] = None
    offset: int = 0


def parse_line(
    line: str, data_type: str, with_offset: bool = False, multi_class: bool = False
) -> Tuple[str, Optional[int], int, Tuple[int, ...]]:
    """Split one list line into ``(path, total_frames, offset, labels)``.

    ``total_frames`` is None for videos; ``offset`` is 0 unless ``with_offset``.

    Raises:
        ValueError: If the fields are missing or not integers.
    """
    parts = line.split()
    num_numbers = {'videos': 0, 'rawframes': 2 if with_offset else 1}[data_type]
    if len(parts) < 2 + num_numbers:
        raise ValueError(f'expected {2 + num_numbers} or more fields, got {len(parts)}')
    try:
        numbers = [int(x) for x in parts[1 : 1 + num_numbers]]
        labels = tuple(int(x) for x in parts[1 + num_numbers :])
    except ValueError:
        raise ValueError(f'non-integer field in {line.strip()!r}') from None
    if len(labels) > 1 and not multi_class:
        raise ValueError(f'{len(labels)} labels but multi_class is False')
    offset = numbers[0] if with_offset else 0
    total_frames = numbers[-1] if numbers else None
    if total_frames is not None and total_frames < 1:
        raise ValueError(f'total_frames must be positive, got {total_frames}')
    return parts[0], total_frames, offset, labels


def check_frame_folder(
    folder: str, total_frames: int, offset: int, start_index: int, filename_tmpl: str
) -> List[Tuple[str, str, str]]:
    """Check a frame folder holds frames ``offset + start_index ... + total_frames - 1``.

    Returns:
        ``(kind, message, severity)`` for each problem.
    """
    if not osp.isdir(folder):
        return [('missing', f'frame folder {folder} not found', ERROR)]
    names = set(os.listdir(folder))
    first = offset + start_index
    wanted = [filename_tmpl.format(first + i) for i in range(total_frames)]
    absent = [name for name in wanted if name not in names]
    if absent:
        present = total_frames - len(absent)
        return [
            (
                'short_folder',
                f'{folder}: line says {total_frames} frames, {present} of them exist '
                f'(first missing: {absent[0]})',
                ERROR,
            )
        ]
    if offset == 0 and filename_tmpl.format(first + total_frames) in names:
        extra = 0
        while filename_tmpl.format(first + total_frames + extra) in names:
            extra += 1
        return [
            (
                'extra_frames',
                f'{folder}: line says {total_frames} frames, folder has {total_frames + extra}',
                WARNING,
            )
        ]
    return []


def check_video(path: str, decode: str = 'full') -> List[Tuple[str, str, str]]:
    """Check a video exists, opens with decord and (``decode='full'``) decodes completely.

    Returns:
        ``(kind, message, severity)`` for each problem.
    """
    if not osp.isfile(path):
        return [('missing', f'video {path} not found', ERROR)]
    if osp.getsize(path) == 0:
        return [('empty_file', f'{path} has 0 bytes', ERROR)]
    try:
        reader = open_video(path, 'decord')
    except DecodeError as exc:
        return [('undecodable', f'{path} cannot be opened ({_reason(exc)})', ERROR)]
    header = len(reader)
    if decode == 'header':
        return []
    decoded = 0
    try:
        for _ in reader.iter_frames():
            decoded += 1
    except DecodeError as exc:
        return [
            (
                'decode_error',
                f'{path}: decoding stops after {decoded} of {header} frames ({_reason(exc)})',
                ERROR,
            )
        ]
    if decoded != header:
        severity = ERROR if decoded < header else WARNING
        message = f'{path}: header says {header} frames, {decoded} decode'
        return [('frame_count_mismatch', message, severity)]
    return []


def _reason(exc: DecodeError) -> str:
    """The decoder's own error (the DecodeError around it repeats the path)."""
    return short_error(exc.__cause__ or exc)


def _check_task(task: tuple) -> Tuple[int, List[Tuple[str, str, str]]]:
    """Pool worker: run the file check of one entry."""
    line_no, kind, args = task
    if kind == 'videos':
        return line_no, check_video(*args)
    return line_no, check_frame_folder(*args)


@dataclass
class DoctorReport:
    """The result of :func:`check_dataset`.

    Attributes:
        ann_file: The checked list.
        data_root: Root the list paths are relative to.
        data_type: ``'rawframes'`` or ``'videos'``.
        lines: The non-blank lines of the list as ``(line_no, text)``.
        issues: Every problem found, sorted by line.
        class_counts: Usable samples per class (lines without errors).
        num_classes: The class count checked against (given or inferred).
    """

    ann_file: str
    data_root: str
    data_type: str
    lines: List[Tuple[int, str]] = field(default_factory=list)
    issues: List[Issue] = field(default_factory=list)
    class_counts: Dict[int, int] = field(default_factory=dict)
    num_classes: Optional[int] = None

    @property
    def bad_lines(self) -> set:
        """Line numbers with at least one error (dropped from the cleaned list)."""
        return {i.line_no for i in self.issues if i.severity == ERROR and i.line_no}

    @property
    def ok(self) -> bool:
        """True when no error was found (warnings allowed)."""
        return not any(i.severity == ERROR for i in self.issues)

    def kinds(self) -> Counter:
        """Number of issues per kind."""
        return Counter(i.kind for i in self.issues)

    def summary(self, max_per_kind: int = 10) -> str:
        """A console report: totals, counts per kind, then examples of each kind."""
        num_bad = len(self.bad_lines)
        num_warn = sum(i.severity == WARNING for i in self.issues)
        lines = [
            f'{self.ann_file} ({self.data_type}, root {self.data_root}): '
            f'{len(self.lines)} lines, {len(self.lines) - num_bad} usable, '
            f'{num_bad} with errors, {num_warn} warnings; '
            f'{len(self.class_counts)} of {self.num_classes} classes have samples'
        ]
        for kind, count in sorted(self.kinds().items()):
            lines.append(f'  {kind:<22}{count}')
        for kind in sorted(self.kinds()):
            examples = [i for i in self.issues if i.kind == kind]
            lines += [f'  {i}' for i in examples[:max_per_kind]]
            if len(examples) > max_per_kind:
                lines.append(f'  ... {len(examples) - max_per_kind} more {kind}')
        return '\n'.join(lines)

    def write_clean(self, out_path: str) -> int:
        """Write the list without the lines that have errors; returns the lines written."""
        bad = self.bad_lines
        kept = [text for line_no, text in self.lines if line_no not in bad]
        os.makedirs(osp.dirname(osp.abspath(out_path)), exist_ok=True)
        with open(out_path, 'w', encoding='utf-8') as f:
            f.writelines(text + '\n' for text in kept)
        return len(kept)


def check_dataset(
    ann_file: str,
    data_root: str,
    data_type: str = 'rawframes',
    num_classes: Optional[int] = None,
    filename_tmpl: str = 'img_{:05}.jpg',
    multi_class: bool = False,
    with_offset: bool = False,
    start_index: Optional[int] = None,
    decode: str = 'full',
    workers: int = 1,
    progress: bool = False,
) -> DoctorReport:
    """Check every line of ``ann_file`` and the files it points to.

    Args:
        ann_file: The annotation list.
        data_root: Folder the list paths are relative to (``data_prefix`` of the dataset).
        data_type: ``'rawframes'`` (frame folders) or ``'videos'``.
        num_classes: Labels must be below this; inferred as ``max label + 1`` if None.
        filename_tmpl: Frame file names of the folders (RawframeDataset's default).
        multi_class: Lines may hold several labels.
        with_offset: Rawframe lines are ``<frame_dir> <offset> <total_frames> <label>``.
        start_index: First frame index; 1 for rawframes and 0 for videos if None.
        decode: ``'full'`` decodes every video completely; ``'header'`` only opens it.
        workers: Number of processes for the file checks.
        progress: Show a progress bar.

    Returns:
        The report; see :class:`DoctorReport`.
    """
    if data_type not in DATA_TYPES:
        raise ValueError(f'data_type must be one of {DATA_TYPES}, got {data_type!r}')
    if decode not in DECODE_MODES:
        raise ValueError(f'decode must be one of {DECODE_MODES}, got {decode!r}')
    if start_index is None:
        start_index = 1 if data_type == 'rawframes' else 0
    if not osp.isfile(ann_file):
        raise FileNotFoundError(
            f'annotation file {ann_file} not found (tools/data/build_file_list.py writes it)'
        )
    report = DoctorReport(ann_file, data_root, data_type, num_classes=num_classes)
    with open(ann_file, encoding='utf-8') as f:
        report.lines = [(n, line.strip()) for n, line in enumerate(f, 1) if line.strip()]

    entries: List[Entry] = []
    seen: Dict[Tuple[str, int], int] = {}
    for line_no, text in report.lines:
        try:
            path, total_frames, offset, labels = parse_line(
                text, data_type, with_offset, multi_class
            )
        except ValueError as exc:
            report.issues.append(Issue(line_no, 'parse_error', str(exc)))
            continue
        key = (osp.normpath(path), offset)
        if key in seen:
            report.issues.append(Issue(line_no, 'duplicate', f'{path} already on line {seen[key]}'))
            continue
        seen[key] = line_no
        entries.append(Entry(line_no, path, labels, total_frames, offset))

    if num_classes is None:
        labels = [label for e in entries for label in e.labels]
        report.num_classes = max(labels) + 1 if labels else 0
    for entry in entries:
        for label in entry.labels:
            if not 0 <= label < report.num_classes:
                message = f'label {label} not in [0, {report.num_classes})'
                report.issues.append(Issue(entry.line_no, 'label_out_of_range', message))

    if data_type == 'videos':
        tasks = [(e.line_no, 'videos', (osp.join(data_root, e.path), decode)) for e in entries]
    else:
        tasks = [
            (
                e.line_no,
                'rawframes',
                (osp.join(data_root, e.path), e.total_frames, e.offset, start_index, filename_tmpl),
            )
            for e in entries
        ]
    report.issues += _run_file_checks(tasks, workers, progress)

    bad = report.bad_lines
    report.class_counts = dict(
        Counter(label for e in entries if e.line_no not in bad for label in e.labels)
    )
    for label in range(report.num_classes):
        if label not in report.class_counts:
            message = f'class {label} has no usable sample'
            report.issues.append(Issue(0, 'empty_class', message, WARNING))
    report.issues.sort(key=lambda i: i.line_no)
    return report


def _run_file_checks(tasks: list, workers: int, progress: bool) -> List[Issue]:
    """Run the per-entry file checks, in a process pool when ``workers > 1``."""
    from mmengine.utils import track_parallel_progress, track_progress

    # The checks report problems as values, so any exception here is a bug and propagates.
    silent = dict(file=io.StringIO()) if not progress else {}
    if workers > 1 and len(tasks) > 1:
        nproc = min(workers, len(tasks))
        results = track_parallel_progress(_check_task, tasks, nproc, chunksize=4, **silent)
    elif progress and tasks:
        results = track_progress(_check_task, tasks)
    else:
        results = [_check_task(task) for task in tasks]
    return [
        Issue(line_no, kind, message, severity)
        for line_no, problems in results
        for kind, message, severity in problems
    ]


def dataset_settings_from_config(config: str, split: str = 'train') -> dict:
    """Read the dataset of ``<split>_dataloader`` in an MMAction2-style config.

    Handles 1.x configs (``train_dataloader.dataset`` with ``data_prefix=dict(img=...)`` or
    ``dict(video=...)``, ``data_root`` joined to relative paths as mmengine does, wrappers
    such as RepeatDataset unwrapped) and 0.x ``data=dict(train=...)`` configs.

    Returns:
        Keyword arguments for :func:`check_dataset` (without ``decode``/``workers``).
    """
    from mmengine.config import Config

    cfg = Config.fromfile(config)
    if cfg.get(f'{split}_dataloader') is not None:
        dataset = cfg[f'{split}_dataloader'].get('dataset')
        where = f'{split}_dataloader.dataset'
    elif cfg.get('data') is not None and cfg.data.get(split) is not None:
        dataset, where = cfg.data[split], f'data.{split}'
    else:
        raise KeyError(f'{config}: no {split}_dataloader (nor data.{split}) in the config')
    while dataset is not None and 'ann_file' not in dataset and 'dataset' in dataset:
        dataset, where = dataset['dataset'], where + '.dataset'
    if dataset is None or 'ann_file' not in dataset:
        raise KeyError(f'{config}: {where} has no ann_file')
    types = {'RawframeDataset': 'rawframes', 'VideoDataset': 'videos'}
    if dataset.get('type') not in types:
        raise ValueError(
            f'{config}: {where}.type is {dataset.get("type")!r}; the doctor checks {sorted(types)}'
        )
    data_type = types[dataset['type']]
    root = dataset.get('data_root') or ''
    prefix = dataset.get('data_prefix', '')
    if isinstance(prefix, dict):
        prefix = prefix.get('img' if data_type == 'rawframes' else 'video', '')
    num_classes = dataset.get('num_classes')
    if num_classes is None and isinstance(cfg.get('model'), dict):
        num_classes = (cfg.model.get('cls_head') or {}).get('num_classes')
    settings = dict(
        ann_file=osp.join(root, dataset['ann_file']),
        data_root=osp.join(root, prefix or ''),
        data_type=data_type,
        num_classes=num_classes,
        multi_class=bool(dataset.get('multi_class', False)),
        with_offset=bool(dataset.get('with_offset', False)),
        start_index=dataset.get('start_index'),
    )
    if data_type == 'rawframes':
        settings['filename_tmpl'] = dataset.get('filename_tmpl', 'img_{:05}.jpg')
    return settings
