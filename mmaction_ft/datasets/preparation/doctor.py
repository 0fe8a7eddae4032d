"""Dataset doctor: check each line of an annotation list, and its files, as training would.

The doctor reads the list with the dataset itself: it builds the ``RawframeDataset`` /
``VideoDataset`` of a config (``<split>_dataloader.dataset`` as the runner builds it, MMAction2
0.x ``data=dict(train=...)`` configs translated by :func:`mmaction_ft.config.load_config`,
wrappers such as ``RepeatDataset`` unwrapped) or from plain arguments, and walks
:meth:`~mmaction_ft.datasets.base.BaseActionDataset.parse_annotation_lines`. So a line that
training parses the doctor parses (a BOM, CRLF line ends, tabs or runs of spaces between fields,
a video path with spaces), and a line training refuses the doctor reports with the dataset's
own message. The formats are those of the datasets::

    <frame_dir> <total_frames> <label> [<label> ...]      rawframes
    <frame_dir> <offset> <total_frames> <label>           rawframes, with_offset=True
    <video> <label> [<label> ...]                         videos

Files are checked the way the pipeline reads them (:mod:`.file_checks`): every frame file a
rawframes line needs (``offset + start_index ...``, both ``x``/``y`` files for flow) is decoded
with :func:`~mmaction_ft.datasets.frame_files.decode_frame_bytes`, the decoder of
``RawFrameDecode`` (with the pipeline's ``decoding_backend``); a video is opened, and decoded
to its end, with the :mod:`~mmaction_ft.datasets.video_io` reader of the pipeline's ``*Init``
transform (decord unless the pipeline says ``PyAVInit`` / ``OpenCVInit``). With
``decode='header'`` frame files are only looked up and videos only opened.

Every problem of a line is reported (a duplicate with an out-of-range label, or whose frames
are corrupt, gets one issue for each). The lines with an ``error`` are exactly the lines that
fail in training, plus duplicates, which training accepts but which count a video twice. Error
lines are dropped from a cleaned list (``--out-clean``). Issue kinds:

    parse_error            error    the dataset cannot parse the line (fields, integers, labels)
    label_out_of_range     error    the dataset refuses a label (< 0, or >= num_classes)
    duplicate              error    the same video (and offset) is on an earlier usable line
    missing                error    frame folder or video file does not exist
    no_frames              error    a rawframes line says 0 frames (sampling has nothing to read)
    short_folder           error    the folder lacks frames the line asks for
    corrupt_frame          error    a frame file is empty, a truncated JPEG / PNG or undecodable
    extra_frames           warning  the folder holds more frames than the line says
    empty_file             error    the video has 0 bytes
    undecodable            error    the video cannot be opened (truncated, not a video)
    decode_error           error    decoding stops part way (truncated or corrupt data)
    frame_count_mismatch   error    fewer frames decode than the header says (warning if more)
    empty_list             error    the list holds no line at all (line 0)
    empty_class            warning  a class has no usable sample (line 0: whole dataset)
"""

import io
import os
import os.path as osp
from collections import Counter
from dataclasses import dataclass, field
from typing import Dict, List, Optional, Tuple, Union

from mmengine.config import Config

from mmaction_ft.config import load_config
from mmaction_ft.registry import DATASETS, building_scope

from ..base import BaseActionDataset
from ..rawframe_dataset import RawframeDataset
from ..transforms.decoding import DecordInit, OpenCVInit, PyAVInit, RawFrameDecode
from ..video_dataset import VideoDataset
from .file_checks import ERROR, WARNING, Problem, check_frame_folder, check_video

DATA_TYPES = ('rawframes', 'videos')
DECODE_MODES = ('full', 'header')
# The reader each video *Init transform opens (video_io backend names).
VIDEO_BACKENDS = {DecordInit: 'decord', PyAVInit: 'pyav', OpenCVInit: 'opencv'}


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


def _check_task(task: tuple) -> Tuple[int, List[Problem]]:
    """Pool worker: run the file check of one line."""
    line_no, data_type, args = task
    if data_type == 'videos':
        return line_no, check_video(*args)
    return line_no, check_frame_folder(*args)


