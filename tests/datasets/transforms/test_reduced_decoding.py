"""JPEG frames decoded at reduced size where the training pipeline's Resize shrinks them anyway."""

import os

import cv2
import numpy as np
import pytest

from mmaction_ft.datasets.transforms import decoding
from mmaction_ft.datasets.transforms.decoding import RawFrameDecode
from mmaction_ft.datasets.transforms.fusion import FusedGeometry, fuse_pipeline
from mmaction_ft.registry import TRANSFORMS


def _frame(h: int, w: int, seed: int = 0) -> np.ndarray:
    """A smooth RGB frame (blurred noise, like camera footage at this scale)."""
    rng = np.random.default_rng(seed)
    small = rng.integers(0, 256, (max(h // 8, 2), max(w // 8, 2), 3), dtype=np.uint8)
    return cv2.GaussianBlur(cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC), (0, 0), 2)


def _jpeg(img: np.ndarray, progressive: bool = False) -> bytes:
    params = [cv2.IMWRITE_JPEG_QUALITY, 92, cv2.IMWRITE_JPEG_PROGRESSIVE, int(progressive)]
    ok, buf = cv2.imencode('.jpg', img, params)
    assert ok
    return buf.tobytes()


def _folder(tmp_path, h: int, w: int, count: int = 4, ext: str = 'jpg') -> str:
    for i in range(1, count + 1):
        cv2.imwrite(str(tmp_path / f'img_{i:05d}.{ext}'), _frame(h, w, seed=i))
    return str(tmp_path)


def _sample(frame_dir: str, inds=(1, 3)) -> dict:
    return dict(
        frame_dir=frame_dir,
        filename_tmpl='img_{:05d}.jpg',
        frame_inds=np.array(inds),
        modality='RGB',
    )


def _linked(scale=(-1, 256), **resize):
    decode = RawFrameDecode()
    decode.shrink_for = TRANSFORMS.build(dict(type='Resize', scale=scale, **resize))
    return decode


@pytest.mark.parametrize(
    'size, scale, keep_ratio, expected',
    [
        ((720, 1280), (-1, 256), True, 2),  # 360 x 640 still >= 256 x 455
        ((1080, 1920), (-1, 256), True, 4),  # 270 x 480 >= 256 x 455; 1/8 would be 135
        ((2160, 3840), (-1, 128), True, 8),
        ((240, 320), (-1, 256), True, 1),  # the resize enlarges: decode whole
        ((480, 640), (-1, 256), True, 1),  # 240 < 256
        ((720, 1280), (224, 224), False, 2),
        ((719, 1279), (-1, 256), True, 2),  # odd sides: 360 x 640, same 256 x 455 output
    ],
)
def test_reduction_keeps_at_least_the_resize_output(size, scale, keep_ratio, expected):
    decode = _linked(scale, keep_ratio=keep_ratio)
    reduction = decode.reduction_for(size)
    assert reduction == expected
    resize = decode.shrink_for
    reduced = tuple(-(-side // reduction) for side in size)
    assert resize.output_shape(reduced) == resize.output_shape(size)


def test_no_reduction_without_a_linked_resize_or_for_a_float_factor():
    assert RawFrameDecode().reduction_for((1080, 1920)) == 1
    # A factor resizes relative to its input: a smaller decode would give a smaller output.
    assert _linked(0.25).reduction_for((1080, 1920)) == 1
    pillow = _linked()
    pillow.decoding_backend = 'pillow'
    assert pillow.reduction_for((1080, 1920)) == 1


def test_linked_decode_then_resize_matches_decoding_whole(tmp_path):
    frame_dir = _folder(tmp_path, 720, 1280)
    resize = TRANSFORMS.build(dict(type='Resize', scale=(-1, 256)))
    whole = resize(RawFrameDecode()(_sample(frame_dir)))
    linked = _linked()
    decoded = linked(_sample(frame_dir))
    assert decoded['img_shape'] == (360, 640) and decoded['original_shape'] == (720, 1280)
    np.testing.assert_allclose(decoded['scale_factor'], [0.5, 0.5])
    reduced = linked.shrink_for(decoded)
    assert reduced['img_shape'] == whole['img_shape'] == (256, 455)
    np.testing.assert_allclose(reduced['scale_factor'], whole['scale_factor'], rtol=1e-6)
    for a, b in zip(reduced['imgs'], whole['imgs']):
        diff = np.abs(a.astype(int) - b.astype(int))
        # One interpolation of the DCT-scaled frame instead of the full one: about a grey level.
        assert diff.mean() < 1.5 and np.percentile(diff, 99) <= 8


def test_frames_the_resize_enlarges_are_decoded_whole(tmp_path):
    frame_dir = _folder(tmp_path, 240, 320)
    sample = _linked()(_sample(frame_dir))
    assert sample['img_shape'] == sample['original_shape'] == (240, 320)
    assert 'scale_factor' not in sample


def test_keypoints_keep_the_full_frame(tmp_path):
    frame_dir = _folder(tmp_path, 720, 1280)
    sample = _sample(frame_dir)
    sample['keypoint'] = np.zeros((1, 2, 17, 2), np.float32)
    assert _linked()(sample)['img_shape'] == (720, 1280)


def test_training_pipeline_links_decode_to_its_resize_and_evaluation_does_not():
    def built(*steps):
        return [TRANSFORMS.build(step) for step in steps]

    decode, resize = dict(type='RawFrameDecode'), dict(type='Resize', scale=(-1, 256))
    train = fuse_pipeline(
        built(
            decode,
            resize,
            dict(type='MultiScaleCrop', input_size=224, scales=(1, 0.875)),
            dict(type='Resize', scale=(224, 224), keep_ratio=False),
            dict(type='Flip', flip_ratio=0.5),
        )
    )
    assert isinstance(train[1], FusedGeometry)
    assert train[0].shrink_for is train[1].transforms[0]
    evaluation = fuse_pipeline(built(decode, resize, dict(type='CenterCrop', crop_size=224)))
    assert evaluation[0].shrink_for is None


def test_a_png_among_jpegs_is_decoded_whole(tmp_path, monkeypatch):
    frame_dir = _folder(tmp_path, 720, 1280, count=2)
    png = tmp_path / 'img_00003.jpg'  # named .jpg, PNG inside
    ok, buf = cv2.imencode('.png', _frame(720, 1280))
    png.write_bytes(buf.tobytes())
    sizes = {}  # by file: the frames may be decoded on threads, in any order
    real = decoding.decode_frame_bytes

    def record(content, path, flag='color', backend='cv2', reduction=1):
        img = real(content, path, flag, backend, reduction)
        sizes[os.path.basename(path)] = img.shape[:2]
        return img

    monkeypatch.setattr(decoding, 'decode_frame_bytes', record)
    _linked()(_sample(frame_dir, inds=(1, 3)))
    assert sizes == {'img_00001.jpg': (360, 640), 'img_00003.jpg': (720, 1280)}
