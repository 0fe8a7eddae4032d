"""Decoding: turn sampled ``frame_inds`` into RGB frames, from frame folders or video files.

Video decoding is split like MMAction2's: an ``*Init`` transform opens the file (and sets
``total_frames`` before ``SampleFrames`` needs it), a ``*Decode`` transform reads the sampled
frames and drops the reader. Every error names the file it could not read.
"""

import io
import os.path as osp
from typing import Any, Dict, List, Optional, Sequence, Tuple

import cv2
import mmcv
import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.fileio import get as get_bytes

from mmaction_ft.registry import TRANSFORMS

from ..video_io import DecodeError, gather_frames, open_video

IO_BACKENDS = ('disk', 'petrel', 'http', 'memcached', 'lmdb')
IMAGE_BACKENDS = ('cv2', 'pillow', 'turbojpeg', 'tifffile')


def _check_option(owner: str, name: str, value: Any, allowed: Sequence) -> None:
    if value not in allowed:
        raise ValueError(f'{owner}: {name} must be one of {tuple(allowed)}, got {value!r}')


def _read_file(path: str, io_backend: str, backend_kwargs: dict, what: str) -> bytes:
    """The bytes of ``path``; a missing local file is a FileNotFoundError with its full path."""
    if io_backend == 'disk':
        try:
            with open(path, 'rb') as f:
                return f.read()
        except FileNotFoundError:
            raise FileNotFoundError(f'{what} not found: {osp.abspath(path)}') from None
    return get_bytes(path, backend_args=dict(backend=io_backend, **backend_kwargs))


def _video_source(path: str, io_backend: str, backend_kwargs: dict):
    """What a video reader opens: the local path, or the file's bytes from a backend."""
    if io_backend == 'disk':
        return path
    return io.BytesIO(_read_file(path, io_backend, backend_kwargs, 'video'))


def video_file_path(filename: str) -> str:
    """The file a video decoder opens for ``filename``: MMAction2 lists may omit the extension of
    mp4 files (Kinetics youtube ids), so ``filename + '.mp4'`` when ``filename`` does not exist."""
    if osp.splitext(filename)[1] == '' and not osp.exists(filename):
        return filename + '.mp4'
    return filename


def _frame_inds(results: dict) -> np.ndarray:
    frame_inds = np.asarray(results['frame_inds'])
    if frame_inds.ndim != 1:
        frame_inds = frame_inds.reshape(-1)
        results['frame_inds'] = frame_inds
    return frame_inds


# Signatures and end markers of the two common frame formats. Some cv2 builds decode a JPEG cut
# short as far as its data goes (the rest grey) with only a libjpeg warning on stderr, so a file
# without its end-of-image marker is refused before decoding, whatever the decoder; the marker is
# searched in the last KiB because some writers pad a few bytes after it.
_JPEG_START, _JPEG_END = b'\xff\xd8', b'\xff\xd9'
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
    if not content.startswith(_JPEG_START):
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


