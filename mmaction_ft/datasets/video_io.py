"""Video files in one place: open, probe, read frames by index, iterate, write.

decord, PyAV and OpenCV sit behind one small interface, a reader object per backend with the
same methods (as torchvision's ``io/video_reader.py`` puts its backends behind one
``VideoReader``; the OpenCV reader *is* an ``mmcv.VideoReader``, so MMAction2 code that expects
one keeps working)::

    with open_video('a.mp4', backend='decord') as reader:   # 'decord', 'pyav' or 'opencv'
        len(reader), reader.fps, reader.width, reader.height  # probe_video() gives all four
        reader.read_frames([0, 5, 5, 9])  # H x W x 3 uint8 RGB arrays, in the order asked
        for frame in reader.iter_frames(): ...  # every frame, decoded sequentially

Every error names the file: a missing file is a ``FileNotFoundError``, an empty, unreadable or
frameless one a :class:`DecodeError` (a ``ValueError``), an index outside ``[0, len(reader))``
an ``IndexError``.

Backend quirks, each handled here and nowhere else:

- decord2 3.4 pads rows. For frame widths such as 16, 24, 32, 48, 96 and 144 px decord returns
  each row padded to a multiple of 64 pixels, as an ``H x W x (3 * padded_W / W)`` array, and
  its batch decoder (``get_batch``) fails outright. Policy: when a batch decode fails the
  decord reader looks at one frame; if its rows are padded it decodes that video one frame at
  a time from then on and cuts the padding off (:func:`unpad_rows`). decord then gives the
  same frames as PyAV at every width, only slower (:attr:`DecordReader.pads_rows` tells).
- Not worked around (decord does not tell the codec): decord's accurate reads equal a
  sequential decode for H.264 (B-frames and open GOPs included) and MPEG-4 Part 2, not for
  HEVC, where some frames after a seek differ (in ``get_batch`` and ``reader[i]`` alike) and
  decoding after a seek sometimes fails; PyAV's reads are exact there. Use ``PyAVInit`` /
  ``PyAVDecode`` for HEVC videos.
- decord's import would preload the pip CUDA libraries (:func:`import_decord` hides them).
- A file cut short (an interrupted download or copy) whose index sits at the front, such as an
  MP4 written with ``faststart``: its header still promises every frame, but the last ones are
  not in the file. Left alone, PyAV wraps those indices around, OpenCV repeats the last frame
  that decodes and decord quietly counts fewer frames, so a clip would train on frames it did not
  ask for. Every reader checks, once per open, whether the container's index points past the end
  of the file (PyAV: the last video packet's byte range; decord and OpenCV: the top-level MP4
  boxes' sizes first, which costs a few small reads, and the index only for a cut file; the
  checks are :mod:`~mmaction_ft.datasets.cut_files`).
  ``len(reader)`` is then still the header's count, and reading a frame that is not complete in
  the file, or iterating up to one, raises a :class:`DecodeError` naming the file, the header's
  count and the frames the file holds, so ``on_bad_sample`` decides (error or counted skip).
- Any other header frame count larger than what decodes: PyAV raises the same
  :class:`DecodeError` for an index below the header's count that does not decode and wraps an
  index past the header's count around (``index % frames decoded``, as MMAction2's
  ``PyAVDecode``); OpenCV, whose frame count is an estimate for some containers, takes the
  closest earlier readable frame, as MMAction2's ``OpenCVDecode`` does.
- Containers without a frame count (some webm / mkv) are counted by demuxing their packets
  (PyAV).
"""

import abc
import contextlib
import importlib.util
import os
import os.path as osp
import sys
import tempfile
from dataclasses import dataclass
from types import ModuleType
from typing import Dict, Iterator, List, Optional, Sequence

import cv2
import mmcv
import numpy as np

from .cut_files import (
    Source,
    complete_frames,
    mp4_declared_size,
    probe_cut_mp4,
    source_size,
)

BACKENDS = ('decord', 'pyav', 'opencv')
READ_MODES = ('accurate', 'efficient')


class DecodeError(ValueError):
    """A frame or video file exists but cannot be decoded; the message names the file."""


