"""The file checks of the dataset doctor: a frame folder, or a video, read as the pipeline reads it.

A rawframes line's folder must hold every frame file the line asks for (both ``x`` and ``y``
files for flow), each decodable by :func:`~mmaction_ft.datasets.frame_files.decode_frame_bytes`,
the decoder of ``RawFrameDecode``; a video must open, and decode to its last frame, with the
:mod:`~mmaction_ft.datasets.video_io` reader of the pipeline's ``*Init`` transform. Each check
returns its problems as ``(kind, message, severity)``; :mod:`.doctor` turns them into issues of
an annotation line (the kinds are listed there).
"""

import os
import os.path as osp
from typing import List, Tuple

from ..frame_files import decode_frame_bytes
from ..transforms.decoding import video_file_path
from ..video_io import DecodeError, open_video
from .frame_extraction import short_error

ERROR = 'error'
WARNING = 'warning'
MAX_NAMED_FRAMES = 3  # corrupt frame files named in one issue

Problem = Tuple[str, str, str]  # (kind, message, severity)


def _frame_names(filename_tmpl: str, index: int, modality: str) -> List[str]:
    """The files RawFrameDecode reads for frame ``index`` (offset included)."""
    if modality == 'Flow':
        return [filename_tmpl.format('x', index), filename_tmpl.format('y', index)]
    return [filename_tmpl.format(index)]


def check_frame_folder(
    folder: str,
    total_frames: int,
    offset: int,
    start_index: int,
    filename_tmpl: str,
    modality: str = 'RGB',
    decode: str = 'full',
    decoding_backend: str = 'cv2',
) -> List[Problem]:
    """Check a folder holds frames ``offset + start_index ... + total_frames - 1``, decodable.

    Args:
        folder: The frame folder (``frame_dir`` of the dataset).
        total_frames: Frames the line says the folder holds.
        offset: Frame offset of the line (``with_offset``), else 0.
        start_index: Index of the first frame file.
        filename_tmpl: Frame file names; flow takes ``('x' | 'y', index)``.
        modality: ``'RGB'`` or ``'Flow'`` (an ``x`` and a ``y`` file per frame).
        decode: ``'full'`` decodes every file as ``RawFrameDecode`` does; ``'header'`` only
            looks them up.
        decoding_backend: Image decoder of ``RawFrameDecode`` (``'cv2'``, ``'pillow'`` ...).

    Returns:
        ``(kind, message, severity)`` for each problem.
    """
    problems: List[Problem] = []
    if total_frames == 0:
        problems.append(('no_frames', f'{folder}: the line says 0 frames', ERROR))
    if not osp.isdir(folder):
        return problems + [('missing', f'frame folder {folder} not found', ERROR)]
    names = set(os.listdir(folder))
    first = offset + start_index
    wanted = [_frame_names(filename_tmpl, first + i, modality) for i in range(total_frames)]
    absent = [name for frame in wanted for name in frame if name not in names]
    if absent:
        present = sum(all(name in names for name in frame) for frame in wanted)
        message = (
            f'{folder}: line says {total_frames} frames, {present} of them exist '
            f'(first missing: {absent[0]})'
        )
        problems.append(('short_folder', message, ERROR))
    elif offset == 0 and total_frames:
        extra = 0
        while all(
            name in names
            for name in _frame_names(filename_tmpl, first + total_frames + extra, modality)
        ):
            extra += 1
        if extra:
            message = (
                f'{folder}: line says {total_frames} frames, folder has {total_frames + extra}'
            )
            problems.append(('extra_frames', message, WARNING))
    if decode == 'full':
        flag = 'grayscale' if modality == 'Flow' else 'color'
        present_files = [name for frame in wanted for name in frame if name in names]
        failures = _undecodable_frames(folder, present_files, flag, decoding_backend)
        if failures:
            shown = '; '.join(failures[:MAX_NAMED_FRAMES])
            if len(failures) > MAX_NAMED_FRAMES:
                shown += f' (+{len(failures) - MAX_NAMED_FRAMES} more)'
            message = f'{len(failures)} of {len(present_files)} frame files fail: {shown}'
            problems.append(('corrupt_frame', message, ERROR))
    return problems


def _undecodable_frames(folder: str, names: List[str], flag: str, backend: str) -> List[str]:
    """The decoder's error for each file of ``names`` that ``RawFrameDecode`` would refuse."""
    failures = []
    for name in names:
        path = osp.join(folder, name)
        try:
            with open(path, 'rb') as f:
                decode_frame_bytes(f.read(), path, flag, backend)
        except (OSError, DecodeError) as exc:
            failures.append(str(exc))
    return failures


def check_video(path: str, decode: str = 'full', backend: str = 'decord') -> List[Problem]:
    """Check a video exists, opens and (``decode='full'``) decodes completely.

    Args:
        path: The video (``filename`` of the dataset; ``.mp4`` is added to a name without
            extension that does not exist, as the decoders do).
        decode: ``'full'`` decodes every frame; ``'header'`` only opens the file.
        backend: The :mod:`~mmaction_ft.datasets.video_io` reader (``'decord'``, ``'pyav'``,
            ``'opencv'``).

    Returns:
        ``(kind, message, severity)`` for each problem.
    """
    path = video_file_path(path)
    if not osp.isfile(path):
        return [('missing', f'video {path} not found', ERROR)]
    if osp.getsize(path) == 0:
        return [('empty_file', f'{path} has 0 bytes', ERROR)]
    try:
        reader = open_video(path, backend)
    except DecodeError as exc:
        return [('undecodable', f'{path} cannot be opened ({_reason(exc)})', ERROR)]
    with reader:
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
