"""The one video I/O module: every backend reads the same clip the same way.

The clips are written losslessly (FFV1 in AVI, RGB stored without chroma subsampling), so every
backend must return exactly the frames that were written: no tolerance is needed.
"""

import io
import os
import os.path as osp
import re
import subprocess
import sys

import av
import mmcv
import numpy as np
import pytest

from mmaction_ft.datasets.cut_files import mp4_declared_size
from mmaction_ft.datasets.transforms.decoding import (
    DecordDecode,
    DecordInit,
    OpenCVDecode,
    OpenCVInit,
)
from mmaction_ft.datasets.video_io import (
    BACKENDS,
    DecodeError,
    VideoInfo,
    import_decord,
    iter_video_frames,
    open_video,
    probe_video,
    write_video,
)

NUM_FRAMES, FPS = 7, 25


def write_lossless(path, frames, fps=FPS):
    with av.open(str(path), 'w') as container:
        stream = container.add_stream('ffv1', rate=fps)
        stream.width, stream.height, stream.pix_fmt = frames.shape[2], frames.shape[1], 'bgr0'
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format='rgb24')))
        container.mux(stream.encode())
    return str(path)


def random_frames(width, height=24, seed=0):
    rng = np.random.default_rng(seed)
    return rng.integers(0, 256, (NUM_FRAMES, height, width, 3), dtype=np.uint8)


@pytest.fixture(scope='module')
def clip(tmp_path_factory):
    """A lossless 40 x 24 clip and its frames (40 px: a width decord2 does not pad)."""
    frames = random_frames(40)
    return write_lossless(tmp_path_factory.mktemp('clip') / 'clip.avi', frames), frames


@pytest.fixture(scope='module')
def narrow_clip(tmp_path_factory):
    """A lossless 32 x 24 clip: decord2 pads its rows to 64 px."""
    frames = random_frames(32, seed=1)
    return write_lossless(tmp_path_factory.mktemp('narrow') / 'narrow.avi', frames), frames


@pytest.mark.parametrize('backend', BACKENDS)
def test_every_backend_gives_the_written_frames(clip, backend):
    path, frames = clip
    with open_video(path, backend) as reader:
        assert reader.backend == backend
        np.testing.assert_array_equal(np.stack(reader.read_frames(range(NUM_FRAMES))), frames)
        np.testing.assert_array_equal(np.stack(list(reader.iter_frames())), frames)
        # Reading again after iterating starts from the right place.
        np.testing.assert_array_equal(reader.read_frames([2])[0], frames[2])
    np.testing.assert_array_equal(np.stack(list(iter_video_frames(path, backend))), frames)


@pytest.mark.parametrize('backend', BACKENDS)
def test_probe(clip, backend):
    expected = VideoInfo(num_frames=NUM_FRAMES, fps=float(FPS), width=40, height=24)
    assert probe_video(clip[0], backend) == expected
    with open_video(clip[0], backend) as reader:
        assert len(reader) == NUM_FRAMES and reader.probe() == expected


@pytest.mark.parametrize('backend', BACKENDS)
def test_read_by_index_keeps_order_and_copies_repeats(clip, backend):
    path, frames = clip
    with open_video(path, backend) as reader:
        imgs = reader.read_frames([5, 0, 5, 3])
        assert reader.read_frames([]) == []
    np.testing.assert_array_equal(np.stack(imgs), frames[[5, 0, 5, 3]])
    imgs[0][:] = 0  # an in-place change to one entry must not reach the repeat
    np.testing.assert_array_equal(imgs[2], frames[5])


@pytest.mark.parametrize('backend', BACKENDS)
def test_efficient_mode_returns_one_frame_per_index(clip, backend):
    with open_video(clip[0], backend) as reader:
        imgs = reader.read_frames([0, 4, 6], mode='efficient')
    assert [img.shape for img in imgs] == [(24, 40, 3)] * 3
    np.testing.assert_array_equal(imgs[0], clip[1][0])
    with pytest.raises(ValueError, match='mode'), open_video(clip[0], backend) as reader:
        reader.read_frames([0], mode='fast')


@pytest.mark.parametrize('backend', BACKENDS)
def test_out_of_range_index_names_the_file(clip, backend):
    path, frames = clip
    with open_video(path, backend) as reader:
        with pytest.raises(IndexError, match=rf'\[-1\].*{NUM_FRAMES} frames of .*clip\.avi'):
            reader.read_frames([0, -1])
        if backend == 'pyav':  # MMAction2's PyAVDecode: past the decoded end wraps around
            np.testing.assert_array_equal(reader.read_frames([9])[0], frames[9 % NUM_FRAMES])
        else:
            with pytest.raises(IndexError, match=r'\[7, 9\].*clip\.avi'):
                reader.read_frames([3, 7, 9])