def decode_frame_bytes(
    content: bytes, path: str, flag: str = 'color', backend: str = 'cv2', reduction: int = 1
) -> np.ndarray:
    """Decode the bytes of one frame file as an RGB (or grayscale) uint8 image.

    The one frame decoder of training (:class:`RawFrameDecode`) and the dataset doctor
    (:mod:`mmaction_ft.datasets.preparation.doctor`), so both refuse the same files.

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
    name = osp.abspath(path) if '://' not in path else path
    if not content:
        raise DecodeError(f'frame file {name} is empty (0 bytes)')
    tail = content[-_END_MARKER_WINDOW:]
    if content.startswith(_JPEG_START) and _JPEG_END not in tail:
        raise DecodeError(
            f'frame file {name} is a truncated JPEG ({len(content)} bytes, no end-of-image '
            'marker FFD9 at its end)'
        )
    if content.startswith(_PNG_START) and _PNG_END not in tail:
        raise DecodeError(
            f'frame file {name} is a truncated PNG ({len(content)} bytes, no IEND chunk at its end)'
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
        raise DecodeError(f'cannot decode frame file {name}: {err}') from err
    if img is None:
        raise DecodeError(f'cannot decode frame file {name} ({len(content)} bytes)')
    return img


def _set_frames(results: dict, imgs: List[np.ndarray]) -> dict:
    results['imgs'] = imgs
    results['original_shape'] = imgs[0].shape[:2]
    results['img_shape'] = imgs[0].shape[:2]
    return results


@TRANSFORMS.register_module()
class RawFrameDecode(BaseTransform):
    """Read the sampled frames of a frame folder as RGB uint8 images.

    Frame ``i`` of ``frame_inds`` (which already includes ``start_index``) is read from
    ``frame_dir/filename_tmpl.format(i + offset)``; flow reads the grayscale pair
    ``filename_tmpl.format('x', i + offset)`` / ``'y'`` and stacks it into ``H x W x 2``. A frame
    index that repeats (short videos, test-time sampling) is read once and copied. Every file is
    decoded by :func:`decode_frame_bytes`: an empty, truncated or undecodable frame raises a
    :class:`DecodeError` naming the file (so ``on_bad_sample='skip'`` skips the sample).

    In a training pipeline whose ``Resize`` shrinks the frames at least twofold (full-size
    frames to a short side of 256), :func:`~.fusion.fuse_pipeline` links this transform to that
    resize: JPEG frames are then decoded at 1/2, 1/4 or 1/8 of their size by libjpeg's DCT
    scaling (:meth:`reduction_for`), still larger than the resize's output, which stays the
    same size: about 30 % less decoding at half size, and a smaller frame to resize; pixels
    within about a grey level of decoding whole
    (``tests/datasets/transforms/test_reduced_decoding.py``). Evaluation pipelines decode
    whole, as MMAction2.

    Required Keys:
        - frame_dir
        - filename_tmpl
        - frame_inds
        - modality
        - offset (optional, default 0)

    Added Keys:
        - imgs: list of ``H x W x 3`` uint8 RGB arrays (``H x W x 2`` for flow)
        - original_shape: the files' ``(h, w)``
        - img_shape: the decoded frames' ``(h, w)``
        - scale_factor: decoded / original ``[w, h]``, only when decoded at reduced size

    Args:
        io_backend: ``'disk'`` or an mmengine file backend (``'petrel'``, ``'http'`` ...).
        decoding_backend: Image decoder of ``mmcv.imfrombytes``: ``'cv2'``, ``'pillow'``,
            ``'turbojpeg'`` or ``'tifffile'``.
        **kwargs: Arguments of the mmengine file backend.
    """

    def __init__(self, io_backend: str = 'disk', decoding_backend: str = 'cv2', **kwargs) -> None:
        _check_option('RawFrameDecode', 'io_backend', io_backend, IO_BACKENDS)
        _check_option('RawFrameDecode', 'decoding_backend', decoding_backend, IMAGE_BACKENDS)
        self.io_backend = io_backend
        self.decoding_backend = decoding_backend
        self.kwargs = kwargs
        # The Resize that follows, set by fuse_pipeline for training pipelines: JPEG frames are
        # then decoded at 1/2, 1/4 or 1/8 of their size where that still feeds it more pixels
        # than it keeps (see reduction_for).
        self.shrink_for = None

    def reduction_for(self, size: Tuple[int, int]) -> int:
        """The largest DCT scaling (8, 4, 2, else 1) that decodes a ``size`` (``(h, w)``) frame
        to at least what :attr:`shrink_for` resizes it to, and to the same output size: the
        resize still shrinks, from fewer pixels. 1 without such a resize, or for one whose
        output size depends on its input's size (a float factor)."""
        resize = self.shrink_for
        if resize is None or self.decoding_backend != 'cv2' or not resize.size_is_fixed:
            return 1
        target = resize.output_shape(size)
        for reduction in REDUCTIONS:
            reduced = tuple(-(-side // reduction) for side in size)  # libjpeg rounds up
            fits = all(r >= t for r, t in zip(reduced, target))
            if fits and resize.output_shape(reduced) == target:
                return reduction
        return 1

    def _load(self, path: str, flag: str) -> np.ndarray:
        content = _read_file(path, self.io_backend, self.kwargs, 'frame file')
        return decode_frame_bytes(content, path, flag, self.decoding_backend)

    def _plan(self, content: bytes, results: dict) -> Tuple[int, Optional[Tuple[int, int]]]:
        """The reduction for a sample's frames, decided on its first frame (:meth:`reduction_for`;
        1 without a linked resize, for a non-JPEG, or with keypoints, whose coordinates refer to
        the full frame), and that frame's full ``(h, w)`` (None where its header is not read:
        evaluation pipelines do no work for this)."""
        if self.shrink_for is None or 'keypoint' in results:
            return 1, None
        size = jpeg_size(content)
        return (self.reduction_for(size) if size else 1), size

    def transform(self, results: dict) -> dict:
        """Read ``imgs`` for ``frame_inds``."""
        frame_dir = results['frame_dir']
        template = results['filename_tmpl']
        modality = results['modality']
        offset = results.get('offset', 0)
        frames: Dict[int, np.ndarray] = {}
        frame_inds = _frame_inds(results)
        reduction, original = None, None
        for idx in frame_inds:
            idx = int(idx)
            if idx in frames:
                continue
            if modality == 'RGB':
                path = osp.join(frame_dir, template.format(idx + offset))
                content = _read_file(path, self.io_backend, self.kwargs, 'frame file')
                if reduction is None:
                    reduction, original = self._plan(content, results)
                scaled = reduction if content.startswith(_JPEG_START) else 1
                frames[idx] = decode_frame_bytes(
                    content, path, 'color', self.decoding_backend, scaled
                )
            elif modality == 'Flow':
                x = self._load(osp.join(frame_dir, template.format('x', idx + offset)), 'grayscale')
                y = self._load(osp.join(frame_dir, template.format('y', idx + offset)), 'grayscale')
                frames[idx] = np.stack([x, y], axis=-1)
            else:
                raise ValueError(f'RawFrameDecode: modality must be RGB or Flow, got {modality!r}')
        results = _set_frames(results, gather_frames(frame_inds, frames))
        if reduction not in (None, 1):
            # As if decoded whole and resized: the file's size, and the scale so far.
            (h, w), (orig_h, orig_w) = results['img_shape'], original
            results['original_shape'] = original
            results['scale_factor'] = np.array([w / orig_w, h / orig_h], dtype=np.float32)
        return results

    def __repr__(self) -> str:
        return (
            f'{type(self).__name__}(io_backend={self.io_backend!r}, '
            f'decoding_backend={self.decoding_backend!r})'
        )


def _open(backend: str, results: dict, io_backend: str, backend_kwargs: dict, **options):
    """Open ``results['filename']`` with a :mod:`~mmaction_ft.datasets.video_io` reader and
    set ``video_reader``, ``total_frames`` and ``avg_fps``."""
    path = video_file_path(results['filename'])
    source = _video_source(path, io_backend, backend_kwargs)
    reader = open_video(source, backend, name=osp.abspath(path), **options)
    results['video_reader'] = reader
    results['total_frames'] = len(reader)
    results['avg_fps'] = reader.fps
    return results


def _decode(results: dict, mode: str = 'accurate') -> dict:
    """Read the sampled frames from ``results['video_reader']``, then release the reader."""
    reader = results['video_reader']
    try:
        imgs = reader.read_frames(_frame_inds(results), mode)
    finally:
        reader.close()
        results['video_reader'] = None
    return _set_frames(results, imgs)


@TRANSFORMS.register_module()
class DecordInit(BaseTransform):
    """Open a video with decord and record its frame count and frame rate.

    A file name without extension gets ``.mp4`` (as in MMAction2) unless it exists as is.

    Required Keys:
        - filename

    Added Keys:
        - video_reader: a :class:`~mmaction_ft.datasets.video_io.DecordReader`
        - total_frames
        - avg_fps

    Args:
        io_backend: ``'disk'`` (decord reads the file) or an mmengine file backend (the bytes are
            fetched and decoded from memory).
        num_threads: Decoder threads per video (1 suits dataloader workers).
        **kwargs: Arguments of the mmengine file backend.
    """

    def __init__(self, io_backend: str = 'disk', num_threads: int = 1, **kwargs) -> None:
        _check_option('DecordInit', 'io_backend', io_backend, IO_BACKENDS)
        if not isinstance(num_threads, int) or num_threads < 0:
            raise ValueError(f'DecordInit: num_threads must be an int >= 0, got {num_threads!r}')
        self.io_backend = io_backend
        self.num_threads = num_threads
        self.kwargs = kwargs

    def transform(self, results: dict) -> dict:
        """Open ``filename``; set ``video_reader``, ``total_frames`` and ``avg_fps``."""
        return _open('decord', results, self.io_backend, self.kwargs, num_threads=self.num_threads)

    def __repr__(self) -> str:
        return (
            f'{type(self).__name__}(io_backend={self.io_backend!r}, num_threads={self.num_threads})'
        )


@TRANSFORMS.register_module()
class DecordDecode(BaseTransform):
    """Read the sampled frames from the decord reader opened by :class:`DecordInit`.

    Frame widths that decord2 pads (16, 24, 32, 48, 96, 144 px ...) are decoded one frame at a
    time and unpadded (see :mod:`~mmaction_ft.datasets.video_io`), so they give PyAV's frames.

    Required Keys:
        - video_reader
        - frame_inds

    Added Keys:
        - imgs: list of ``H x W x 3`` uint8 RGB arrays
        - original_shape
        - img_shape

    Modified Keys:
        - video_reader: set to ``None`` (the reader is released)

    Args:
        mode: ``'accurate'`` decodes exactly the requested frames; ``'efficient'`` seeks to each
            index and takes the next decodable frame, which is faster on long videos but may
            return a nearby key frame instead.
    """

    def __init__(self, mode: str = 'accurate') -> None:
        _check_option('DecordDecode', 'mode', mode, ('accurate', 'efficient'))
        self.mode = mode

    def transform(self, results: dict) -> dict:
        """Decode ``imgs`` for ``frame_inds``."""
        return _decode(results, self.mode)

    def __repr__(self) -> str:
        return f'{type(self).__name__}(mode={self.mode!r})'


@TRANSFORMS.register_module()
class PyAVInit(BaseTransform):
    """Open a video with PyAV and record its frame count and frame rate.

    ``total_frames`` is the container's frame count; when the container does not store one
    (some webm / mkv files) the video packets are counted instead.

    Required Keys:
        - filename

    Added Keys:
        - video_reader: a :class:`~mmaction_ft.datasets.video_io.PyAVReader`
        - total_frames
        - avg_fps

    Args:
        io_backend: ``'disk'`` or an mmengine file backend.
        **kwargs: Arguments of the mmengine file backend.
    """

    def __init__(self, io_backend: str = 'disk', **kwargs) -> None:
        _check_option('PyAVInit', 'io_backend', io_backend, IO_BACKENDS)
        self.io_backend = io_backend
        self.kwargs = kwargs

    def transform(self, results: dict) -> dict:
        """Open ``filename``; set ``video_reader``, ``total_frames`` and ``avg_fps``."""
        return _open('pyav', results, self.io_backend, self.kwargs)

    def __repr__(self) -> str:
        return f'{type(self).__name__}(io_backend={self.io_backend!r})'


@TRANSFORMS.register_module()
class PyAVDecode(BaseTransform):
    """Read the sampled frames from the PyAV reader opened by :class:`PyAVInit`.

    ``'accurate'`` decodes from the start up to the largest index and keeps the requested frames
    (the same frames decord returns). If the video turns out shorter than its header said, an
    index past the end wraps around (``index % decoded frames``), as in MMAction2.

    Required Keys:
        - video_reader
        - frame_inds

    Added Keys:
        - imgs: list of ``H x W x 3`` uint8 RGB arrays
        - original_shape
        - img_shape

    Modified Keys:
        - video_reader: set to ``None`` (the container is closed)

    Args:
        multi_thread: Let FFmpeg decode with several threads.
        mode: ``'accurate'`` or ``'efficient'`` (seek to the key frame before each index and take
            the first frame decoded there: fast, approximate).
    """

    def __init__(self, multi_thread: bool = False, mode: str = 'accurate') -> None:
        _check_option('PyAVDecode', 'mode', mode, ('accurate', 'efficient'))
        self.multi_thread = multi_thread
        self.mode = mode

    def transform(self, results: dict) -> dict:
        """Decode ``imgs`` for ``frame_inds`` and close the container."""
        if self.multi_thread:
            results['video_reader'].multi_thread = True
        return _decode(results, self.mode)

    def __repr__(self) -> str:
        return f'{type(self).__name__}(multi_thread={self.multi_thread}, mode={self.mode!r})'


@TRANSFORMS.register_module()
class OpenCVInit(BaseTransform):
    """Open a local video with OpenCV and record its frame count and frame rate.

    Required Keys:
        - filename

    Added Keys:
        - video_reader: an ``mmcv.VideoReader`` (a
          :class:`~mmaction_ft.datasets.video_io.OpenCVReader`), as in MMAction2
        - new_path: the path OpenCV reads (the file itself: only local files are read)
        - total_frames
        - avg_fps

    Args:
        io_backend: Only ``'disk'``: OpenCV reads from a path.
        num_threads: Accepted, so MMAction2 0.x configs (``OpenCVInit(num_threads=1)``) load,
            and checked to be an int >= 0, but not applied: OpenCV's video capture chooses its
            own FFmpeg decoding threads, and ``cv2.setNumThreads`` would change OpenCV's thread
            pool for the whole process (every later resize and flip), not for this video.
    """

    def __init__(self, io_backend: str = 'disk', num_threads: int = 1) -> None:
        _check_option('OpenCVInit', 'io_backend', io_backend, ('disk',))
        if not isinstance(num_threads, int) or isinstance(num_threads, bool) or num_threads < 0:
            raise ValueError(f'OpenCVInit: num_threads must be an int >= 0, got {num_threads!r}')
        self.io_backend = io_backend
        self.num_threads = num_threads

    def transform(self, results: dict) -> dict:
        """Open ``filename``; set ``video_reader``, ``new_path``, ``total_frames``, ``avg_fps``."""
        results = _open('opencv', results, self.io_backend, {})
        results['new_path'] = video_file_path(results['filename'])
        return results

    def __repr__(self) -> str:
        return (
            f'{type(self).__name__}(io_backend={self.io_backend!r}, num_threads={self.num_threads})'
        )


@TRANSFORMS.register_module()
class OpenCVDecode(BaseTransform):
    """Read the sampled frames from the OpenCV reader opened by :class:`OpenCVInit`.

    Frames are read in increasing order, seeking only when an index is not the next frame. OpenCV
    sometimes cannot read the last frames its header counts; such an index falls back to the
    closest earlier readable frame, as in MMAction2.

    Required Keys:
        - video_reader
        - frame_inds

    Added Keys:
        - imgs: list of ``H x W x 3`` uint8 RGB arrays
        - original_shape
        - img_shape

    Modified Keys:
        - video_reader: set to ``None`` (the capture is released)
    """

    def transform(self, results: dict) -> dict:
        """Decode ``imgs`` for ``frame_inds`` and release the capture."""
        return _decode(results)

    def __repr__(self) -> str:
        return f'{type(self).__name__}()'


@TRANSFORMS.register_module()
class ArrayDecode(BaseTransform):
    """Pick the sampled frames from a ``[T, H, W, C]`` array of frames already in memory.

    MMAction2's transform of the same name, used for inference on frames that are not a file.
    ``array`` may also be any object that supports ``len()`` and indexing with an int64 array of
    frame indices (``array[inds] -> [len(inds), H, W, C]``), so a window of a long video can be
    decoded lazily, only the sampled frames (see :mod:`mmaction_ft.apis.timeline`).

    Required Keys:
        - array: ``[T, H, W, 3]`` uint8 RGB frames (``[T, H, W, 2]`` for flow)
        - frame_inds
        - modality
        - offset (optional, default 0)

    Added Keys:
        - imgs: list of ``H x W x C`` arrays
        - original_shape
        - img_shape
    """

    def transform(self, results: dict) -> dict:
        """Set ``imgs`` to ``array[frame_inds + offset]``."""
        if results.get('modality', 'RGB') not in ('RGB', 'Flow'):
            raise ValueError(
                f'ArrayDecode: modality must be RGB or Flow, got {results["modality"]}'
            )
        array = results['array']
        frame_inds = _frame_inds(results) + results.get('offset', 0)
        unique = np.unique(frame_inds).astype(np.int64)
        if unique[0] < 0 or unique[-1] >= len(array):
            raise IndexError(
                f'ArrayDecode: frame indices {unique[0]}..{unique[-1]} are outside the '
                f'{len(array)} frames of the array'
            )
        picked = array[unique]  # [len(unique), H, W, C]; one read per distinct frame
        frames = {int(i): np.asarray(picked[j]) for j, i in enumerate(unique)}
        return _set_frames(results, gather_frames(frame_inds, frames))

    def __repr__(self) -> str:
        return f'{type(self).__name__}()'