@dataclass(frozen=True)
class VideoInfo:
    """What a video's header says: frame count, frame rate (None if unknown) and frame size."""

    num_frames: int
    fps: Optional[float]
    width: int
    height: int


def import_decord() -> ModuleType:
    """``import decord``, skipping its preloading of the pip CUDA runtime libraries.

    The ``decord2`` wheel, on import, dlopens every shared library under the pip
    ``nvidia/*/lib`` folders with ``RTLD_GLOBAL`` (cuBLAS, NCCL, nvSHMEM and ``libnvblas``,
    which interposes on BLAS calls). mmaction_ft decodes on the CPU, and those libraries in a
    PyTorch process have crashed torch CPU matmuls here (see docs/compatibility.md). Hiding the
    ``nvidia`` package from decord's loader during the import keeps them out; the CUDA driver
    libraries it also tries are untouched. decord's own log lines are silenced: its errors
    reach the caller as exceptions that name the file.
    """
    if 'decord' in sys.modules:
        return sys.modules['decord']
    import torch  # noqa: F401  (decord must never be the first to load native libraries)

    find_spec = importlib.util.find_spec

    def find_spec_without_nvidia(name, *args, **kwargs):
        return None if name == 'nvidia' else find_spec(name, *args, **kwargs)

    importlib.util.find_spec = find_spec_without_nvidia
    try:
        import decord
    finally:
        importlib.util.find_spec = find_spec
    decord.logging.set_level(decord.logging.QUIET)
    return decord


def check_video_file(path: str) -> None:
    """Fail early, naming the path, for the two commonest broken downloads."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'video not found: {osp.abspath(path)}')
    if os.path.getsize(path) == 0:
        raise DecodeError(f'video file is empty (0 bytes): {osp.abspath(path)}')


def unpad_rows(frame: np.ndarray) -> np.ndarray:
    """Undo decord2's row padding: ``H x W x (3 * padded_W / W)`` back to ``H x W x 3``."""
    height, width, channels = frame.shape
    if channels == 3:
        return frame
    return frame.reshape(height, -1, 3)[:, :width]


def gather_frames(inds: Sequence[int], frames: Dict[int, np.ndarray]) -> List[np.ndarray]:
    """Frames in ``inds`` order; a repeated index gets its own copy, so an in-place transform
    (a flip) on one entry cannot touch another."""
    out, seen = [], set()
    for idx in inds:
        idx = int(idx)
        out.append(frames[idx].copy() if idx in seen else frames[idx])
        seen.add(idx)
    return out