INTER_FRAMES = 40


@pytest.fixture(scope='module', params=['mpeg4', 'h264', 'h264 open gop'])
def inter_clip(request, tmp_path_factory):
    """A lossy 64 x 48 clip with a key frame every 6 frames (B-frames for H.264) and its every
    frame decoded in order: what an accurate read must return, seeking or not."""
    codec = 'mpeg4' if request.param == 'mpeg4' else 'libx264'
    if codec not in av.codecs_available:
        pytest.skip(f'this PyAV build has no {codec} encoder')
    path = str(tmp_path_factory.mktemp('inter') / f'{request.param.replace(" ", "_")}.mp4')
    rng = np.random.default_rng(3)
    with av.open(path, 'w') as container:
        stream = container.add_stream(codec, rate=FPS)
        stream.width, stream.height, stream.pix_fmt = 64, 48, 'yuv420p'
        stream.codec_context.gop_size = 6
        if codec == 'libx264':
            open_gop = '1' if 'open' in request.param else '0'
            stream.options = {'g': '6', 'keyint_min': '6', 'bf': '2', 'open_gop': open_gop}
        for i in range(INTER_FRAMES):
            frame = rng.integers(0, 256, (6, 8, 3), dtype=np.uint8).repeat(8, 0).repeat(8, 1)
            frame[:, i] = 255  # a moving line: neighbouring frames differ
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format='rgb24')))
        container.mux(stream.encode())
    with av.open(path) as container:
        frames = np.stack([f.to_ndarray(format='rgb24') for f in container.decode(video=0)])
    assert len(frames) == INTER_FRAMES
    return path, frames


@pytest.mark.parametrize('backend', BACKENDS)
def test_accurate_reads_equal_a_sequential_decode(inter_clip, backend):
    """TSN's sparse frames and a 3D clip's strided ones, across key frames, in any order."""
    path, frames = inter_clip
    index_sets = [[3, 17, 31], [5, 6, 7, 8, 9, 10, 11, 12], [0, 8, 16, 24, 32], [33, 2, 20, 2]]
    for inds in index_sets:
        with open_video(path, backend) as reader:
            np.testing.assert_array_equal(
                np.stack(reader.read_frames(inds)), frames[inds], err_msg=f'frames {inds}'
            )


def _decord_pads(path):
    """Whether the installed decord2 pads the rows of ``path``'s frames, asked of raw decord, not
    our reader: decord2 3.4.0 padded 32-pixel-wide frames on earlier machines of this kind, not
    on the AVX2 AMD EPYC of 2026-12-07."""
    return import_decord().VideoReader(path)[0].asnumpy().shape[2] != 3


def test_decord_row_padding_is_undone_everywhere(narrow_clip, clip):
    path, frames = narrow_clip
    with open_video(path, 'decord') as reader:
        # Batch decoding is tried first; where decord pads, it fails and frames come one by one.
        np.testing.assert_array_equal(np.stack(reader.read_frames([6, 1, 1])), frames[[6, 1, 1]])
        assert reader.pads_rows == _decord_pads(path)
        assert (reader.width, reader.height) == (32, 24)
        np.testing.assert_array_equal(np.stack(list(reader.iter_frames())), frames)
        # 'efficient' takes a nearby key frame (here decord seeks to frame 0), unpadded too.
        near = reader.read_frames([3], 'efficient')[0]
        assert any(np.array_equal(near, frame) for frame in frames)
    with open_video(clip[0], 'decord') as reader:
        assert not reader.pads_rows
    # The decoding transforms give the same frames (they used to raise DecodeError here).
    results = DecordInit().transform(dict(filename=path))
    results = DecordDecode().transform(dict(results, frame_inds=np.arange(NUM_FRAMES)))
    np.testing.assert_array_equal(np.stack(results['imgs']), frames)
    assert results['img_shape'] == (24, 32)


