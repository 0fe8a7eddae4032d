"""RandomRescale: a random short side, MMAction2 1.2.0's draw."""

import numpy as np
import pytest

from mmaction_ft.registry import TRANSFORMS


def clip():
    rng = np.random.RandomState(0)
    return [rng.randint(0, 256, (20, 24, 3)).astype(np.uint8) for _ in range(3)]


def test_matches_mmaction2_sizes_and_pixels_under_the_same_numpy_seed():
    # MMAction2 1.2.0's RandomRescale((10, 30)) on `clip()` after np.random.seed(3), 5 calls.
    shapes = [(20, 24), (13, 16), (18, 22), (10, 12), (29, 35)]
    sums = [542244, 235815, 447255, 135696, 1146835]
    transform = TRANSFORMS.build(dict(type='RandomRescale', scale_range=(10, 30)))
    np.random.seed(3)
    for shape, total in zip(shapes, sums):
        out = transform(dict(imgs=clip(), img_shape=(20, 24)))
        assert out['img_shape'] == shape and out['short_edge'] == shape[0]
        assert all(img.shape[:2] == shape for img in out['imgs'])
        assert int(np.stack(out['imgs']).astype(np.int64).sum()) == total
        assert out['keep_ratio'] is True


def test_both_ends_of_the_range_are_drawn():
    transform = TRANSFORMS.build(dict(type='RandomRescale', scale_range=(8, 9)))
    np.random.seed(0)
    edges = {transform(dict(imgs=clip()))['short_edge'] for _ in range(20)}
    assert edges == {8, 9}


@pytest.mark.parametrize(
    'kwargs, match',
    [
        (dict(scale_range=(30, 10)), 'low < high'),
        (dict(scale_range=(10.0, 30)), 'positive ints'),
        (dict(scale_range=(10, 30), interpolation='cubic'), 'interpolation'),
    ],
)
def test_arguments_are_validated(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TRANSFORMS.build(dict(type='RandomRescale', **kwargs))