class BaseVideoReader(abc.ABC):
    """The interface every backend's reader has.

    Subclasses implement ``num_frames``, ``fps``, ``width``, ``height``, ``_decode``,
    ``_iter_frames`` and ``close``; indices are checked and errors worded here.

    Args:
        name: The file's absolute path (or another label of an in-memory video) for messages.
    """

    backend = ''
    label = ''  # the decoder's name in messages
    wraps_past_end = False  # PyAV: an index past the end wraps around instead of raising

    def __init__(self, name: str) -> None:
        self.name = name
        # Set when the file is cut short: the frames complete in it, and its size in bytes.
        self.frames_in_file: Optional[int] = None
        self.file_size: Optional[int] = None

    @property
    @abc.abstractmethod
    def num_frames(self) -> int:
        """Frame count from the header."""

    @property
    @abc.abstractmethod
    def fps(self) -> Optional[float]:
        """Average frame rate from the header (None when the container has none)."""

    @property
    @abc.abstractmethod
    def width(self) -> int:
        """Frame width in pixels."""

    @property
    @abc.abstractmethod
    def height(self) -> int:
        """Frame height in pixels."""

    @abc.abstractmethod
    def _decode(self, inds: List[int], mode: str) -> Dict[int, np.ndarray]:
        """RGB frames of the sorted, distinct, in-range ``inds``."""

    @abc.abstractmethod
    def _iter_frames(self) -> Iterator[np.ndarray]:
        """Every frame from the first, RGB."""

    @abc.abstractmethod
    def close(self) -> None:
        """Release the decoder."""

    def __len__(self) -> int:
        return self.num_frames

    @property
    def is_cut(self) -> bool:
        """Whether the file is cut short: its index points past its end (see the module doc)."""
        return self.frames_in_file is not None

    def _cut_error(self, missing: str) -> DecodeError:
        return DecodeError(
            f'{self.name} is cut short: its header promises {self.num_frames} frames but only '
            f'the first {self.frames_in_file} are complete in its {self.file_size} bytes, so '
            f'frames {missing} cannot be decoded (an interrupted download or copy?)'
        )

    def probe(self) -> VideoInfo:
        """Frame count, frame rate and frame size."""
        return VideoInfo(self.num_frames, self.fps, self.width, self.height)

    def read_frames(self, inds: Sequence[int], mode: str = 'accurate') -> List[np.ndarray]:
        """The frames at ``inds`` (0-based, repeats allowed) as ``H x W x 3`` uint8 RGB arrays.

        Args:
            inds: Frame indices, each in ``[0, len(self))`` (PyAV: any index >= 0; one past
                the frames that decode wraps around, as in MMAction2's ``PyAVDecode``).
            mode: ``'accurate'`` decodes exactly the requested frames; ``'efficient'`` seeks
                to each index and takes the next decodable frame, which is faster on long
                videos but may return a nearby key frame instead (OpenCV: always accurate).

        Raises:
            IndexError: An index is outside the video; the message names the file.
            DecodeError: The decoder fails, or an index lies in the missing part of a file cut
                short; the message names the file and the indices.
        """
        if mode not in READ_MODES:
            raise ValueError(f'mode must be one of {READ_MODES}, got {mode!r}')
        inds = np.asarray(inds, dtype=np.int64).reshape(-1)
        if inds.size == 0:
            return []
        end = np.inf if self.wraps_past_end else self.num_frames
        if inds.min() < 0 or inds.max() >= end:
            bad = sorted({int(i) for i in inds if not 0 <= i < end})
            raise IndexError(
                f'frame indices {bad} are outside the {self.num_frames} frames of {self.name}'
            )
        if self.is_cut and inds.max() >= self.frames_in_file:
            raise self._cut_error(str(sorted({int(i) for i in inds if i >= self.frames_in_file})))
        wanted = sorted({int(i) for i in inds})
        try:
            frames = self._decode(wanted, mode)
        except DecodeError:
            raise
        except Exception as err:
            raise DecodeError(
                f'{self.label} cannot decode frames {inds.tolist()} of {self.name}: {err}'
            ) from err
        return gather_frames(inds, frames)

    def iter_frames(self) -> Iterator[np.ndarray]:
        """Every frame from the first, decoded in order, as ``H x W x 3`` uint8 RGB arrays.

        Raises:
            DecodeError: Decoding stops part way, or reaches the missing part of a file cut
                short; the message names the file and the frame.
        """
        count = 0
        frames = self._iter_frames()
        while True:
            if count == self.frames_in_file:  # the next frame is not (wholly) in the file
                raise self._cut_error(f'{count}..{self.num_frames - 1}')
            try:
                frame = next(frames)
            except StopIteration:
                return
            except DecodeError:
                raise
            except Exception as err:
                raise DecodeError(
                    f'{self.label} cannot decode frame {count} of {self.name}: {err}'
                ) from err
            count += 1
            yield frame

    def __enter__(self) -> 'BaseVideoReader':
        return self

    def __exit__(self, *exc_info) -> None:
        self.close()

    def __repr__(self) -> str:
        return f'{type(self).__name__}({self.name!r}, num_frames={self.num_frames})'


@contextlib.contextmanager
def native_stderr() -> Iterator[List[str]]:
    """Collect what native code writes to file descriptor 2 inside the block.

    decord's C++ logs ``ERROR opening: <file>, ...`` straight to the process's stderr before the
    Python exception that says the same; the caller decides what to show. Yields a list that
    holds the collected text (one string) after the block.
    """
    chatter: List[str] = []
    sys.stderr.flush()
    saved = os.dup(2)
    with tempfile.TemporaryFile() as tmp:
        os.dup2(tmp.fileno(), 2)
        try:
            yield chatter
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            tmp.seek(0)
            chatter.append(tmp.read().decode('utf-8', errors='replace'))


