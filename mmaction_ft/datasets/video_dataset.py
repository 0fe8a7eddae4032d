"""Videos stored as files (mp4, avi, ...), listed one file per line."""

import re
from typing import Any, Callable, Dict, Optional, Sequence, Union

from mmaction_ft.registry import DATASETS

from .annotation import LineFormatError, is_int
from .base import BaseActionDataset

# A path (which may contain spaces) followed by whitespace and one last field.
_PATH_AND_LAST_FIELD = re.compile(r'^(?P<path>.*?\S)\s+(?P<last>\S+)$')


@DATASETS.register_module()
class VideoDataset(BaseActionDataset):
    """Video files listed in a text file, one video per line (MMAction2's format).

    Labels are 0-based; blank lines are skipped::

        <path> <label>
        some/path/000.mp4 1
        ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 0

    With ``multi_class=True`` a line holds any number of labels::

        <path> <label1> <label2> ...
        some/path/001.mp4 1 3 5

    The label is the last whitespace-separated field, so with a single label the path may contain
    spaces (``my clips/take 2.mp4 3``); a path whose last word is a number would read as a second
    label and is rejected. Multi-label paths must not contain spaces. Fields may be separated by
    any run of whitespace (MMAction2 1.x splits on exactly one space). A line holding only a path
    gets label ``-1`` (allowed in test mode only). The frame count is unknown until a decoder's
    init transform (``DecordInit``, ``PyAVInit``, ``OpenCVInit``) opens the file.

    Each ``data_info`` holds ``filename`` (joined with ``data_prefix``), ``label``,
    ``start_index``, ``modality`` and ``sample_idx``.

    Args:
        ann_file: Path of the annotation list.
        pipeline: Transforms applied to each sample.
        data_prefix: Root of the video files: a string or ``dict(video=...)``.
        multi_class: Lines may carry several labels (needs ``num_classes``).
        num_classes: Number of classes; labels are range-checked when given.
        start_index: Index of the first decoded frame (0 for videos).
        modality: ``'RGB'`` or ``'Flow'``.
        test_mode: Build for validation / testing.
        delimiter: ``None`` splits on any whitespace; a string splits on exactly that string, for
            lists with another separator (MMAction2's ``delimiter`` argument).
        **kwargs: See :class:`BaseActionDataset` (``label_map``, ``on_bad_sample``,
            ``max_skips``, ``lazy_init``, ``data_root`` ...).
    """

    PREFIX_KEY = 'video'

    def __init__(
        self,
        ann_file: str,
        pipeline: Sequence[Union[dict, Callable]],
        data_prefix: Union[str, Dict[str, str], None] = None,
        multi_class: bool = False,
        num_classes: Optional[int] = None,
        start_index: int = 0,
        modality: str = 'RGB',
        test_mode: bool = False,
        delimiter: Optional[str] = None,
        **kwargs: Any,
    ) -> None:
        # MMAction2's default ' ' means "whitespace" to its users; treat it like None.
        if delimiter is not None and (not isinstance(delimiter, str) or delimiter == ''):
            raise ValueError(f'delimiter must be None or a non-empty string, got {delimiter!r}')
        self.delimiter = None if delimiter == ' ' else delimiter
        super().__init__(
            ann_file,
            pipeline,
            data_prefix=data_prefix,
            test_mode=test_mode,
            multi_class=multi_class,
            num_classes=num_classes,
            start_index=start_index,
            modality=modality,
            **kwargs,
        )

    def line_format(self) -> str:
        labels = '<label1> <label2> ...' if self.multi_class else '<label>'
        sep = 'whitespace' if self.delimiter is None else f'{self.delimiter!r}'
        return f'<path> {labels} (fields separated by {sep}, labels 0-based)'

    def parse_line(self, line: str) -> Dict[str, Any]:
        if self.delimiter is not None:
            fields = [field.strip() for field in line.split(self.delimiter)]
            path, labels = fields[0], fields[1:]
        elif self.multi_class:
            path, *labels = line.split()
        else:
            path, labels = self._split_single_label(line)
        if not path:
            raise LineFormatError('the video path is empty')
        return dict(filename=self.join_prefix(path), label=self.parse_labels(labels))

    @staticmethod
    def _split_single_label(line: str):
        """Split ``<path> <label>`` from the right so the path keeps its inner spaces."""
        match = _PATH_AND_LAST_FIELD.match(line)
        if match is None:  # a single field: a path without label
            return line, []
        if not is_int(match['last']):
            raise LineFormatError(f'the last field {match["last"]!r} is not an integer label')
        path_tail = match['path'].split()[-1]
        if is_int(path_tail):
            # `a.mp4 1 3` is a multi-label line, not the path `a.mp4 1`.
            raise LineFormatError(
                'found several integer labels but multi_class=False; set multi_class=True and '
                'num_classes for multi-label lists'
            )
        return match['path'], [match['last']]