@dataclass
class DoctorReport:
    """The result of :func:`diagnose`.

    Attributes:
        ann_file: The checked list.
        data_root: The dataset's data prefix, which the list paths are joined to.
        data_type: ``'rawframes'`` or ``'videos'``.
        lines: The non-blank lines of the list as ``(line_no, text)``, stripped (as read by
            the dataset: no BOM, no CR).
        issues: Every problem found, sorted by line.
        class_counts: Usable samples per class (lines without errors).
        num_classes: The dataset's class count, else inferred as ``max label + 1``.
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


def diagnose(
    dataset: BaseActionDataset, decode: str = 'full', workers: int = 1, progress: bool = False
) -> DoctorReport:
    """Check every line of a dataset's annotation list, and its files, as training would.

    Lines are read with the dataset's :meth:`~BaseActionDataset.parse_annotation_lines`; the
    dataset may be built with ``lazy_init=True`` (it is never fully initialised here).

    Args:
        dataset: A :class:`RawframeDataset` or :class:`VideoDataset`; its pipeline says how
            files are decoded (``RawFrameDecode``'s ``decoding_backend``, the video ``*Init``).
        decode: ``'full'`` decodes every frame file / every video to its end; ``'header'`` only
            looks frame files up and opens videos.
        workers: Number of processes for the file checks.
        progress: Show a progress bar.

    Returns:
        The report; see :class:`DoctorReport`.

    Raises:
        FileNotFoundError: The annotation list does not exist.
        ValueError: ``decode`` is unknown, the dataset is of another type, or its pipeline
            reads files through a remote ``io_backend`` (the doctor checks local files).
    """
    if decode not in DECODE_MODES:
        raise ValueError(f'decode must be one of {DECODE_MODES}, got {decode!r}')
    data_type, backend = _file_access(dataset)
    report = DoctorReport(
        dataset.ann_file,
        dataset.data_prefix[dataset.PREFIX_KEY],
        data_type,
        num_classes=dataset.num_classes,
    )
    labels: Dict[int, List[int]] = {}  # line -> labels, for lines whose labels are accepted
    seen: Dict[Tuple[str, int], int] = {}
    tasks = []
    for parsed in dataset.parse_annotation_lines():
        line_no, info = parsed.lineno, parsed.data_info
        report.lines.append((line_no, parsed.text))
        if info is None:
            report.issues.append(Issue(line_no, 'parse_error', parsed.problem))
            continue
        if parsed.problem is not None:
            report.issues.append(Issue(line_no, 'label_out_of_range', parsed.problem))
        path = info['filename'] if data_type == 'videos' else info['frame_dir']
        key = (osp.normpath(path), info.get('offset', 0))
        if key in seen:
            report.issues.append(Issue(line_no, 'duplicate', f'{path} already on line {seen[key]}'))
        elif parsed.problem is None:
            seen[key] = line_no
        if parsed.problem is None:
            labels[line_no] = _label_list(info['label'])
        tasks.append((line_no, data_type, _file_check_args(dataset, info, decode, backend)))
    if not report.lines:
        message = f'{dataset.ann_file} holds no samples (empty, or only blank lines)'
        report.issues.append(Issue(0, 'empty_list', message))
    report.issues += _run_file_checks(tasks, workers, progress)

    if report.num_classes is None:
        report.num_classes = max((max(ls) for ls in labels.values() if ls), default=-1) + 1
    bad = report.bad_lines
    report.class_counts = dict(
        Counter(label for line_no, ls in labels.items() if line_no not in bad for label in ls)
    )
    for label in range(report.num_classes):
        if label not in report.class_counts:
            message = f'class {label} has no usable sample'
            report.issues.append(Issue(0, 'empty_class', message, WARNING))
    report.issues.sort(key=lambda i: i.line_no)
    return report


def _label_list(label: Union[int, List[int]]) -> List[int]:
    """The labels of a parsed line (``-1``, an unlabelled test line, has none)."""
    if isinstance(label, int):
        return [] if label == -1 else [label]
    return list(label)


def _file_access(dataset: BaseActionDataset) -> Tuple[str, str]:
    """``(data_type, backend)``: the decoder the dataset's pipeline reads its files with."""
    if isinstance(dataset, RawframeDataset):
        data_type, readers, backend = 'rawframes', (RawFrameDecode,), 'cv2'
    elif isinstance(dataset, VideoDataset):
        data_type, readers, backend = 'videos', tuple(VIDEO_BACKENDS), 'decord'
    else:
        raise ValueError(
            f'the doctor checks RawframeDataset and VideoDataset, got {type(dataset).__name__}'
        )
    for transform in getattr(dataset.pipeline, 'transforms', []):
        if isinstance(transform, readers):
            if transform.io_backend != 'disk':
                raise ValueError(
                    f'{transform!r} in the pipeline of {dataset.ann_file} reads through '
                    f'io_backend={transform.io_backend!r}; the doctor checks local files only'
                )
            if data_type == 'rawframes':
                return data_type, transform.decoding_backend
            return data_type, VIDEO_BACKENDS[type(transform)]
    return data_type, backend


def _file_check_args(dataset: BaseActionDataset, info: dict, decode: str, backend: str) -> tuple:
    """Arguments of :func:`check_video` / :func:`check_frame_folder` for one parsed line."""
    if isinstance(dataset, VideoDataset):
        return (info['filename'], decode, backend)
    return (
        info['frame_dir'],
        info['total_frames'],
        info['offset'],
        dataset.start_index,
        dataset.filename_tmpl,
        dataset.modality,
        decode,
        backend,
    )


def _run_file_checks(tasks: list, workers: int, progress: bool) -> List[Issue]:
    """Run the per-line file checks, in a process pool when ``workers > 1``."""
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


def dataset_from_settings(
    ann_file: str,
    data_root: str = '',
    data_type: str = 'rawframes',
    num_classes: Optional[int] = None,
    filename_tmpl: str = 'img_{:05}.jpg',
    multi_class: bool = False,
    with_offset: bool = False,
    start_index: Optional[int] = None,
    test_mode: bool = False,
) -> BaseActionDataset:
    """The dataset training would build from these settings (no pipeline, not yet read).

    Args:
        ann_file: The annotation list.
        data_root: Folder the list paths are relative to (``data_prefix`` of the dataset).
        data_type: ``'rawframes'`` (RawframeDataset) or ``'videos'`` (VideoDataset).
        num_classes: Labels must be below this (required with ``multi_class``).
        filename_tmpl: Frame file names of the folders (RawframeDataset only).
        multi_class: Lines may hold several labels.
        with_offset: Rawframe lines are ``<frame_dir> <offset> <total_frames> <label>``.
        start_index: First frame index; the dataset's default (1 rawframes, 0 videos) if None.
        test_mode: Lines may omit their label (test lists).
    """
    if data_type not in DATA_TYPES:
        raise ValueError(f'data_type must be one of {DATA_TYPES}, got {data_type!r}')
    kwargs = dict(
        data_prefix=data_root,
        multi_class=multi_class,
        num_classes=num_classes,
        test_mode=test_mode,
        lazy_init=True,
    )
    if start_index is not None:
        kwargs['start_index'] = start_index
    if data_type == 'videos':
        if with_offset:
            raise ValueError('with_offset applies to rawframes lists only')
        return VideoDataset(ann_file, [], **kwargs)
    return RawframeDataset(
        ann_file, [], filename_tmpl=filename_tmpl, with_offset=with_offset, **kwargs
    )


def check_dataset(
    ann_file: str,
    data_root: str,
    data_type: str = 'rawframes',
    num_classes: Optional[int] = None,
    filename_tmpl: str = 'img_{:05}.jpg',
    multi_class: bool = False,
    with_offset: bool = False,
    start_index: Optional[int] = None,
    test_mode: bool = False,
    decode: str = 'full',
    workers: int = 1,
    progress: bool = False,
) -> DoctorReport:
    """Check a list given by its settings: :func:`dataset_from_settings`, then :func:`diagnose`.

    Without ``num_classes`` labels are only checked to be >= 0, as the dataset does, and the
    report infers ``max label + 1`` for its class counts. See :func:`dataset_from_settings` and
    :func:`diagnose` for the arguments.
    """
    dataset = dataset_from_settings(
        ann_file,
        data_root,
        data_type,
        num_classes=num_classes,
        filename_tmpl=filename_tmpl,
        multi_class=multi_class,
        with_offset=with_offset,
        start_index=start_index,
        test_mode=test_mode,
    )
    return diagnose(dataset, decode=decode, workers=workers, progress=progress)


def dataset_from_config(
    config: str, split: str = 'train', num_classes: Optional[int] = None
) -> BaseActionDataset:
    """Build the dataset of ``<split>_dataloader`` of a config, as training builds it.

    The config is loaded with :func:`mmaction_ft.config.load_config` (bases merged, MMAction2
    0.x ``data=dict(train=...)`` translated, so a 0.x val / test dataset gets ``test_mode=True``
    as 0.x tools gave it); wrappers (``RepeatDataset``'s ``dataset``) are unwrapped, and the
    dataset is built through the ``DATASETS`` registry with ``lazy_init=True``, so a bad line
    does not raise here. A dataset without a class count takes ``model.cls_head.num_classes``,
    as the runner does before training (``BaseActionDataset.check_labels``).

    Args:
        config: The config file.
        split: ``'train'``, ``'val'`` or ``'test'``.
        num_classes: Overrides the dataset's ``num_classes`` (built with it).

    Raises:
        KeyError: The config has no such dataloader, or its dataset has no ``ann_file``.
        ValueError: The dataset concatenates several lists, or is not a RawframeDataset /
            VideoDataset (the message names the config key).
    """
    cfg, _ = load_config(config)
    # As the runner does: the config's scope, whatever scope an earlier runner left current.
    with building_scope(cfg.get('default_scope')):
        return _build_dataset(cfg, config, split, num_classes)


def _build_dataset(
    cfg: Config, config: str, split: str, num_classes: Optional[int]
) -> BaseActionDataset:
    loader = cfg.get(f'{split}_dataloader')
    where = f'{split}_dataloader.dataset'
    if not isinstance(loader, dict) or not isinstance(loader.get('dataset'), dict):
        raise KeyError(f'{config}: no {where} (nor 0.x data.{split}) in the config')
    dataset_cfg = loader['dataset']
    while isinstance(dataset_cfg.get('dataset'), dict):  # RepeatDataset and other wrappers
        dataset_cfg, where = dataset_cfg['dataset'], where + '.dataset'
    if dataset_cfg.get('datasets'):
        raise ValueError(
            f'{config}: {where} concatenates {len(dataset_cfg["datasets"])} datasets; check each '
            'list with --ann-file'
        )
    dataset_type = dataset_cfg.get('type')
    cls = DATASETS.get(dataset_type) if isinstance(dataset_type, str) else dataset_type
    if not (isinstance(cls, type) and issubclass(cls, (RawframeDataset, VideoDataset))):
        raise ValueError(
            f'{config}: {where}.type is {dataset_type!r}; the doctor checks RawframeDataset and '
            'VideoDataset'
        )
    if not dataset_cfg.get('ann_file'):
        raise KeyError(f'{config}: {where} has no ann_file')
    dataset_cfg = dict(dataset_cfg, lazy_init=True)
    # The doctor never runs the pipeline (it only reads how files are decoded from it), so a
    # config still without one is checked with the default decoders.
    dataset_cfg.setdefault('pipeline', [])
    if num_classes is not None:
        dataset_cfg['num_classes'] = num_classes
    dataset = DATASETS.build(dataset_cfg)
    head = (cfg.get('model') or {}).get('cls_head') or {}
    if num_classes is None and isinstance(head.get('num_classes'), int):
        dataset.adopt_num_classes(head['num_classes'], 'model.cls_head.num_classes')
    return dataset


def check_config(
    config: str,
    split: str = 'train',
    num_classes: Optional[int] = None,
    decode: str = 'full',
    workers: int = 1,
    progress: bool = False,
) -> DoctorReport:
    """Check the list of ``<split>_dataloader`` of a config: :func:`dataset_from_config`, then
    :func:`diagnose` (see both for the arguments)."""
    dataset = dataset_from_config(config, split, num_classes)
    return diagnose(dataset, decode=decode, workers=workers, progress=progress)
