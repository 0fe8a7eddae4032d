"""Frame files to images: end-marker checks, JPEG headers, reduced-size decoding."""

import cv2
import mmcv
import numpy as np
import pytest

from mmaction_ft.datasets.frame_files import decode_frame_bytes, jpeg_size
from mmaction_ft.datasets.video_io import DecodeError


def _gradient(h: int, w: int) -> np.ndarray:
    ys, xs = np.mgrid[0:h, 0:w]
    return np.dstack([xs * 255 // max(w - 1, 1), ys * 255 // max(h - 1, 1), (xs + ys) % 256])


def _jpeg(img: np.ndarray, progressive: bool = False) -> bytes:
    flags = [cv2.IMWRITE_JPEG_QUALITY, 90, cv2.IMWRITE_JPEG_PROGRESSIVE, int(progressive)]
    return cv2.imencode('.jpg', img.astype(np.uint8), flags)[1].tobytes()


def test_decode_frame_bytes_checks_end_markers(tmp_path):
    rgb = np.zeros((32, 32, 3), np.uint8)
    rgb[:, :16] = (250, 10, 10)
    jpeg = cv2.imencode('.jpg', rgb[..., ::-1])[1].tobytes()
    png = cv2.imencode('.png', rgb[..., ::-1])[1].tobytes()
    # Bytes after the end marker (some writers pad files) are not truncation.
    img = decode_frame_bytes(jpeg + b'\x00' * 16, 'a.jpg')
    assert img.shape == (32, 32, 3) and img[0, 0, 0] > 200  # RGB order
    assert np.array_equal(decode_frame_bytes(png, 'a.png'), rgb)
    assert decode_frame_bytes(png, 'a.png', flag='grayscale').shape == (32, 32)
    with pytest.raises(DecodeError, match=r'frame.png is a truncated PNG'):
        decode_frame_bytes(png[:-20], str(tmp_path / 'frame.png'))
    with pytest.raises(DecodeError, match=r'cannot decode frame file .*junk.jpg'):
        decode_frame_bytes(b'\xff\xd8 not really a jpeg \xff\xd9', str(tmp_path / 'junk.jpg'))


@pytest.mark.parametrize('progressive', [False, True])
def test_jpeg_size_reads_the_frame_header(progressive):
    assert jpeg_size(_jpeg(_gradient(37, 50), progressive)) == (37, 50)


def test_jpeg_size_of_other_bytes_is_none():
    png = cv2.imencode('.png', _gradient(8, 8).astype(np.uint8))[1].tobytes()
    assert jpeg_size(png) is None
    assert jpeg_size(b'\xff\xd8\xff') is None  # cut before any header
    assert jpeg_size(b'') is None


@pytest.mark.parametrize('reduction', [2, 4, 8])
def test_reduced_decode_is_opencvs_scaled_decode_in_rgb(reduction):
    content = _jpeg(_gradient(240, 322))
    img = decode_frame_bytes(content, 'f.jpg', reduction=reduction)
    bgr = cv2.imdecode(
        np.frombuffer(content, np.uint8), getattr(cv2, f'IMREAD_REDUCED_COLOR_{reduction}')
    )
    assert img.shape == (-(-240 // reduction), -(-322 // reduction), 3)  # sides rounded up
    np.testing.assert_array_equal(img, bgr[..., ::-1])


def test_reduction_is_refused_where_it_cannot_apply():
    content = _jpeg(_gradient(16, 16))
    with pytest.raises(ValueError, match='reduction=3 needs one of'):
        decode_frame_bytes(content, 'f.jpg', reduction=3)
    with pytest.raises(ValueError, match="flag='grayscale'"):
        decode_frame_bytes(content, 'f.jpg', flag='grayscale', reduction=2)


@pytest.mark.parametrize('ext', ['.jpg', '.png', '.gray.jpg'])
def test_decode_frame_bytes_gives_mmcvs_pixels(ext):
    """The direct RGB decode equals mmcv's decode-then-convert, pixel for pixel."""
    noise = np.random.default_rng(0).integers(0, 256, (24, 32, 3), dtype=np.uint8)
    image = noise[..., 0] if ext == '.gray.jpg' else noise
    content = cv2.imencode(ext[-4:], image)[1].tobytes()
    expected = mmcv.imfrombytes(content, flag='color', channel_order='rgb')
    got = decode_frame_bytes(content, 'frame' + ext)
    assert got.shape == expected.shape == (24, 32, 3)
    assert np.array_equal(got, expected)
    if ext != '.gray.jpg':  # RGB, not BGR
        assert not np.array_equal(got, mmcv.imfrombytes(content, flag='color', channel_order='bgr'))