class DecordReader(BaseVideoReader):
    """A video decoded by decord (``decord.VideoReader``), with the row padding undone.

    Args:
        source: A path or a binary file object.
        name: The file's name for messages.
        num_threads: Decoder threads (1 suits dataloader workers; 0 lets decord choose).
    """

    backend = 'decord'
    label = 'decord'

    def __init__(self, source: Source, name: str, num_threads: int = 1) -> None:
        super().__init__(name)
        decord = import_decord()
        # decord counts only the frames a cut file holds: keep the header's count to check.
        cut = probe_cut_mp4(source)
        self._header_frames = None
        if cut is not None:
            self._header_frames, self.frames_in_file, self.file_size = cut
        with native_stderr() as chatter:
            try:
                self._reader = decord.VideoReader(source, num_threads=num_threads)
            except Exception as err:
                error = err
            else:
                error = None
        if error is not None:
            # decord's own "ERROR opening: ..." line goes into the message, not onto the terminal.
            native = f' [{chatter[0].strip()}]' if chatter and chatter[0].strip() else ''
            raise DecodeError(f'decord cannot open video {name}: {error}{native}') from error
        if chatter and chatter[0]:
            sys.stderr.write(chatter[0])  # an open that worked: whatever it said is shown
        self._first_shape = None  # decord's shape of frame 0, read on demand

    def _first_frame_shape(self) -> tuple:
        if self._first_shape is None:
            try:
                self._first_shape = self._reader[0].shape
                self._reader.seek(0)
            except Exception as err:
                raise DecodeError(f'decord cannot decode frame 0 of {self.name}: {err}') from err
        return self._first_shape

    @property
    def pads_rows(self) -> bool:
        """Whether decord2 pads this video's rows (then frames are decoded one at a time)."""
        return self._first_frame_shape()[2] != 3

    @property
    def num_frames(self) -> int:
        return self._header_frames or len(self._reader)

    @property
    def fps(self) -> float:
        return float(self._reader.get_avg_fps())

    @property
    def width(self) -> int:
        return int(self._first_frame_shape()[1])

    @property
    def height(self) -> int:
        return int(self._first_frame_shape()[0])

    def _decode(self, inds: List[int], mode: str) -> Dict[int, np.ndarray]:
        if mode == 'efficient':
            frames = {}
            self._reader.seek(0)
            for idx in inds:
                self._reader.seek(idx)
                frames[idx] = unpad_rows(self._reader.next().asnumpy())
            return frames
        if self._first_shape is None or not self.pads_rows:
            try:
                batch = self._reader.get_batch(inds).asnumpy()  # [K, H, W, 3]
                return {idx: unpad_rows(frame) for idx, frame in zip(inds, batch)}
            except Exception:
                if not self.pads_rows:  # a real decoding error, not the padding
                    raise
        # [idx] seeks accurately and decodes one frame: it works where get_batch cannot.
        return {idx: unpad_rows(self._reader[idx].asnumpy()) for idx in inds}

    def _iter_frames(self) -> Iterator[np.ndarray]:
        self._reader.seek(0)
        while True:
            try:
                frame = self._reader.next()
            except StopIteration:
                return
            yield unpad_rows(frame.asnumpy())

    def close(self) -> None:
        """decord has no close: its decoder is freed with the reader object."""


