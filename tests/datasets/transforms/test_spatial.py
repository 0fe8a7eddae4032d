"""Spatial transforms: exact pixels on coordinate frames, MMAction2 semantics, validation."""

import random

import numpy as np
import pytest
from mmengine.registry import DefaultScope

from mmaction_ft.datasets.transforms import (
    CenterCrop,
    ColorJitter,
    Flip,
    MultiScaleCrop,
    Resize,
)
from mmaction_ft.registry import TRANSFORMS


def coord_frames(h: int, w: int, n: int = 2) -> list:
    """Frames whose pixel (y, x) of frame i holds (y, x, i), so a crop shows where it came from."""
    ys, xs = np.mgrid[:h, :w]
    return [np.stack([ys, xs, np.full_like(ys, i)], axis=-1).astype(np.uint8) for i in range(n)]


def results_of(h: int, w: int, n: int = 2, **extra) -> dict:
    return dict(imgs=coord_frames(h, w, n), modality='RGB', **extra)


def seed(value: int) -> None:
    random.seed(value)
    np.random.seed(value)


# ----------------------------------------------------------------------------- Resize


@pytest.mark.parametrize(
    'shape, scale, expected',
    [
        ((240, 320), (-1, 256), (256, 341)),  # 320 * 256 / 240 = 341.3 -> 341
        ((320, 240), (-1, 256), (341, 256)),
        ((240, 320), (256, -1), (256, 341)),  # MMAction2: the -1 may come first
        ((240, 320), (340, 256), (255, 340)),  # (long, short) bound: the long side binds
        ((240, 320), 0.5, (120, 160)),
    ],
)
def test_resize_keep_ratio(shape, scale, expected):
    out = Resize(scale)(results_of(*shape))
    assert out['img_shape'] == expected
    assert all(img.shape == (*expected, 3) for img in out['imgs'])
    assert out['keep_ratio'] is True
    h, w = shape
    np.testing.assert_allclose(out['scale_factor'], [expected[1] / w, expected[0] / h], rtol=1e-6)


def test_resize_fixed_size_is_w_h():
    out = Resize((112, 64), keep_ratio=False)(results_of(240, 320))
    assert out['img_shape'] == (64, 112)
    assert out['imgs'][0].shape == (64, 112, 3)
    assert out['keep_ratio'] is False


def test_resize_nearest_upsample_repeats_pixels():
    out = Resize((8, 6), keep_ratio=False, interpolation='nearest')(results_of(3, 4))
    img = out['imgs'][1]
    assert (img[::2, ::2] == coord_frames(3, 4)[1]).all()
    assert (img[1::2, 1::2] == coord_frames(3, 4)[1]).all()


def test_resize_scale_factor_accumulates_and_img_shape_is_read_from_results():
    results = results_of(240, 320)
    results = Resize((-1, 120))(results)  # x 0.5
    results = Resize((80, 60), keep_ratio=False)(results)  # x 0.5 again
    np.testing.assert_allclose(results['scale_factor'], [0.25, 0.25])
    assert results['scale_factor'].dtype == np.float32


def test_resize_scales_keypoints():
    kp = np.array([[[[10.0, 20.0]]]])  # [persons, frames, joints, 2]
    out = Resize((-1, 120))(dict(img_shape=(240, 320), keypoint=kp))
    np.testing.assert_allclose(out['keypoint'], [[[[5.0, 10.0]]]])


@pytest.mark.parametrize(
    'kwargs',
    [
        dict(scale=256),  # an int is ambiguous (factor or side?)
        dict(scale=(-1, -1)),
        dict(scale=(0, 256)),
        dict(scale=(1, 2, 3)),
        dict(scale=-0.5),
        dict(scale=0.5, keep_ratio=False),
        dict(scale=(-1, 256), keep_ratio=False),
        dict(scale=(-1, 256), interpolation='linear'),
        dict(scale=(-1, 256), lazy=True),
    ],
)
def test_resize_rejects_bad_options(kwargs):
    with pytest.raises((ValueError, TypeError), match='Resize'):
        Resize(**kwargs)


# ----------------------------------------------------------------------------- Flip


def test_flip_horizontal_mirrors_and_maps_label():
    flip = Flip(flip_ratio=1.0, flip_label_map={3: 4, 4: 3})
    out = flip(results_of(3, 5, label=3))
    assert out['flip'] is True and out['flip_direction'] == 'horizontal'
    np.testing.assert_array_equal(out['imgs'][1], coord_frames(3, 5)[1][:, ::-1])
    assert out['label'] == 4
    assert flip(results_of(3, 5, label=7))['label'] == 7  # not in the map: unchanged
    assert flip(results_of(3, 5, label=[3, 7]))['label'] == [4, 7]


