"""RandomErasing: one box per clip, same place in every frame (MMAction2 1.2.0's draws)."""

import numpy as np
import pytest

from mmaction_ft.registry import TRANSFORMS


def clip():
    rng = np.random.RandomState(0)
    return [rng.randint(0, 256, (20, 24, 3)).astype(np.uint8) for _ in range(3)]


# MMAction2 1.2.0's RandomErasing(erase_prob=0.75, ...) on `clip()`, np.random.seed(5), six
# calls in a row: the sum of all output pixels (542244 = not erased).
MMACTION2 = {
    'const': [542149, 544223, 541604, 542336, 543072, 547841],
    'rand': [542312, 544181, 542244, 542244, 547311, 544453],
    'randstd': [539210, 535406, 542244, 539774, 539182, 542244],
}
ARGS = {
    'const': dict(mode='const'),
    'rand': dict(mode='rand'),
    'randstd': dict(mode='rand', fill_std=20.0, fill_color=(100, 120, 140)),
}


@pytest.mark.parametrize('mode', list(MMACTION2))
def test_matches_mmaction2_under_the_same_numpy_seed(mode):
    transform = TRANSFORMS.build(dict(type='RandomErasing', erase_prob=0.75, **ARGS[mode]))
    np.random.seed(5)
    sums = [
        int(np.stack(transform(dict(imgs=clip()))['imgs']).astype(np.int64).sum()) for _ in range(6)
    ]
    assert sums == MMACTION2[mode]


@pytest.mark.parametrize('mode', ['const', 'rand'])
def test_the_same_box_is_erased_in_every_frame(mode):
    transform = TRANSFORMS.build(dict(type='RandomErasing', erase_prob=1.0, mode=mode))
    frames = clip()
    np.random.seed(0)
    out = transform(dict(imgs=[f.copy() for f in frames]))['imgs']
    np.random.seed(0)
    np.random.rand()  # the erase_prob draw
    top, left, h, w = transform.get_box(20, 24)
    assert h > 0 and w > 0
    for before, after in zip(frames, out):
        mask = np.zeros((20, 24), bool)
        mask[top : top + h, left : left + w] = True
        np.testing.assert_array_equal(after[~mask], before[~mask])
        if mode == 'const':
            assert (after[mask] == 128).all()
    if mode == 'rand':  # new noise in every frame, inside the same box
        assert not np.array_equal(out[0][mask], out[1][mask])


def test_frames_are_not_modified_in_place():
    frames = clip()
    originals = [f.copy() for f in frames]
    TRANSFORMS.build(dict(type='RandomErasing', erase_prob=1.0))(dict(imgs=frames))
    for frame, original in zip(frames, originals):
        np.testing.assert_array_equal(frame, original)


def test_probability_zero_keeps_the_clip():
    frames = clip()
    out = TRANSFORMS.build(dict(type='RandomErasing', erase_prob=0.0))(dict(imgs=frames))
    assert out['imgs'] is frames


@pytest.mark.parametrize(
    'kwargs, match',
    [
        (dict(erase_prob=1.5), 'erase_prob'),
        (dict(min_area_ratio=0.5, max_area_ratio=0.2), 'min_area_ratio'),
        (dict(aspect_range=(2.0, 1.0)), 'aspect_range'),
        (dict(mode='zero'), "mode must be one of \\('const', 'rand'\\)"),
        (dict(fill_color=(1, 2)), 'fill_color'),
    ],
)
def test_arguments_are_validated(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TRANSFORMS.build(dict(type='RandomErasing', **kwargs))


def test_a_single_aspect_ratio_means_it_and_its_inverse():
    transform = TRANSFORMS.build(dict(type='RandomErasing', aspect_range=3.0))
    assert transform.aspect_range == pytest.approx((1 / 3, 3.0))
    assert 'RandomErasing(erase_prob=0.5' in repr(transform)