class PyAVReader(BaseVideoReader):
    """A video decoded by PyAV (an ``av`` input container), first video stream.

    Args:
        source: A path or a binary file object.
        name: The file's name for messages.
        multi_thread: Let FFmpeg decode with several threads (may be switched on later).
    """

    backend = 'pyav'
    label = 'PyAV'
    wraps_past_end = True

    def __init__(self, source: Source, name: str, multi_thread: bool = False) -> None:
        import av

        super().__init__(name)
        self.multi_thread = multi_thread
        self._container = None
        try:
            size = source_size(source)
            self._container = av.open(source)
            if not self._container.streams.video:
                raise DecodeError('the file holds no video stream')
            self._stream = self._container.streams.video[0]
            self._num_frames = self._stream.frames
            if size is not None:
                self.frames_in_file = complete_frames(self._stream, size)
            self.file_size = size if self.is_cut else None
            if self._num_frames == 0:  # not in the header: count the video packets
                demux = self._container.demux(self._stream)
                self._num_frames = sum(1 for packet in demux if packet.size)
                self._container.seek(0)
        except Exception as err:
            self.close()
            raise DecodeError(f'PyAV cannot open video {name}: {err}') from err
        self._at_start = True

    @property
    def num_frames(self) -> int:
        return self._num_frames

    @property
    def fps(self) -> Optional[float]:
        rate = self._stream.average_rate
        return float(rate) if rate else None

    @property
    def width(self) -> int:
        return int(self._stream.codec_context.width)

    @property
    def height(self) -> int:
        return int(self._stream.codec_context.height)

    def _frames_from_start(self) -> Iterator:
        if self.multi_thread:
            self._stream.thread_type = 'AUTO'
        if not self._at_start:
            self._container.seek(0)
        self._at_start = False
        return self._container.decode(self._stream)

    def _decode_upto(self, wanted: set) -> tuple:
        """Decode from the start; the wanted frames and how many frames were decoded."""
        frames, count, last = {}, 0, max(wanted)
        for count, frame in enumerate(self._frames_from_start(), start=1):
            if count - 1 in wanted:
                frames[count - 1] = frame.to_ndarray(format='rgb24')
            if count - 1 >= last:
                break
        return frames, count

    def _decode(self, inds: List[int], mode: str) -> Dict[int, np.ndarray]:
        if mode == 'efficient':
            return self._decode_near(inds)
        frames, decoded = self._decode_upto(set(inds))
        missing = set(inds) - frames.keys()
        if missing and not decoded:
            raise DecodeError(f'{self.label} decodes no frame of {self.name}')
        short = sorted(i for i in missing if i < self._num_frames)
        if short:  # the header promised them: a damaged file, not a header quirk
            raise DecodeError(
                f'{self.name}: its header promises {self._num_frames} frames but only '
                f'{decoded} decode, so frames {short} cannot be decoded (a damaged or cut file?)'
            )
        if missing:  # past the header's count: wrap around, as MMAction2's PyAVDecode
            wrapped = {i: i % decoded for i in missing}
            extra, _ = self._decode_upto(set(wrapped.values()))
            frames.update({i: extra[j] for i, j in wrapped.items()})
        return frames

    def _decode_near(self, inds: List[int]) -> Dict[int, np.ndarray]:
        """Seek to the key frame before each index and take the first frame decoded there."""
        frames_per_pts = self._stream.average_rate * self._stream.time_base
        frames, previous = {}, None
        for idx in inds:
            self._container.seek(
                int(idx / frames_per_pts), backward=True, any_frame=False, stream=self._stream
            )
            self._at_start = False
            frame = next(self._container.decode(self._stream), None)
            if frame is not None:
                previous = frame.to_ndarray(format='rgb24')
            if previous is None:
                raise DecodeError(f'no frame of {self.name} decodable at or before index {idx}')
            frames[idx] = previous
        return frames

    def _iter_frames(self) -> Iterator[np.ndarray]:
        for frame in self._frames_from_start():
            yield frame.to_ndarray(format='rgb24')

    def close(self) -> None:
        if self._container is not None:
            self._container.close()
            self._container = None


