"""Crop transforms: CenterCrop, ThreeCrop, TenCrop, MultiScaleCrop, RandomResizedCrop."""

import numpy as np
import pytest
from test_spatial import results_of, seed

from mmaction_ft.datasets.transforms import (
    CenterCrop,
    MultiScaleCrop,
    RandomCrop,
    RandomResizedCrop,
    TenCrop,
    ThreeCrop,
)

# ----------------------------------------------------------------------------- CenterCrop


def test_center_crop_picks_the_centre_pixels():
    out = CenterCrop(4)(results_of(7, 9))  # margins 3 and 5: the odd pixel goes right/bottom
    assert out['img_shape'] == (4, 4)
    np.testing.assert_array_equal(out['crop_bbox'], [2, 1, 6, 5])
    img = out['imgs'][1]
    assert (img[0, 0] == [1, 2, 1]).all() and (img[-1, -1] == [4, 5, 1]).all()


def test_center_crop_size_is_w_h_and_shifts_keypoints():
    kp = np.array([[[[5.0, 5.0]]]])
    out = CenterCrop((6, 2))(results_of(8, 10, keypoint=kp))
    assert out['imgs'][0].shape == (2, 6, 3)
    np.testing.assert_array_equal(out['crop_bbox'], [2, 3, 8, 5])
    np.testing.assert_allclose(out['keypoint'], [[[[3.0, 2.0]]]])


@pytest.mark.parametrize('crop_size', [0, (3, 0), (1, 2, 3), 2.5])
def test_center_crop_rejects_bad_sizes(crop_size):
    with pytest.raises(ValueError, match='crop_size'):
        CenterCrop(crop_size)


def test_center_crop_larger_than_frame_is_an_error():
    with pytest.raises(ValueError, match='larger than the frames'):
        CenterCrop(10)(results_of(8, 12))


# ----------------------------------------------------------------------------- ThreeCrop / TenCrop


