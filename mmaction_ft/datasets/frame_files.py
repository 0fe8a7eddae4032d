"""Frame files (JPEG, PNG ...): their bytes to an RGB image, refusing a cut or broken file.

One decoder for training (:class:`~mmaction_ft.datasets.transforms.decoding.RawFrameDecode`)
and the dataset doctor (:mod:`mmaction_ft.datasets.preparation.doctor`), so both refuse the same
files; the frame-folder counterpart of :mod:`~mmaction_ft.datasets.video_io`. Colour JPEGs can
be decoded at 1/2, 1/4 or 1/8 of their size (libjpeg's DCT scaling, :data:`REDUCTIONS`), their
size read from the header without decoding (:func:`jpeg_size`).
"""

import os.path as osp
from typing import Optional, Tuple

import cv2
import mmcv
import numpy as np

from .video_io import DecodeError

# Signatures and end markers of the two common frame formats. Some cv2 builds decode a JPEG cut
# short as far as its data goes (the rest grey) with only a libjpeg warning on stderr, so a file
# without its end-of-image marker is refused before decoding, whatever the decoder; the marker is
# searched in the last KiB because some writers pad a few bytes after it.
JPEG_START, _JPEG_END = b'\xff\xd8', b'\xff\xd9'
_PNG_START, _PNG_END = b'\x89PNG\r\n\x1a\n', b'IEND'
_END_MARKER_WINDOW = 1024
_IMREAD_COLOR_RGB = getattr(cv2, 'IMREAD_COLOR_RGB', None)  # OpenCV >= 4.10


# Frame header markers (SOF0-SOF15 but DHT C4, JPG C8 and DAC CC) hold height and width; markers
# without a length field: TEM 01 and RST0-7 D0-D7.
_JPEG_SOF = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
_JPEG_NO_LENGTH = frozenset({0x01, *range(0xD0, 0xD8)})
_JPEG_SOS = 0xDA
REDUCTIONS = (8, 4, 2)  # libjpeg's DCT scalings that OpenCV's IMREAD_REDUCED_* flags expose


def jpeg_size(content: bytes) -> Optional[Tuple[int, int]]:
    """``(height, width)`` from a JPEG's frame header, without decoding; None when ``content``
    is not a JPEG or its header cannot be read before the image data."""
    if not content.startswith(JPEG_START):
        return None
    pos, end = 2, len(content)
    while pos + 4 <= end:
        if content[pos] != 0xFF:
            return None
        marker = content[pos + 1]
        if marker == 0xFF:  # fill byte before a marker
            pos += 1
        elif marker in _JPEG_NO_LENGTH:
            pos += 2
        elif marker in _JPEG_SOF:
            if pos + 9 > end:
                return None
            return (
                int.from_bytes(content[pos + 5 : pos + 7], 'big'),
                int.from_bytes(content[pos + 7 : pos + 9], 'big'),
            )
        elif marker == _JPEG_SOS:
            return None
        else:
            pos += 2 + int.from_bytes(content[pos + 2 : pos + 4], 'big')
    return None


def _reduced_flag(reduction: int) -> int:
    """The ``cv2.imdecode`` flag that decodes at ``1 / reduction`` of the size, in RGB where
    OpenCV can (>= 4.10; the caller converts BGR otherwise)."""
    if _IMREAD_COLOR_RGB is not None:
        # IMREAD_REDUCED_GRAYSCALE_k is the bare scaling bit; with COLOR_RGB it decodes RGB.
        return getattr(cv2, f'IMREAD_REDUCED_GRAYSCALE_{reduction}') | _IMREAD_COLOR_RGB
    return getattr(cv2, f'IMREAD_REDUCED_COLOR_{reduction}')


def _shown(path: str) -> str:
    """``path`` as errors name it: absolute for a local file (made only for an error: the
    ``getcwd`` call costs per frame)."""
    return osp.abspath(path) if '://' not in path else path


def decode_frame_bytes(
    content: bytes, path: str, flag: str = 'color', backend: str = 'cv2', reduction: int = 1
) -> np.ndarray:
    """Decode the bytes of one frame file as an RGB (or grayscale) uint8 image.

    Args:
        content: The bytes of the file.
        path: Where they come from, named in errors.
        flag: ``'color'`` (``H x W x 3`` RGB) or ``'grayscale'`` (``H x W``), as
            ``mmcv.imfrombytes``.
        backend: Image decoder of ``mmcv.imfrombytes`` (one of ``IMAGE_BACKENDS``).
        reduction: 2, 4 or 8 decode a colour JPEG at that fraction of its size (each side
            rounded up) with libjpeg's DCT scaling, through OpenCV (``backend='cv2'``): less
            work than the full image. 1 decodes it whole.

    Raises:
        DecodeError: The file is empty, is a JPEG without its end-of-image marker ``FFD9`` or a
            PNG without its ``IEND`` chunk (truncated), or cannot be decoded; the message names
            the file.
    """
    if not content:
        raise DecodeError(f'frame file {_shown(path)} is empty (0 bytes)')
    tail = content[-_END_MARKER_WINDOW:]
    if content.startswith(JPEG_START) and _JPEG_END not in tail:
        raise DecodeError(
            f'frame file {_shown(path)} is a truncated JPEG ({len(content)} bytes, no end-of-image '
            'marker FFD9 at its end)'
        )
    if content.startswith(_PNG_START) and _PNG_END not in tail:
        raise DecodeError(
            f'frame file {_shown(path)} is a truncated PNG ({len(content)} bytes, no IEND chunk '
            'at its end)'
        )
    if reduction != 1 and (reduction not in REDUCTIONS or backend != 'cv2' or flag != 'color'):
        raise ValueError(
            f'reduction={reduction!r} needs one of {REDUCTIONS}, a colour frame and the cv2 '
            f'backend (got flag={flag!r}, backend={backend!r})'
        )
    try:
        if reduction != 1:
            img = cv2.imdecode(np.frombuffer(content, np.uint8), _reduced_flag(reduction))
            if _IMREAD_COLOR_RGB is None and img is not None:
                img = cv2.cvtColor(img, cv2.COLOR_BGR2RGB)
        elif backend == 'cv2' and flag == 'color' and _IMREAD_COLOR_RGB is not None:
            # libjpeg writes RGB directly: no BGR image and conversion pass (mmcv's way).
            img = cv2.imdecode(np.frombuffer(content, np.uint8), _IMREAD_COLOR_RGB)
        else:
            img = mmcv.imfrombytes(content, flag=flag, channel_order='rgb', backend=backend)
    except Exception as err:
        raise DecodeError(f'cannot decode frame file {_shown(path)}: {err}') from err
    if img is None:
        raise DecodeError(f'cannot decode frame file {_shown(path)} ({len(content)} bytes)')
    return img