class OpenCVReader(mmcv.VideoReader, BaseVideoReader):
    """A local video decoded by OpenCV: an ``mmcv.VideoReader`` with the common interface.

    ``mmcv.VideoReader``'s own methods (``get_frame``, ``__iter__``, ...) keep giving BGR
    frames; :meth:`read_frames` and :meth:`iter_frames` give RGB like the other readers.

    Args:
        path: The video file (OpenCV reads from a path only).
        name: The file's name for messages.
        cache_capacity: Frames kept by ``mmcv.VideoReader``'s cache.
    """

    backend = 'opencv'
    label = 'OpenCV'

    def __init__(self, path: str, name: str, cache_capacity: int = 10) -> None:
        BaseVideoReader.__init__(self, name)
        mmcv.VideoReader.__init__(self, path, cache_capacity=cache_capacity)
        if not self.opened or self.frame_cnt <= 0:
            self.close()
            raise DecodeError(f'OpenCV cannot open video {name} (or it has no frames)')
        cut = probe_cut_mp4(path)
        if cut is not None:
            _, self.frames_in_file, self.file_size = cut

    @property
    def num_frames(self) -> int:
        return self.frame_cnt

    def _decode(self, inds: List[int], mode: str) -> Dict[int, np.ndarray]:
        frames = {}
        for idx in inds:
            # OpenCV sometimes cannot read the last frames its header counts: take the closest
            # earlier readable frame, as MMAction2's OpenCVDecode does (a file cut short has
            # been refused before this).
            frame, found = None, idx
            while frame is None and found >= 0:
                frame = self.get_frame(found)
                found -= 1
            if frame is None:
                raise DecodeError(f'OpenCV cannot decode frame {idx} of {self.name}')
            frames[idx] = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        return frames

    def _iter_frames(self) -> Iterator[np.ndarray]:
        for frame in self:  # mmcv.VideoReader.__iter__ rewinds to frame 0
            yield cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)

    def close(self) -> None:
        self.vcap.release()


READERS = {'decord': DecordReader, 'pyav': PyAVReader, 'opencv': OpenCVReader}


def open_video(
    source: Source, backend: str = 'decord', name: Optional[str] = None, **options
) -> BaseVideoReader:
    """Open a video with one of the backends.

    Args:
        source: A path, or (decord, PyAV) a binary file object such as ``io.BytesIO``.
        backend: ``'decord'``, ``'pyav'`` or ``'opencv'``.
        name: How messages name the video; the absolute path of a path source by default.
        **options: Options of the backend's reader: ``num_threads`` (decord),
            ``multi_thread`` (PyAV), ``cache_capacity`` (OpenCV).

    Raises:
        FileNotFoundError: The path does not exist.
        DecodeError: The file is empty, cannot be opened, or has no frames.
    """
    if backend not in BACKENDS:
        raise ValueError(f'backend must be one of {BACKENDS}, got {backend!r}')
    if isinstance(source, (str, os.PathLike)):
        source = str(source)
        check_video_file(source)
        name = name or osp.abspath(source)
    elif backend == 'opencv':
        raise TypeError('OpenCV reads videos from a path only, not from a file object')
    reader = READERS[backend](source, name or '<in-memory video>', **options)
    if len(reader) == 0:
        reader.close()
        raise DecodeError(f'video has no frames: {reader.name}')
    return reader


def probe_video(path: str, backend: str = 'decord') -> VideoInfo:
    """Frame count, frame rate and frame size of a video file."""
    with open_video(path, backend) as reader:
        return reader.probe()


def iter_video_frames(path: str, backend: str = 'decord') -> Iterator[np.ndarray]:
    """Decode a video file sequentially, yielding every frame as an ``H x W x 3`` RGB array."""
    with open_video(path, backend) as reader:
        yield from reader.iter_frames()


def write_video(path: str, frames: np.ndarray, fps: float, fourcc: str = 'mp4v') -> None:
    """Write ``[T, H, W, 3]`` uint8 RGB frames as a video with OpenCV.

    (``mmcv.frames2video`` writes a folder of image files; this writes frames in memory.)
    """
    height, width = frames.shape[1:3]
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*fourcc), fps, (width, height))
    if not writer.isOpened():
        raise RuntimeError(
            f'OpenCV cannot write {path} (no FFMPEG/{fourcc} support in this build?)'
        )
    try:
        for frame in frames:
            writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    finally:
        writer.release()


__all__ = [
    'BACKENDS',
    'BaseVideoReader',
    'DecodeError',
    'DecordReader',
    'OpenCVReader',
    'PyAVReader',
    'VideoInfo',
    'check_video_file',
    'complete_frames',
    'import_decord',
    'iter_video_frames',
    'mp4_declared_size',
    'open_video',
    'probe_cut_mp4',
    'probe_video',
    'source_size',
    'unpad_rows',
    'write_video',
]