def test_flip_vertical_and_no_flip():
    out = Flip(flip_ratio=1.0, direction='vertical')(results_of(3, 5))
    np.testing.assert_array_equal(out['imgs'][0], coord_frames(3, 5)[0][::-1])
    out = Flip(flip_ratio=0.0, flip_label_map={3: 4})(results_of(3, 5, label=3))
    assert out['flip'] is False and out['label'] == 3
    np.testing.assert_array_equal(out['imgs'][0], coord_frames(3, 5)[0])


def test_flip_draws_once_per_video_and_does_not_touch_the_input():
    seed(0)
    flip, flipped = Flip(flip_ratio=0.5), []
    for _ in range(20):
        frames = coord_frames(2, 3, n=4)
        out = flip(dict(imgs=frames))
        same = [np.array_equal(a, b) for a, b in zip(out['imgs'], coord_frames(2, 3, n=4))]
        assert all(same) != out['flip'] and len(set(same)) == 1
        assert np.array_equal(frames[0], coord_frames(2, 3)[0])
        flipped.append(out['flip'])
    assert 0 < sum(flipped) < 20


def test_flip_optical_flow_inverts_x_frames():
    frames = coord_frames(2, 3, n=4)  # x, y, x, y
    out = Flip(flip_ratio=1.0)(dict(imgs=frames, modality='Flow'))
    np.testing.assert_array_equal(out['imgs'][0], 255 - frames[0][:, ::-1])
    np.testing.assert_array_equal(out['imgs'][1], frames[1][:, ::-1])


def test_flip_keypoints_mirror_and_swap_sides():
    kp = np.array([[[[1.0, 0.0], [0.0, 0.0], [4.0, 2.0]]]])  # joint 1 missing (x == 0)
    score = np.array([[[0.1, 0.2, 0.3]]])
    flip = Flip(flip_ratio=1.0, left_kp=[0], right_kp=[2])
    out = flip(dict(img_shape=(4, 10), keypoint=kp, keypoint_score=score))
    np.testing.assert_allclose(out['keypoint'], [[[[6.0, 2.0], [0.0, 0.0], [9.0, 0.0]]]])
    np.testing.assert_allclose(out['keypoint_score'], [[[0.3, 0.2, 0.1]]])


@pytest.mark.parametrize(
    'kwargs, error',
    [
        (dict(flip_ratio=1.5), 'flip_ratio'),
        (dict(direction='diagonal'), 'direction'),
        (dict(flip_label_map={'a': 1}), 'flip_label_map'),
        (dict(left_kp=[1]), 'left_kp'),
        (dict(left_kp=[1], right_kp=[2, 3]), 'left_kp'),
        (dict(lazy=True), 'lazy'),
    ],
)
def test_flip_rejects_bad_options(kwargs, error):
    with pytest.raises((ValueError, TypeError), match=error):
        Flip(**kwargs)


# ----------------------------------------------------------------------------- ColorJitter


def random_frames(n: int = 2) -> list:
    rng = np.random.RandomState(0)
    frame = rng.randint(0, 256, (6, 7, 3), dtype=np.uint8)
    return [frame.copy() for _ in range(n)]


def test_color_jitter_without_jitter_is_identity():
    out = ColorJitter(0, 0, 0, 0)(dict(imgs=random_frames()))
    np.testing.assert_array_equal(out['imgs'][0], random_frames()[0])


def test_color_jitter_brightness_contrast_saturation_exact():
    frame = random_frames()[0]
    out = ColorJitter(brightness=(1.5, 1.5), contrast=0, saturation=0, hue=0)(dict(imgs=[frame]))
    np.testing.assert_array_equal(out['imgs'][0], np.clip(frame * 1.5, 0, 255).astype(np.uint8))

    out = ColorJitter(brightness=0, contrast=(0.0, 0.0), saturation=0, hue=0)(dict(imgs=[frame]))
    assert len(np.unique(out['imgs'][0])) == 1  # contrast 0: every pixel is the mean grey

    out = ColorJitter(brightness=0, contrast=0, saturation=(0.0, 0.0), hue=0)(dict(imgs=[frame]))
    img = out['imgs'][0].astype(int)
    assert (img[..., 0] == img[..., 1]).all() and (img[..., 1] == img[..., 2]).all()


