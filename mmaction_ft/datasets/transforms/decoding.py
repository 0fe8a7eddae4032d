"""Decoding: turn sampled ``frame_inds`` into RGB frames, from frame folders or video files.

Video decoding is split like MMAction2's: an ``*Init`` transform opens the file (and sets
``total_frames`` before ``SampleFrames`` needs it), a ``*Decode`` transform reads the sampled
frames and drops the reader. Every error names the file it could not read.
"""

import io
import os.path as osp
from typing import Any, List, Optional, Sequence, Tuple

import numpy as np
from mmcv.transforms import BaseTransform
from mmengine.fileio import get as get_bytes

from mmaction_ft.registry import TRANSFORMS
from mmaction_ft.utils.threads import map_in_threads, sample_threads

from ..frame_files import JPEG_START, REDUCTIONS, decode_frame_bytes, jpeg_size
from ..video_io import DecodeError, gather_frames, open_video  # noqa: F401 (its old path)

IO_BACKENDS = ('disk', 'petrel', 'http', 'memcached', 'lmdb')
IMAGE_BACKENDS = ('cv2', 'pillow', 'turbojpeg', 'tifffile')


def _reads_local_files(transform: BaseTransform) -> bool:
    """``batch_parallel`` of the transforms that read files (see ``batch_loading``): they draw
    no random number and keep nothing between calls, so samples may load side by side, from
    local files; other file backends may not be thread-safe."""
    return transform.io_backend == 'disk'


def _check_option(owner: str, name: str, value: Any, allowed: Sequence) -> None:
    if value not in allowed:
        raise ValueError(f'{owner}: {name} must be one of {tuple(allowed)}, got {value!r}')


def _check_count(owner: str, name: str, value: Any, minimum: int, none_ok: bool = False) -> None:
    """``value`` must be an int (not a bool) >= ``minimum``, or None where ``none_ok``."""
    if none_ok and value is None:
        return
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        wanted = 'a positive int' if minimum == 1 else f'an int >= {minimum}'
        wanted = f'None or {wanted}' if none_ok else wanted
        raise ValueError(f'{owner}: {name} must be {wanted}, got {value!r}')


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

    Outside dataloader workers (``num_workers=0``, prediction) the frames of a sample are read
    and decoded on up to 4 threads, one per core (:mod:`mmaction_ft.utils.threads`); workers,
    already parallel, decode one frame after another, as does a sample loaded on a thread beside
    others of its batch (:mod:`~mmaction_ft.datasets.batch_loading`). Same frames either way.

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
        num_threads: Threads that read and decode a sample's frames (local files); None
            chooses (see above), 1 reads them one by one in any process. Inside a batch's
            thread always 1.
        **kwargs: Arguments of the mmengine file backend.
    """

    batch_parallel = property(_reads_local_files)

    def __init__(
        self,
        io_backend: str = 'disk',
        decoding_backend: str = 'cv2',
        num_threads: Optional[int] = None,
        **kwargs,
    ) -> None:
        _check_option('RawFrameDecode', 'io_backend', io_backend, IO_BACKENDS)
        _check_option('RawFrameDecode', 'decoding_backend', decoding_backend, IMAGE_BACKENDS)
        _check_count('RawFrameDecode', 'num_threads', num_threads, 1, none_ok=True)
        self.io_backend = io_backend
        self.decoding_backend = decoding_backend
        self.num_threads = num_threads
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

    @staticmethod
    def _path(results: dict, idx: int, axis: Optional[str] = None) -> str:
        """The file of frame ``idx`` (of flow component ``axis``, ``'x'`` or ``'y'``)."""
        number = idx + results.get('offset', 0)
        template = results['filename_tmpl']
        name = template.format(number) if axis is None else template.format(axis, number)
        return osp.join(results['frame_dir'], name)

    def _read(self, path: str) -> bytes:
        return _read_file(path, self.io_backend, self.kwargs, 'frame file')

    def _load(self, path: str, flag: str) -> np.ndarray:
        return decode_frame_bytes(self._read(path), path, flag, self.decoding_backend)

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
        modality = results['modality']
        if modality not in ('RGB', 'Flow'):
            raise ValueError(f'RawFrameDecode: modality must be RGB or Flow, got {modality!r}')
        frame_inds = _frame_inds(results)
        unique = list(dict.fromkeys(int(idx) for idx in frame_inds))
        reduction, original, first = None, None, None
        if modality == 'RGB' and unique:
            # The first frame decides the reduction of all (see _plan).
            first = self._read(self._path(results, unique[0]))
            reduction, original = self._plan(first, results)

        def load(idx: int) -> np.ndarray:
            if modality == 'Flow':
                x, y = (self._load(self._path(results, idx, axis), 'grayscale') for axis in 'xy')
                return np.stack([x, y], axis=-1)
            path = self._path(results, idx)
            content = first if idx == unique[0] else self._read(path)
            scaled = reduction if content.startswith(JPEG_START) else 1
            return decode_frame_bytes(content, path, 'color', self.decoding_backend, scaled)

        # Other file backends (object stores, databases) may not be thread-safe: one by one.
        threads = sample_threads(len(unique), self.num_threads) if self.io_backend == 'disk' else 1
        frames = dict(zip(unique, map_in_threads(load, unique, threads)))
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
            f'decoding_backend={self.decoding_backend!r}, num_threads={self.num_threads!r})'
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

    batch_parallel = property(_reads_local_files)

    def __init__(self, io_backend: str = 'disk', num_threads: int = 1, **kwargs) -> None:
        _check_option('DecordInit', 'io_backend', io_backend, IO_BACKENDS)
        _check_count('DecordInit', 'num_threads', num_threads, 0)
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

    batch_parallel = True  # no random draw, nothing kept between calls

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

    batch_parallel = property(_reads_local_files)

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

    batch_parallel = True  # no random draw, nothing kept between calls

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

    batch_parallel = property(_reads_local_files)

    def __init__(self, io_backend: str = 'disk', num_threads: int = 1) -> None:
        _check_option('OpenCVInit', 'io_backend', io_backend, ('disk',))
        _check_count('OpenCVInit', 'num_threads', num_threads, 0)
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

    batch_parallel = True  # no random draw, nothing kept between calls

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
