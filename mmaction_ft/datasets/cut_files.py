"""Video files cut short: what a container's header promises against what the file holds.

An interrupted download or copy of an MP4 whose index sits at the front (``faststart``) keeps a
header that promises every frame while the last ones are missing. The readers of
:mod:`~mmaction_ft.datasets.video_io` ask these functions, once per open, whether that is the
case and how many frames are complete (its module doc says what each reader then does).
"""

import os
import struct
from typing import IO, Optional, Tuple, Union

Source = Union[str, IO[bytes]]  # a path, or a binary file object (bytes from a file backend)

# Top-level box types an ISO base media file (MP4, MOV, M4V, 3GP) may start with.
_MP4_FIRST_BOXES = (b'ftyp', b'moov', b'mdat', b'free', b'skip', b'wide', b'pnot')


def source_size(source: Source) -> Optional[int]:
    """Bytes of a path or of a binary file object (its position is kept); None if unseekable."""
    if isinstance(source, str):
        return os.path.getsize(source)
    if not (hasattr(source, 'seekable') and source.seekable()):
        return None
    position = source.tell()
    try:
        return source.seek(0, os.SEEK_END)
    finally:
        source.seek(position)


def mp4_declared_size(source: Source) -> Optional[int]:
    """Where an MP4 / MOV file's top-level boxes say it ends (None for other containers).

    Reads only the 8 or 16 byte header of each top-level box (``ftyp``, ``moov``, ``mdat``,
    ...), so it costs a few small reads whatever the file's size; a file cut short declares more
    bytes than it holds.
    """
    f = open(source, 'rb') if isinstance(source, str) else source
    start = f.tell() if f is source else 0
    try:
        f.seek(0, os.SEEK_END)
        size, pos = f.tell(), 0
        while pos + 8 <= size:
            f.seek(pos)
            header = f.read(16)
            box_size, box_type = struct.unpack('>I4s', header[:8])
            if pos == 0 and box_type not in _MP4_FIRST_BOXES:
                return None
            if box_size == 1 and len(header) == 16:  # a 64-bit size follows the type
                box_size = struct.unpack('>Q', header[8:])[0]
            elif box_size == 0:  # the last box runs to the end of the file
                return size
            if box_size < 8:
                return None  # not a box structure we understand: no claim
            pos += box_size
        return pos
    finally:
        if f is source:
            f.seek(start)
        else:
            f.close()


def complete_frames(stream, size: int) -> Optional[int]:
    """How many video packets of a PyAV stream's index lie wholly within ``size`` bytes.

    None when the file holds them all, or when the container keeps no index entry per frame
    (Matroska's cues list key frames only), so nothing can be told before decoding. Only the
    last entry is looked at for a complete file.
    """
    entries = stream.index_entries
    count = len(entries)
    if count == 0 or count != stream.frames:
        return None
    last = entries[count - 1]
    if last.pos < 0 or last.pos + last.size <= size:
        return None
    return sum(
        1 for i in range(count) if 0 <= entries[i].pos and entries[i].pos + entries[i].size <= size
    )


def probe_cut_mp4(source: Source) -> Optional[Tuple[int, int, int]]:
    """``(header frames, complete frames, file bytes)`` of an MP4 / MOV file cut short, else None.

    For the decord and OpenCV readers, which do not expose the container's index: the box sizes
    tell first, cheaply, whether the file is cut; only then PyAV reads the index.
    """
    size = source_size(source)
    if size is None:
        return None
    declared = mp4_declared_size(source)
    if declared is None or declared <= size:
        return None
    import av

    start = None if isinstance(source, str) else source.tell()
    try:
        with av.open(source) as container:
            if not container.streams.video:
                return None
            stream = container.streams.video[0]
            complete = complete_frames(stream, size)
            return None if complete is None else (stream.frames, complete, size)
    except Exception:  # the backend's own open reports an unreadable file
        return None
    finally:
        if start is not None:
            source.seek(start)
