"""Decoding transforms on tiny frame folders and mp4s written by the tests."""

import os.path as osp

import numpy as np
import pytest

from mmaction_ft.datasets.transforms import (
    DecordDecode,
    DecordInit,
    OpenCVDecode,
    OpenCVInit,
    PyAVDecode,
    PyAVInit,
    RawFrameDecode,
    SampleFrames,
)
from mmaction_ft.datasets.video_io import DecodeError

VIDEO_BACKENDS = {
    'decord': (DecordInit, DecordDecode),
    'pyav': (PyAVInit, PyAVDecode),
    'opencv': (OpenCVInit, OpenCVDecode),
}


def frame_results(frame_dir, frame_inds, **extra):
    return dict(
        frame_dir=str(frame_dir),
        filename_tmpl='img_{:05}.jpg',
        modality='RGB',
        frame_inds=np.array(frame_inds),
        **extra,
    )


def decode_video(backend, path, frame_inds, **decode_kwargs):
    init, decode = VIDEO_BACKENDS[backend]
    results = init().transform(dict(filename=str(path)))
    results['frame_inds'] = np.array(frame_inds)
    return decode(**decode_kwargs).transform(results)


# ------------------------------------------------------------------ RawFrameDecode
def test_rawframe_decode_reads_rgb_frames_by_index(tmp_path, make_frames, identify_frame):
    make_frames(tmp_path / 'v', 6)
    results = RawFrameDecode().transform(frame_results(tmp_path / 'v', [1, 4, 6]))
    # frame_inds already include start_index: file img_00004.jpg is fixture frame 3.
    assert [identify_frame(img) for img in results['imgs']] == [0, 3, 5]
    img = results['imgs'][0]
    assert img.dtype == np.uint8 and img.shape == (48, 64, 3)
    assert np.abs(img[0, 0].astype(int) - (20, 200, 100)).max() <= 4  # RGB order, not BGR
    assert results['img_shape'] == results['original_shape'] == (48, 64)


def test_rawframe_decode_adds_offset(tmp_path, make_frames, identify_frame):
    make_frames(tmp_path / 'v', 6)
    results = RawFrameDecode().transform(frame_results(tmp_path / 'v', [1, 2], offset=3))
    assert [identify_frame(img) for img in results['imgs']] == [3, 4]


def test_rawframe_decode_copies_repeated_frames(tmp_path, make_frames):
    make_frames(tmp_path / 'v', 3)
    imgs = RawFrameDecode().transform(frame_results(tmp_path / 'v', [2, 2, 2]))['imgs']
    assert np.array_equal(imgs[0], imgs[2])
    imgs[0][:] = 0  # an in-place transform on one entry must not reach the others
    assert imgs[1].any() and imgs[2].any()


def test_rawframe_decode_missing_frame_names_full_path(tmp_path, make_frames):
    make_frames(tmp_path / 'v', 3)
    with pytest.raises(FileNotFoundError) as err:
        RawFrameDecode().transform(frame_results(tmp_path / 'v', [1, 7]))
    assert osp.join(str(tmp_path / 'v'), 'img_00007.jpg') in str(err.value)


def test_rawframe_decode_corrupt_frame_names_file(tmp_path, make_frames):
    make_frames(tmp_path / 'v', 3)
    (tmp_path / 'v' / 'img_00002.jpg').write_bytes(b'not a jpeg' * 10)
    with pytest.raises(DecodeError, match='img_00002.jpg'):
        RawFrameDecode().transform(frame_results(tmp_path / 'v', [1, 2]))


def test_rawframe_decode_on_threads_gives_the_serial_frames(tmp_path, make_frames):
    make_frames(tmp_path / 'v', 8)
    sample = frame_results(tmp_path / 'v', [8, 1, 5, 5, 2, 7, 3])
    serial = RawFrameDecode(num_threads=1).transform(dict(sample))['imgs']
    threaded = RawFrameDecode(num_threads=3).transform(dict(sample))['imgs']
    assert len(threaded) == 7 and all(np.array_equal(a, b) for a, b in zip(serial, threaded))
    assert 'num_threads=3' in repr(RawFrameDecode(num_threads=3))


def test_rawframe_decode_on_threads_names_the_first_bad_frame_in_order(tmp_path, make_frames):
    make_frames(tmp_path / 'v', 6)
    for name in ('img_00003.jpg', 'img_00005.jpg'):
        (tmp_path / 'v' / name).write_bytes(b'not a jpeg' * 10)
    with pytest.raises(DecodeError, match='img_00003.jpg'):
        RawFrameDecode(num_threads=4).transform(frame_results(tmp_path / 'v', [1, 2, 3, 4, 5, 6]))


@pytest.mark.parametrize('bad', [0, -1, 1.5, True, '2'])
def test_rawframe_decode_num_threads_is_checked(bad):
    with pytest.raises(ValueError, match='RawFrameDecode: num_threads must be None or a positive'):
        RawFrameDecode(num_threads=bad)


@pytest.mark.parametrize('backend', ['cv2', 'pillow'])
def test_rawframe_decode_refuses_truncated_jpeg(tmp_path, make_frames, backend):
    make_frames(tmp_path / 'v', 3)
    path = tmp_path / 'v' / 'img_00002.jpg'
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 2 // 3])  # a copy stopped part way: no FFD9 at the end
    with pytest.raises(DecodeError, match=r'img_00002.jpg is a truncated JPEG'):
        RawFrameDecode(decoding_backend=backend).transform(frame_results(tmp_path / 'v', [1, 2]))
    path.write_bytes(b'')
    with pytest.raises(DecodeError, match=r'img_00002.jpg is empty \(0 bytes\)'):
        RawFrameDecode().transform(frame_results(tmp_path / 'v', [2]))