@pytest.mark.parametrize(
    'shape, crop, corners',
    [
        ((4, 10), 4, [(0, 0), (0, 6), (0, 3)]),  # landscape: left, right, middle (y, x)
        ((10, 4), 4, [(0, 0), (6, 0), (3, 0)]),  # portrait: top, bottom, middle
    ],
)
def test_three_crop_order_and_count(shape, crop, corners):
    out = ThreeCrop(crop)(results_of(*shape, n=2))
    assert len(out['imgs']) == 6 and out['img_shape'] == (crop, crop)
    assert out['crop_bbox'].shape == (6, 4)
    for i, img in enumerate(out['imgs']):
        y, x = corners[i // 2]  # crop-major: both frames of crop 0, then crop 1 ...
        assert (img[0, 0] == [y, x, i % 2]).all()


def test_three_crop_must_span_one_side():
    with pytest.raises(ValueError, match='width or the height'):
        ThreeCrop(3)(results_of(4, 10))


def test_ten_crop_order_count_and_mirrors():
    h, w, n = 9, 13, 2
    out = TenCrop(5)(results_of(h, w, n=n))
    assert len(out['imgs']) == 10 * n and out['img_shape'] == (5, 5)
    # w_step = (13 - 5) // 4 = 2, h_step = (9 - 5) // 4 = 1
    corners = [(0, 0), (0, 8), (4, 0), (4, 8), (2, 4)]  # (y, x): UL, UR, LL, LR, centre
    for c, (y, x) in enumerate(corners):
        for i in range(n):
            crop = out['imgs'][2 * c * n + i]
            mirror = out['imgs'][(2 * c + 1) * n + i]
            assert (crop[0, 0] == [y, x, i]).all()
            np.testing.assert_array_equal(mirror, crop[:, ::-1])
    np.testing.assert_array_equal(out['crop_bbox'][2 * n], [8, 0, 13, 5])


def test_multi_crops_reject_too_large_crops():
    with pytest.raises(ValueError, match='larger than the frames'):
        TenCrop(10)(results_of(8, 20))
    with pytest.raises(ValueError, match='larger than the frames'):
        ThreeCrop((12, 8))(results_of(8, 10))


# ----------------------------------------------------------------------------- MultiScaleCrop


def crop_corners(transform, shape, draws=60):
    corners, sizes = set(), set()
    for s in range(draws):
        seed(s)
        out = transform(results_of(*shape, n=1))
        left, top, right, bottom = out['crop_bbox']
        assert (out['imgs'][0][0, 0] == [top, left, 0]).all()
        assert out['imgs'][0].shape[:2] == out['img_shape'] == (bottom - top, right - left)
        corners.add((int(left), int(top)))
        sizes.add((int(right - left), int(bottom - top)))
    return corners, sizes


def test_multi_scale_crop_fixed_places():
    # 10 x 30 frame, crop 10 x 10: free width 20, quarter step 5; the 5 places give x 0, 20, 10.
    corners, sizes = crop_corners(MultiScaleCrop(10), (10, 30))
    assert corners == {(0, 0), (10, 0), (20, 0)} and sizes == {(10, 10)}
    corners, _ = crop_corners(MultiScaleCrop(10, num_fixed_crops=13), (10, 30), draws=200)
    assert corners == {(x, 0) for x in (0, 5, 10, 15, 20)}


def test_multi_scale_crop_sizes_respect_the_scale_gap():
    _, sizes = crop_corners(MultiScaleCrop(7, scales=(1, 0.5), max_wh_scale_gap=0), (40, 60))
    assert sizes == {(40, 40), (20, 20)}
    _, sizes = crop_corners(MultiScaleCrop(7, scales=(1, 0.5)), (40, 60))
    assert sizes == {(40, 40), (20, 20), (20, 40), (40, 20)}


def test_multi_scale_crop_snaps_near_input_size_and_random_places():
    # sides int(100 * s) = 100 and 98, both within 2 px of 99.
    _, sizes = crop_corners(MultiScaleCrop(99, scales=(1, 0.98)), (100, 100))
    assert sizes == {(99, 99)}
    corners, _ = crop_corners(MultiScaleCrop(10, random_crop=True), (10, 30))
    assert len(corners) > 5 and all(0 <= x <= 20 for x, _ in corners)
    out = MultiScaleCrop(10, scales=(1, 0.875))(results_of(10, 30))
    assert out['scales'] == (1, 0.875)


@pytest.mark.parametrize(
    'kwargs, error',
    [
        (dict(input_size=0), 'input_size'),
        (dict(input_size=224, scales=(1, 1.2)), 'scales'),
        (dict(input_size=224, scales=()), 'scales'),
        (dict(input_size=224, max_wh_scale_gap=-1), 'max_wh_scale_gap'),
        (dict(input_size=224, num_fixed_crops=7), 'num_fixed_crops'),
        (dict(input_size=224, lazy=True), 'lazy'),
    ],
)
def test_multi_scale_crop_rejects_bad_options(kwargs, error):
    with pytest.raises(ValueError, match=error):
        MultiScaleCrop(**kwargs)


# ----------------------------------------------------------------------------- RandomResizedCrop


def test_random_resized_crop_area_and_ratio_within_range():
    crop = RandomResizedCrop(area_range=(0.25, 0.5), aspect_ratio_range=(0.5, 2.0))
    boxes = set()
    for s in range(30):
        seed(s)
        out = crop(results_of(60, 80, n=1))
        left, top, right, bottom = out['crop_bbox']
        w, h = right - left, bottom - top
        assert 0 <= left and right <= 80 and 0 <= top and bottom <= 60
        assert 0.25 * 0.9 <= w * h / (60 * 80) <= 0.5 * 1.1  # rounding to whole pixels
        assert 0.5 * 0.9 <= w / h <= 2.0 * 1.1
        assert (out['imgs'][0][0, 0] == [top, left, 0]).all()
        boxes.add(tuple(out['crop_bbox']))
    assert len(boxes) > 20


def test_random_resized_crop_falls_back_to_the_centre_square():
    # Aspect ratios of 10-20 never fit a 40 x 50 frame: the centred 40 x 40 square is taken.
    out = RandomResizedCrop(aspect_ratio_range=(10.0, 20.0))(results_of(40, 50))
    np.testing.assert_array_equal(out['crop_bbox'], [5, 0, 45, 40])


@pytest.mark.parametrize(
    'kwargs',
    [
        dict(area_range=(0.5, 0.1)),
        dict(area_range=(0.0, 1.0)),
        dict(area_range=(0.5, 1.5)),
        dict(aspect_ratio_range=(2.0, 1.0)),
        dict(aspect_ratio_range=0.75),
        dict(lazy=True),
    ],
)
def test_random_resized_crop_rejects_bad_options(kwargs):
    with pytest.raises((ValueError, TypeError), match='RandomResizedCrop'):
        RandomResizedCrop(**kwargs)


@pytest.mark.parametrize(
    'seed, shape, bbox',
    # crop_bbox printed by MMAction2 1.2.0's RandomCrop(112) under the same numpy seed.
    [
        (0, (128, 171), [47, 12, 159, 124]),
        (1, (112, 150), [37, 0, 149, 112]),
        (2, (120, 112), [0, 0, 112, 112]),
        (3, (112, 112), [0, 0, 112, 112]),
    ],
)
def test_random_crop_positions_match_mmaction2(seed, shape, bbox):
    np.random.seed(seed)
    frames = [np.arange(shape[0] * shape[1] * 3, dtype=np.int64).reshape(shape + (3,))] * 2
    results = RandomCrop(112).transform(dict(imgs=frames, img_shape=shape))
    assert results['crop_bbox'].tolist() == bbox
    x1, y1, x2, y2 = bbox
    assert all(np.array_equal(img, frames[0][y1:y2, x1:x2]) for img in results['imgs'])
    assert results['img_shape'] == (112, 112)


def test_random_crop_rejects_bad_sizes():
    with pytest.raises(TypeError, match='RandomCrop: size must be a positive int'):
        RandomCrop((112, 112))
    with pytest.raises(ValueError, match='RandomCrop: crop .* is larger than the frames'):
        RandomCrop(112).transform(dict(imgs=[np.zeros((100, 171, 3))], img_shape=(100, 171)))
    assert repr(RandomCrop(112)) == 'RandomCrop(size=112)'