@pytest.mark.parametrize('backend', BACKENDS)
def test_missing_empty_and_undecodable_files_are_named(tmp_path, backend):
    with pytest.raises(FileNotFoundError, match=re.escape(str(tmp_path / 'nowhere.mp4'))):
        open_video(str(tmp_path / 'nowhere.mp4'), backend)
    (tmp_path / 'empty.mp4').write_bytes(b'')
    with pytest.raises(DecodeError, match=r'0 bytes.*empty\.mp4'):
        open_video(str(tmp_path / 'empty.mp4'), backend)
    (tmp_path / 'garbage.mp4').write_bytes(b'not a video at all' * 64)
    with pytest.raises(DecodeError, match=re.escape(str(tmp_path / 'garbage.mp4'))):
        open_video(str(tmp_path / 'garbage.mp4'), backend)
    with pytest.raises(ValueError, match='backend'):
        open_video(str(tmp_path / 'garbage.mp4'), 'ffmpeg')


@pytest.mark.parametrize('backend', ['decord', 'pyav'])
def test_file_objects_are_read_and_named(clip, backend):
    path, frames = clip
    with open(path, 'rb') as f:
        source = io.BytesIO(f.read())
    with open_video(source, backend, name='s3://bucket/clip.avi') as reader:
        np.testing.assert_array_equal(reader.read_frames([4])[0], frames[4])
        with pytest.raises(IndexError, match='s3://bucket/clip.avi'):
            reader.read_frames([-2])


def test_opencv_reader_is_an_mmcv_video_reader(clip):
    path, frames = clip
    with pytest.raises(TypeError, match='path'):
        open_video(io.BytesIO(b''), 'opencv')
    results = OpenCVInit().transform(dict(filename=path))
    reader = results['video_reader']
    assert isinstance(reader, mmcv.VideoReader)
    assert results['new_path'] == path and results['total_frames'] == len(reader) == NUM_FRAMES
    np.testing.assert_array_equal(reader.get_frame(1), frames[1][..., ::-1])  # mmcv's: BGR
    results = OpenCVDecode().transform(dict(results, frame_inds=np.array([1, 2])))
    np.testing.assert_array_equal(np.stack(results['imgs']), frames[[1, 2]])
    assert results['video_reader'] is None


CUT_FRAMES = 30  # a 32 x 32 MPEG-4 clip with its index (moov) in front, cut at 85 % of its bytes


def write_faststart_mp4(path):
    """Frame i is flat grey level 8 * i, so a decoded frame tells its index (MPEG-4 is lossy)."""
    with av.open(str(path), 'w', options={'movflags': 'faststart'}) as container:
        stream = container.add_stream('mpeg4', rate=FPS)
        stream.width = stream.height = 32
        stream.pix_fmt = 'yuv420p'
        for i in range(CUT_FRAMES):
            frame = np.full((32, 32, 3), 8 * i, np.uint8)
            container.mux(stream.encode(av.VideoFrame.from_ndarray(frame, format='rgb24')))
        container.mux(stream.encode())
    return str(path)


def frame_index(img):
    return int(round(img.mean() / 8))


@pytest.fixture(scope='module')
def cut_mp4(tmp_path_factory):
    """A healthy faststart mp4 and a copy cut at 85 % of its bytes."""
    folder = tmp_path_factory.mktemp('cut')
    full = write_faststart_mp4(folder / 'full.mp4')
    with open(full, 'rb') as f:
        data = f.read()
    assert data.find(b'moov') < data.find(b'mdat')  # the index is in front
    with open(folder / 'cut.mp4', 'wb') as f:
        f.write(data[: int(len(data) * 0.85)])
    return full, str(folder / 'cut.mp4')


@pytest.mark.parametrize('backend', BACKENDS)
def test_a_faststart_mp4_cut_short_is_a_decode_error(cut_mp4, backend):
    # Before the check: PyAV wrapped frames 20..29 around, OpenCV repeated frame 19 (its
    # closest readable one) and decord counted 21 frames, so a clip quietly used other frames.
    full, cut = cut_mp4
    with open_video(full, backend) as reader:
        assert not reader.is_cut and len(reader) == CUT_FRAMES
        assert [frame_index(f) for f in reader.read_frames([0, 19, 29])] == [0, 19, 29]
    with open_video(cut, backend) as reader:
        assert reader.is_cut and len(reader) == CUT_FRAMES  # the header's count
        assert reader.frames_in_file == 20  # frame 20 is only partly in the file
        assert [frame_index(f) for f in reader.read_frames([0, 10, 19])] == [0, 10, 19]
        message = (
            rf'{re.escape(cut)} is cut short: its header promises {CUT_FRAMES} frames but only '
            r'the first 20 are complete in its \d+ bytes, so frames \[20, 29\]'
        )
        with pytest.raises(DecodeError, match=message):
            reader.read_frames([5, 20, 29])
        decoded = []
        with pytest.raises(DecodeError, match=r'cut short.*frames 20\.\.29'):
            decoded.extend(frame_index(f) for f in reader.iter_frames())
        assert decoded == list(range(20))  # the complete frames come first