def test_color_jitter_hue_shift_both_directions():
    red = np.zeros((2, 2, 3), np.uint8)
    red[..., 0] = 255
    # +0.2 -> shift int(0.2 * 255) = 51 of OpenCV's 180 hue steps: red turns yellow-green.
    out = ColorJitter(0, 0, 0, hue=(0.2, 0.2))(dict(imgs=[red]))['imgs'][0]
    assert out[0, 0, 1] == 255 and out[0, 0, 0] < 255 and out[0, 0, 2] == 0
    # A negative shift wraps around the hue circle (MMAction2 1.2.0 crashes here on numpy 2).
    out = ColorJitter(0, 0, 0, hue=(-0.2, -0.2))(dict(imgs=[red]))['imgs'][0]
    assert out[0, 0, 2] == 255 and out[0, 0, 1] == 0


def test_color_jitter_same_factors_for_every_frame():
    seed(3)
    out = ColorJitter()(dict(imgs=random_frames(3)))
    assert not np.array_equal(out['imgs'][0], random_frames()[0])
    assert all(np.array_equal(img, out['imgs'][0]) for img in out['imgs'])


@pytest.mark.parametrize(
    'kwargs',
    [
        dict(brightness=1.5),
        dict(contrast=-0.1),
        dict(saturation=(0.5, 2.5)),
        dict(hue=0.6),
        dict(hue=(0.2, -0.2)),
    ],
)
def test_color_jitter_rejects_bad_ranges(kwargs):
    with pytest.raises(ValueError, match='ColorJitter'):
        ColorJitter(**kwargs)


# ----------------------------------------------------------------------------- pipelines


def test_canonical_tsn_pipelines_from_the_registry():
    def build(*cfgs):
        with DefaultScope.overwrite_default_scope('mmaction_ft'):
            return [TRANSFORMS.build(cfg) for cfg in cfgs]

    def run(transforms, n=3):
        results = dict(imgs=[np.zeros((240, 320, 3), np.uint8)] * n, modality='RGB', label=0)
        for t in transforms:
            results = t(results)
        return results

    seed(0)
    train = build(
        dict(type='Resize', scale=(-1, 256)),
        dict(type='MultiScaleCrop', input_size=224, scales=(1, 0.875, 0.75, 0.66)),
        dict(type='Resize', scale=(224, 224), keep_ratio=False),
        dict(type='Flip', flip_ratio=0.5),
    )
    out = run(train)
    assert len(out['imgs']) == 3 and out['img_shape'] == (224, 224)
    assert 'flip' in out and 'crop_bbox' in out

    val = build(dict(type='Resize', scale=(-1, 256)), dict(type='CenterCrop', crop_size=224))
    assert run(val)['imgs'][0].shape == (224, 224, 3)

    test_three = build(dict(type='Resize', scale=(-1, 256)), dict(type='ThreeCrop', crop_size=256))
    out = run(test_three, n=25)
    assert len(out['imgs']) == 75 and out['img_shape'] == (256, 256)

    test_ten = build(dict(type='Resize', scale=(-1, 256)), dict(type='TenCrop', crop_size=224))
    out = run(test_ten, n=25)
    assert len(out['imgs']) == 250 and out['img_shape'] == (224, 224)


def test_reprs_name_the_options():
    assert repr(Resize((-1, 256))) == (
        "Resize(scale=(-1, 256), keep_ratio=True, interpolation='bilinear')"
    )
    assert repr(CenterCrop(224)) == 'CenterCrop(crop_size=(224, 224))'
    assert 'num_fixed_crops=5' in repr(MultiScaleCrop(224))
    assert 'flip_label_map={1: 2}' in repr(Flip(flip_label_map={1: 2}))
    assert 'hue=(-0.1, 0.1)' in repr(ColorJitter())


@pytest.mark.parametrize('direction', ['horizontal', 'vertical'])
@pytest.mark.parametrize('channels', [None, 1, 2, 3])
def test_flip_returns_contiguous_mirrors_of_cropped_views(direction, channels):
    rng = np.random.default_rng(0)
    shape = (10, 12) if channels is None else (10, 12, channels)
    frame = rng.integers(0, 255, shape, dtype=np.uint8)
    view = frame[1:9, 2:11]  # a crop: a strided view, as MultiScaleCrop leaves it
    results = Flip(flip_ratio=1.0, direction=direction).transform(
        dict(imgs=[view], img_shape=view.shape[:2], modality='RGB')
    )
    out = results['imgs'][0]
    axis = 1 if direction == 'horizontal' else 0
    np.testing.assert_array_equal(out, np.flip(view, axis=axis))
    assert out.flags['C_CONTIGUOUS']
