"""The dataset base shared by frame-folder and video-file action recognition lists."""

import logging
import os.path as osp
from typing import Any, Callable, Dict, Iterator, List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.dataset import BaseDataset
from mmengine.logging import print_log
from torch.utils.data import get_worker_info

from mmaction_ft.registry import TRANSFORMS
from mmaction_ft.utils.threads import sample_threads

from .annotation import AnnotationError, LineFormatError, load_class_names, read_lines
from .batch_loading import load_batch
from .transforms.fusion import fuse_pipeline

Label = Union[int, List[int]]


class AnnotationLine(NamedTuple):
    """One non-blank line of an annotation list, as the dataset reads it.

    Attributes:
        lineno: 1-based line number in the file.
        text: The line, stripped.
        data_info: What :meth:`BaseActionDataset.parse_line` made of it; ``None`` when the line
            does not parse. Set (with a ``problem``) when only its label is refused.
        problem: Why the dataset refuses the line (the message of its error), ``None`` when the
            line is accepted.
    """

    lineno: int
    text: str
    data_info: Optional[Dict[str, Any]]
    problem: Optional[str]


class BaseActionDataset(BaseDataset):
    """An annotation list of videos, each line one sample, read into ``data_list``.

    Subclasses set ``PREFIX_KEY`` (the ``data_prefix`` entry paths are joined with) and implement
    :meth:`line_format` (shown in parse errors) and :meth:`parse_line`; this class reads the file,
    numbers its lines, checks labels and turns multi-label lists into one-hot vectors. A line
    without a label gets ``-1`` in test mode and is an error otherwise.

    Every ``data_info`` carries ``label``, ``start_index``, ``modality`` and ``sample_idx``;
    multi-label samples carry a float32 one-hot ``label`` tensor of length ``num_classes``.

    Bad samples (a missing frame, an undecodable video) raise by default. With
    ``on_bad_sample='skip'`` a sample whose pipeline raises (or returns ``None``) is replaced by
    another randomly drawn sample: every skip is logged with its reason (a WARNING the first time a
    sample fails, INFO when it fails again), counted in :attr:`num_skipped` and recorded in
    :attr:`skipped` as ``(index, reason)``. Known-bad samples are never drawn as replacements, and
    more than ``max_skips`` distinct bad samples is an error, so a broken dataset cannot train
    silently. The counters live in the process that loads the data (each dataloader worker keeps
    its own). In test mode a skipped sample is replaced too, so the metric then counts the
    replacement twice: prefer ``'error'`` for evaluation.

    Args:
        ann_file: Path of the annotation list.
        pipeline: Transforms (configs or callables) applied to each ``data_info``.
        data_prefix: Directory joined in front of every path of the list. A string (MMAction2
            0.x) or ``dict(img=...)`` / ``dict(video=...)`` (1.x), keyed by ``PREFIX_KEY``.
        test_mode: Build the dataset for validation / testing.
        multi_class: Each line may hold several labels; they become a one-hot vector, so
            ``num_classes`` (or ``label_map``) is required.
        num_classes: Number of classes. When given (or taken from ``label_map``), every label is
            checked to lie in ``[0, num_classes)`` while the list is parsed.
        start_index: Index of the first frame (1 for frame folders ``img_00001.jpg``, 0 for
            decoded videos); sampling transforms add it to the sampled indices.
        modality: ``'RGB'`` or ``'Flow'``.
        label_map: Optional text file of class names (one per line, or ``classInd.txt`` style
            ``1 ApplyEyeMakeup``); sets ``metainfo['classes']``.
        on_bad_sample: ``'error'`` (raise) or ``'skip'`` (log, count, load another sample).
        max_skips: With ``'skip'``, the most distinct bad samples tolerated before raising.
        lazy_init: Defer reading the annotation file until the first access.
        fuse_augmentation: Run each training run of resizes, random crop and flip as one warp
            per frame (:mod:`~mmaction_ft.datasets.transforms.fusion`): the same random draws
            and keys, pixels within about a grey level, a faster pipeline; a ``RawFrameDecode``
            before such a run decodes JPEG frames at reduced size where its ``Resize`` shrinks
            them twofold or more. ``False`` gives MMAction2's pixels exactly. Evaluation
            pipelines are never changed.
        batch_threads: Threads that load a batch's samples side by side outside dataloader
            workers (:mod:`~mmaction_ft.datasets.batch_loading`); None: up to 4, one per usable
            core. 1 loads one whole sample after another (and draws random numbers sample by
            sample, in MMAction2's order). Workers always load one sample after another.
        **kwargs: Passed to :class:`mmengine.dataset.BaseDataset` (``data_root``, ``metainfo``,
            ``indices``, ``serialize_data``, ``filter_cfg``, ``max_refetch``).
    """

    PREFIX_KEY: str = 'img'
    MODALITIES: Tuple[str, ...] = ('RGB', 'Flow')
    BAD_SAMPLE_OPTIONS: Tuple[str, ...] = ('error', 'skip')
    _num_classes_source: Optional[str] = None  # where num_classes came from, if not the config

    def __init__(
        self,
        ann_file: str,
        pipeline: Sequence[Union[dict, Callable]],
        data_prefix: Union[str, Dict[str, str], None] = None,
        test_mode: bool = False,
        multi_class: bool = False,
        num_classes: Optional[int] = None,
        start_index: int = 0,
        modality: str = 'RGB',
        label_map: Optional[str] = None,
        on_bad_sample: str = 'error',
        max_skips: int = 100,
        lazy_init: bool = False,
        fuse_augmentation: bool = True,
        batch_threads: Optional[int] = None,
        **kwargs: Any,
    ) -> None:
        if modality not in self.MODALITIES:
            raise ValueError(f'modality must be one of {self.MODALITIES}, got {modality!r}')
        if on_bad_sample not in self.BAD_SAMPLE_OPTIONS:
            raise ValueError(
                f'on_bad_sample must be one of {self.BAD_SAMPLE_OPTIONS}, got {on_bad_sample!r}'
            )
        if not isinstance(max_skips, int) or max_skips < 0:
            raise ValueError(f'max_skips must be an int >= 0, got {max_skips!r}')
        if batch_threads is not None and (type(batch_threads) is not int or batch_threads < 1):
            raise ValueError(f'batch_threads must be None or an int >= 1, got {batch_threads!r}')
        self.batch_threads = batch_threads
        if num_classes is not None and (not isinstance(num_classes, int) or num_classes < 1):
            raise ValueError(f'num_classes must be a positive int, got {num_classes!r}')

        self.label_map = label_map
        metainfo = dict(kwargs.pop('metainfo', None) or {})
        if label_map is not None:
            if 'classes' in metainfo:
                raise ValueError('give the class names either as label_map or metainfo.classes')
            metainfo['classes'] = tuple(load_class_names(label_map))
        if 'classes' in metainfo:
            num_names = len(metainfo['classes'])
            source = label_map or 'metainfo.classes'
            if num_classes is None:
                num_classes = num_names
            elif num_classes != num_names:
                raise ValueError(
                    f'num_classes={num_classes} but {source} names {num_names} classes'
                )
        if multi_class and num_classes is None:
            raise ValueError('multi_class=True needs num_classes (or a label_map) to build one-hot')

        self.multi_class = multi_class
        self.num_classes = num_classes
        self.start_index = start_index
        self.modality = modality
        self.on_bad_sample = on_bad_sample
        self.max_skips = max_skips
        self.skipped: List[Tuple[int, str]] = []
        self._bad_indices: set = set()
        # Built here with mmaction_ft's registry (which builds in its own scope unless a project
        # scope is current), so a dataset made in plain Python finds its transforms.
        pipeline = [TRANSFORMS.build(t) if isinstance(t, dict) else t for t in pipeline]
        if fuse_augmentation:
            pipeline = fuse_pipeline(pipeline)
        super().__init__(
            ann_file=ann_file,
            metainfo=metainfo or None,
            data_prefix=self._prefix_dict(data_prefix),
            pipeline=pipeline,
            test_mode=test_mode,
            lazy_init=lazy_init,
            **kwargs,
        )

    def _prefix_dict(self, data_prefix: Union[str, Dict[str, str], None]) -> Dict[str, str]:
        """Accept the 0.x string form and fill in a missing or ``None`` prefix."""
        if data_prefix is None or isinstance(data_prefix, str):
            return {self.PREFIX_KEY: data_prefix or ''}
        prefix = dict(data_prefix)
        if self.PREFIX_KEY not in prefix:
            raise KeyError(
                f'{type(self).__name__} reads data_prefix[{self.PREFIX_KEY!r}], got keys '
                f'{sorted(prefix)}; use data_prefix=dict({self.PREFIX_KEY}=...)'
            )
        prefix[self.PREFIX_KEY] = prefix[self.PREFIX_KEY] or ''
        return prefix

    def join_prefix(self, path: str) -> str:
        """Join a path of the list with the dataset's ``data_prefix``."""
        prefix = self.data_prefix[self.PREFIX_KEY]
        return osp.join(prefix, path) if prefix else path

    # --------------------------------------------------------------------- parsing
    def line_format(self) -> str:
        """The expected line format, quoted in parse errors."""
        raise NotImplementedError

    def parse_line(self, line: str) -> Dict[str, Any]:
        """Turn one stripped, non-blank line into a ``data_info`` dict with a ``label``.

        Raise :class:`LineFormatError` for a malformed line; the caller adds file and line.
        """
        raise NotImplementedError

    def parse_annotation_lines(self) -> Iterator[AnnotationLine]:
        """Parse every non-blank line of ``ann_file`` and check its labels, without raising.

        The one reading of the list: :meth:`load_data_list` raises on the first line with a
        ``problem``; the dataset doctor (:mod:`mmaction_ft.datasets.preparation.doctor`) reports
        them all. A BOM, CRLF line ends and any run of whitespace between fields are accepted
        (see :func:`~mmaction_ft.datasets.annotation.read_lines`).

        Yields:
            One :class:`AnnotationLine` per non-blank line, in file order.

        Raises:
            FileNotFoundError: ``ann_file`` does not exist.
        """
        for lineno, line in read_lines(self.ann_file):
            try:
                info = self.parse_line(line)
            except LineFormatError as err:
                yield AnnotationLine(lineno, line, None, str(err))
                continue
            try:
                self._check_label(info['label'])
            except LineFormatError as err:
                yield AnnotationLine(lineno, line, info, str(err))
                continue
            yield AnnotationLine(lineno, line, info, None)

    def load_data_list(self) -> List[dict]:
        """Parse every line of ``ann_file`` and check its labels."""
        data_list = []
        for parsed in self.parse_annotation_lines():
            if parsed.problem is not None:
                raise AnnotationError(
                    self.ann_file, parsed.lineno, parsed.problem, parsed.text, self.line_format()
                )
            data_list.append(parsed.data_info)
        if not data_list:
            # mmengine would fail later with "need at least one array to concatenate".
            raise ValueError(
                f'annotation list {self.ann_file} holds no samples (the file is empty or has '
                'only blank lines)'
            )
        return data_list

    def check_labels(self, num_classes: int, source: str) -> None:
        """Check every label against a class count the list itself does not give.

        A dataset without ``num_classes`` or ``label_map`` cannot tell a label that is out of
        range for the model; the runner calls this with the head's class count before training
        (``ActionRunner.train``), so such a label fails here, naming the file and line, instead
        of as an ``IndexError`` inside the loss. The list is parsed again for the line numbers.
        Does nothing when the dataset already has a ``num_classes`` (checked while parsing).

        Args:
            num_classes: The class count, which the dataset keeps from now on.
            source: Where it comes from, quoted in errors (``'model.cls_head.num_classes'``).
        """
        if self.adopt_num_classes(num_classes, source):
            self.load_data_list()

    def adopt_num_classes(self, num_classes: int, source: str) -> bool:
        """Range-check labels against ``num_classes`` from now on, if the dataset has no count.

        Args:
            num_classes: The class count (the head's, for training).
            source: Where it comes from, quoted in label errors.

        Returns:
            Whether it was adopted (False when the dataset already has a ``num_classes``).
        """
        if self.num_classes is not None:
            return False
        self.num_classes = num_classes
        self._num_classes_source = source
        return True

    def parse_labels(self, tokens: Sequence[str]) -> Label:
        """Labels of one line: an int (``-1`` when absent) or, multi-label, a list of ints."""
        labels = []
        for token in tokens:
            try:
                labels.append(int(token))
            except ValueError:
                raise LineFormatError(f'label must be an integer, got {token!r}') from None
        if not labels and not self.test_mode:
            raise LineFormatError('the line has no label; only test_mode lists may omit labels')
        if self.multi_class:
            return labels
        if len(labels) > 1:
            raise LineFormatError(
                f'found {len(labels)} labels {labels} but multi_class=False; set '
                'multi_class=True and num_classes for multi-label lists'
            )
        if labels:
            return labels[0]
        return -1  # an unlabelled test list, as in MMAction2

    def _check_label(self, label: Label) -> None:
        if self.multi_class:
            for value in label:  # type: ignore[union-attr]
                self._check_label_value(value, allow_unlabelled=False)
        else:
            # -1 marks an unlabelled line of a test list; a training list must label every line.
            self._check_label_value(label, allow_unlabelled=self.test_mode)  # type: ignore[arg-type]

    def _check_label_value(self, value: int, allow_unlabelled: bool) -> None:
        if value == -1 and allow_unlabelled:
            return
        if value < 0:
            raise LineFormatError(f'labels are 0-based class indices, got {value}')
        if self.num_classes is not None and value >= self.num_classes:
            source = self._num_classes_source
            raise LineFormatError(
                f'label {value} is out of range for num_classes={self.num_classes}'
                f'{f" (from {source})" if source else ""} '
                f'(valid labels are 0..{self.num_classes - 1})'
            )

    # --------------------------------------------------------------------- access
    def get_data_info(self, idx: int) -> dict:
        """The ``idx``-th sample with ``modality``, ``start_index`` and a one-hot multi-label."""
        data_info = super().get_data_info(idx)
        data_info['modality'] = self.modality
        data_info['start_index'] = self.start_index
        if self.multi_class:
            onehot = torch.zeros(self.num_classes, dtype=torch.float32)
            onehot[data_info['label']] = 1.0
            data_info['label'] = onehot
        return data_info

    @property
    def num_skipped(self) -> int:
        """How many times a bad sample was skipped in this process."""
        return len(self.skipped)

    def __getitems__(self, indices: Sequence[int]) -> List[Any]:
        """The samples of a batch (what a ``DataLoader`` asks for). Outside dataloader workers
        their file opening and decoding run side by side on the idle cores
        (:mod:`~mmaction_ft.datasets.batch_loading`; ``batch_threads``); in a worker, with
        ``batch_threads=1``, or in a subclass that loads a sample its own way, one ``self[idx]``
        after another."""
        own_loading = (
            type(self).__getitem__ is not BaseActionDataset.__getitem__
            or type(self).prepare_data is not BaseDataset.prepare_data
        )
        if self.batch_threads == 1 or own_loading or get_worker_info() is not None:
            return [self[idx] for idx in indices]
        if not self._fully_initialized:
            self.full_init()
        return load_batch(self, indices, sample_threads(len(indices), self.batch_threads))

    def __getitem__(self, idx: int) -> dict:
        if self.on_bad_sample == 'error':
            try:
                return super().__getitem__(idx)
            except Exception as exc:
                if hasattr(exc, 'add_note'):  # Python >= 3.11: printed after the message
                    exc.add_note(
                        f'(sample {idx} of {self.ann_file}; to train past samples that fail to '
                        "load, set on_bad_sample='skip' on the dataset: docs/data_preparation.md)"
                    )
                raise
        if not self._fully_initialized:
            self.full_init()
        idx = idx + len(self) if idx < 0 else idx  # one index per sample in the skip records
        while True:
            error: Optional[Exception] = None
            try:
                data = self.prepare_data(idx)
            except Exception as exc:  # a bad file shows up as any error of any transform
                data, error = None, exc
            if data is not None:
                return data
            reason = 'the pipeline returned None' if error is None else _describe(error)
            self._record_skip(idx, reason, error)
            idx = self._draw_replacement(error)

    def _sample_name(self, idx: int) -> str:
        info = self.get_data_info(idx)
        return str(info.get('filename', info.get('frame_dir', '?')))

    def _record_skip(self, idx: int, reason: str, error: Optional[Exception]) -> None:
        self.skipped.append((idx, reason))
        name = self._sample_name(idx)
        if idx in self._bad_indices:
            print_log(
                f'skipped sample {idx} ({name}) again: {reason}',
                logger='current',
                level=logging.INFO,
            )
            return
        self._bad_indices.add(idx)
        print_log(
            f'skipped sample {idx} ({name}) of {self.ann_file}: {reason} '
            f'[{len(self._bad_indices)} bad samples so far, max_skips={self.max_skips}]',
            logger='current',
            level=logging.WARNING,
        )
        if len(self._bad_indices) > self.max_skips:
            first = '\n'.join(f'  sample {i}: {r}' for i, r in self.skipped[:5])
            raise RuntimeError(
                f'{len(self._bad_indices)} samples of {self.ann_file} failed to load, more than '
                f'max_skips={self.max_skips}; the first failures:\n{first}'
            ) from error

    def _draw_replacement(self, error: Optional[Exception]) -> int:
        good = len(self) - len(self._bad_indices)
        if good <= 0:
            raise RuntimeError(f'every sample of {self.ann_file} failed to load') from error
        # Uniform over the samples not known to be bad, from numpy's RNG like mmengine's refetch
        # so seeded workers stay reproducible.
        while True:
            idx = int(np.random.randint(0, len(self)))
            if idx not in self._bad_indices:
                return idx


def _describe(error: Exception) -> str:
    text = str(error).strip().replace('\n', ' | ')
    return f'{type(error).__name__}: {text}' if text else type(error).__name__