def test_rawframe_decode_flow_stacks_x_and_y(tmp_path, make_frames):
    make_frames(tmp_path / 'f', 4, tmpl='x_{:05}.jpg')
    make_frames(tmp_path / 'f', 4, tmpl='y_{:05}.jpg')
    results = dict(
        frame_results(tmp_path / 'f', [1, 2, 3]), filename_tmpl='{}_{:05}.jpg', modality='Flow'
    )
    imgs = RawFrameDecode().transform(results)['imgs']
    assert len(imgs) == 3 and imgs[0].shape == (48, 64, 2)


@pytest.mark.parametrize(
    'kwargs', [dict(io_backend='ftp'), dict(decoding_backend='opencv'), dict(mode='x')]
)
def test_decoders_reject_unknown_options(kwargs):
    cls = DecordDecode if 'mode' in kwargs else RawFrameDecode
    with pytest.raises(ValueError, match=next(iter(kwargs))):
        cls(**kwargs)


# ------------------------------------------------------------------ video decoders
@pytest.mark.parametrize('backend', sorted(VIDEO_BACKENDS))
def test_video_init_reads_length_and_fps(backend, tiny_video):
    results = VIDEO_BACKENDS[backend][0]().transform(dict(filename=tiny_video))
    assert results['total_frames'] == 12
    assert results['avg_fps'] == pytest.approx(25.0)
    assert results['video_reader'] is not None


@pytest.mark.parametrize('backend', sorted(VIDEO_BACKENDS))
def test_video_decode_returns_requested_frames(backend, tiny_video, identify_frame):
    results = decode_video(backend, tiny_video, [0, 5, 11, 5])
    assert [identify_frame(img) for img in results['imgs']] == [0, 5, 11, 5]
    assert results['imgs'][0].dtype == np.uint8 and results['imgs'][0].shape == (48, 64, 3)
    assert results['img_shape'] == (48, 64)
    assert results['video_reader'] is None  # released


def test_pyav_decodes_the_same_frames_as_decord(tiny_video):
    inds = [0, 3, 4, 9, 11]
    by_decord = decode_video('decord', tiny_video, inds)['imgs']
    by_pyav = decode_video('pyav', tiny_video, inds)['imgs']
    for a, b in zip(by_decord, by_pyav):
        # Same FFmpeg decoder underneath; allow a rounding difference in the YUV -> RGB step.
        assert np.abs(a.astype(int) - b.astype(int)).max() <= 2


def test_pyav_wraps_indices_past_the_decoded_end(tiny_video, identify_frame):
    # A header may count more frames than decode; such an index wraps: 13 % 12 = 1.
    imgs = decode_video('pyav', tiny_video, [0, 13])['imgs']
    assert [identify_frame(img) for img in imgs] == [0, 1]


def test_decord_efficient_mode_returns_one_frame_per_index(tiny_video):
    imgs = decode_video('decord', tiny_video, [0, 6, 11], mode='efficient')['imgs']
    assert len(imgs) == 3 and all(img.shape == (48, 64, 3) for img in imgs)


def test_video_without_extension_gets_mp4(tmp_path, make_video):
    make_video(str(tmp_path / 'yt_id.mp4'), 5)
    results = DecordInit().transform(dict(filename=str(tmp_path / 'yt_id')))
    assert results['total_frames'] == 5


@pytest.mark.parametrize('backend', sorted(VIDEO_BACKENDS))
def test_missing_video_names_path(backend, tmp_path):
    path = str(tmp_path / 'nowhere' / 'clip.mp4')
    with pytest.raises(FileNotFoundError, match='nowhere/clip.mp4'):
        VIDEO_BACKENDS[backend][0]().transform(dict(filename=path))


@pytest.mark.parametrize('backend', sorted(VIDEO_BACKENDS))
def test_zero_byte_video_names_path(backend, tmp_path):
    path = tmp_path / 'empty.mp4'
    path.write_bytes(b'')
    with pytest.raises(DecodeError, match=r'empty \(0 bytes\).*empty.mp4'):
        VIDEO_BACKENDS[backend][0]().transform(dict(filename=str(path)))


@pytest.mark.parametrize('backend', sorted(VIDEO_BACKENDS))
def test_undecodable_video_names_path(backend, tmp_path):
    path = tmp_path / 'garbage.mp4'
    path.write_bytes(b'this is not a video' * 50)
    with pytest.raises(DecodeError, match='garbage.mp4'):
        VIDEO_BACKENDS[backend][0]().transform(dict(filename=str(path)))


def test_sample_then_decode_pipeline(tiny_video, identify_frame):
    results = DecordInit().transform(dict(filename=tiny_video, start_index=0))
    results = SampleFrames(clip_len=1, num_clips=3, test_mode=True).transform(results)
    results = DecordDecode().transform(results)
    # 12 frames, 3 segments of 4: centres 2, 6, 10.
    assert [identify_frame(img) for img in results['imgs']] == [2, 6, 10]


def test_opencv_init_accepts_0x_num_threads(tiny_video):
    init = OpenCVInit(num_threads=2)  # MMAction2 0.x configs pass it
    assert 'num_threads=2' in repr(init)
    assert init.transform(dict(filename=tiny_video))['total_frames'] == 12
    for bad in (-1, 1.5, '2'):
        with pytest.raises(ValueError, match='OpenCVInit: num_threads must be an int >= 0'):
            OpenCVInit(num_threads=bad)


@pytest.mark.parametrize('bad', [-1, 1.5, '2', True])
def test_decord_init_num_threads_is_checked(bad):
    with pytest.raises(ValueError, match='DecordInit: num_threads must be an int >= 0'):
        DecordInit(num_threads=bad)