def test_pyav_refuses_promised_frames_that_do_not_decode(clip):
    # Containers without a per-frame index cannot be checked at open: PyAV checks what decodes.
    path, frames = clip
    with open_video(path, 'pyav') as reader:
        reader._num_frames = NUM_FRAMES + 2  # a header promising two frames more than decode
        with pytest.raises(DecodeError, match=rf'promises 9 frames but only {NUM_FRAMES} decode'):
            reader.read_frames([1, NUM_FRAMES + 1])
        # Past the header's count an index still wraps around, as MMAction2's PyAVDecode.
        np.testing.assert_array_equal(reader.read_frames([9])[0], frames[9 % NUM_FRAMES])


@pytest.mark.parametrize('backend', ['decord', 'pyav'])
def test_a_cut_file_object_is_caught_too(cut_mp4, backend):
    with open(cut_mp4[1], 'rb') as f:
        source = io.BytesIO(f.read())
    with open_video(source, backend, name='s3://bucket/cut.mp4') as reader:
        assert reader.frames_in_file == 20
        with pytest.raises(DecodeError, match=r's3://bucket/cut\.mp4 is cut short'):
            reader.read_frames([25])


def test_the_decoding_transforms_raise_on_a_cut_file(cut_mp4):
    results = DecordInit().transform(dict(filename=cut_mp4[1]))
    assert results['total_frames'] == CUT_FRAMES
    with pytest.raises(DecodeError, match='cut short'):
        DecordDecode().transform(dict(results, frame_inds=np.array([3, 24])))


def test_mp4_declared_size_reads_the_box_headers(cut_mp4, clip):
    full, cut = cut_mp4
    assert mp4_declared_size(full) == os.path.getsize(full)
    assert mp4_declared_size(cut) == os.path.getsize(full) > os.path.getsize(cut)
    assert mp4_declared_size(clip[0]) is None  # AVI: not a box structure


def test_write_video_round_trip(tmp_path):
    frames = np.zeros((4, 32, 48, 3), np.uint8)
    frames[:, :, :, 0] = np.arange(4)[:, None, None] * 60  # red ramps up frame by frame
    write_video(str(tmp_path / 'v.mp4'), frames, fps=10)
    with open_video(str(tmp_path / 'v.mp4'), 'pyav') as reader:
        assert reader.probe() == VideoInfo(4, 10.0, 48, 32)
        decoded = np.stack(reader.read_frames(range(4))).astype(int)
    # MPEG-4 part 2 is lossy: flat colours come back within a few levels.
    assert np.abs(decoded - frames).mean() < 4


SCRIPT = """
from mmaction_ft.datasets.video_io import import_decord
decord = import_decord()
maps = open('/proc/self/maps').read()
print('nvblas' in maps, hasattr(decord, 'VideoReader'))
"""


def test_decord_imports_without_the_blas_interposer():
    # A fresh interpreter: this test process may already hold decord.
    out = subprocess.run(
        [sys.executable, '-c', SCRIPT], capture_output=True, text=True, timeout=120, check=True
    ).stdout.split()
    assert out == ['False', 'True']


def test_decord_is_used_in_one_module_only():
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    pattern = re.compile(r'import decord|decord\.')
    users = set()
    for top in ('mmaction_ft', 'tools'):
        for folder, _, files in os.walk(osp.join(root, top)):
            for name in files:
                if name.endswith('.py'):
                    path = osp.join(folder, name)
                    with open(path, encoding='utf-8') as f:
                        if pattern.search(f.read()):
                            users.add(osp.relpath(path, root))
    assert users == {osp.join('mmaction_ft', 'datasets', 'video_io.py')}


def test_decords_native_error_line_goes_into_the_message_not_the_terminal(tmp_path, capfd):
    bad = tmp_path / 'not_a_video.mp4'
    bad.write_bytes(b'not a video at all')
    with pytest.raises(DecodeError) as info:
        open_video(str(bad), 'decord')
    assert 'ERROR opening' in str(info.value) and 'not_a_video.mp4' in str(info.value)
    assert 'ERROR opening' not in capfd.readouterr().err
