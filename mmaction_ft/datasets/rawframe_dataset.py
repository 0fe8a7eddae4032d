"""Videos stored as folders of extracted frames, listed one folder per line."""

from typing import Any, Callable, Dict, Optional, Sequence, Union

from mmaction_ft.registry import DATASETS

from .annotation import LineFormatError, parse_int
from .base import BaseActionDataset


@DATASETS.register_module()
class RawframeDataset(BaseActionDataset):
    """Frame folders listed in a text file, one video per line (MMAction2's format).

    Fields are separated by any run of whitespace; labels are 0-based; blank lines are skipped::

        <frame_dir> <total_frames> <label>
        ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01 121 0

    With ``multi_class=True`` a line holds any number of labels::

        <frame_dir> <total_frames> <label1> <label2> ...
        some/directory-1 163 1 3 5

    With ``with_offset=True`` a line is a clip of a longer video starting at frame ``offset``::

        <frame_dir> <offset> <total_frames> <label>
        some/directory-1 12 163 3

    A line without labels gets label ``-1`` (allowed in test mode only). Frame ``i`` of a sampled
    clip is read from ``frame_dir/filename_tmpl.format(i)`` where ``i`` already includes
    ``start_index`` (+ ``offset``); flow frames use ``filename_tmpl.format('x' | 'y', i)``.

    Each ``data_info`` holds ``frame_dir`` (joined with ``data_prefix``), ``total_frames``,
    ``offset`` (0 without ``with_offset``), ``label``, ``filename_tmpl``, ``start_index``,
    ``modality`` and ``sample_idx``.

    Args:
        ann_file: Path of the annotation list.
        pipeline: Transforms applied to each sample.
        data_prefix: Root of the frame folders: a string or ``dict(img=...)``.
        filename_tmpl: Name of a frame file inside its folder.
        with_offset: Lines carry an ``offset`` field before ``total_frames``.
        multi_class: Lines may carry several labels (needs ``num_classes``).
        num_classes: Number of classes; labels are range-checked when given.
        start_index: Index of the first frame file (``img_00001.jpg`` -> 1).
        modality: ``'RGB'`` or ``'Flow'``.
        test_mode: Build for validation / testing.
        **kwargs: See :class:`BaseActionDataset` (``label_map``, ``on_bad_sample``,
            ``max_skips``, ``lazy_init``, ``data_root`` ...).
    """

    PREFIX_KEY = 'img'

    def __init__(
        self,
        ann_file: str,
        pipeline: Sequence[Union[dict, Callable]],
        data_prefix: Union[str, Dict[str, str], None] = None,
        filename_tmpl: str = 'img_{:05}.jpg',
        with_offset: bool = False,
        multi_class: bool = False,
        num_classes: Optional[int] = None,
        start_index: int = 1,
        modality: str = 'RGB',
        test_mode: bool = False,
        **kwargs: Any,
    ) -> None:
        self.filename_tmpl = filename_tmpl
        self.with_offset = with_offset
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
        fields = '<frame_dir> <total_frames>'
        if self.with_offset:
            fields = '<frame_dir> <offset> <total_frames>'
        labels = '<label1> <label2> ...' if self.multi_class else '<label>'
        return f'{fields} {labels} (whitespace-separated, labels 0-based)'

    def parse_line(self, line: str) -> Dict[str, Any]:
        tokens = line.split()
        num_fixed = 3 if self.with_offset else 2
        if len(tokens) < num_fixed:
            raise LineFormatError(f'expected at least {num_fixed} fields, found {len(tokens)}')
        info: Dict[str, Any] = dict(frame_dir=self.join_prefix(tokens[0]), offset=0)
        if self.with_offset:
            info['offset'] = parse_int(tokens[1], 'offset')
        info['total_frames'] = parse_int(tokens[num_fixed - 1], 'total_frames')
        if info['offset'] < 0 or info['total_frames'] < 0:
            raise LineFormatError('offset and total_frames must be >= 0')
        info['label'] = self.parse_labels(tokens[num_fixed:])
        return info

    def get_data_info(self, idx: int) -> dict:
        data_info = super().get_data_info(idx)
        data_info['filename_tmpl'] = self.filename_tmpl
        return data_info
