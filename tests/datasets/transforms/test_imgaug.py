"""Imgaug without imgaug: each augmenter's image operation, one draw per clip, clear errors."""

import numpy as np
import pytest

from mmaction_ft.datasets.transforms import Imgaug
from mmaction_ft.datasets.transforms.imgaug import SUPPORTED, default_transforms


def clip(num_frames=3, height=8, width=8, seed=0):
    rng = np.random.default_rng(seed)
    frame = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    return dict(imgs=[frame.copy() for _ in range(num_frames)], modality='RGB')


def run(transforms, results=None):
    return Imgaug(transforms)(results or clip())['imgs']


def test_invert_posterize_solarize_are_exact():
    frame = clip()['imgs'][0]
    assert np.array_equal(run([dict(type='Invert', p=1.0)])[0], 255 - frame)
    assert np.array_equal(run([dict(type='Posterize', nb_bits=3)])[0], frame & 0b11100000)
    solarized = np.where(frame >= 128, 255 - frame, frame)
    assert np.array_equal(run([dict(type='Solarize', threshold=128)])[0], solarized)


def test_translate_moves_by_a_fraction_of_the_width_and_fills_black():
    out = run([dict(type='TranslateX', percent=0.25)])[0]
    frame = clip()['imgs'][0]
    assert np.array_equal(out[:, 2:], frame[:, :-2])
    assert (out[:, :2] == 0).all()


def test_some_of_applies_n_distinct_children():
    frame = clip()['imgs'][0]
    invert = dict(type='Invert', p=1.0)
    twice = run([dict(type='SomeOf', n=2, children=[invert, invert, invert])])[0]
    once = run([dict(type='SomeOf', n=1, children=[invert, invert, invert])])[0]
    assert np.array_equal(twice, frame) and np.array_equal(once, 255 - frame)


def test_cutout_fills_a_square_with_cval():
    results = clip(height=20, width=20)
    results['imgs'] = [np.zeros_like(f) for f in results['imgs']]
    out = run([dict(type='Cutout', nb_iterations=1, size=0.5, cval=128)], results)[0]
    filled = (out == 128).all(-1)
    assert 0 < filled.sum() <= 10 * 10 and ((out == 128) | (out == 0)).all()


def test_every_frame_of_a_clip_gets_the_same_draw():
    np.random.seed(0)
    transform = Imgaug('default')
    changed = 0
    for seed in range(10):
        out = transform(clip(seed=seed))['imgs']
        assert all(np.array_equal(out[0], other) for other in out[1:])
        assert out[0].shape == (8, 8, 3) and out[0].dtype == np.uint8
        changed += not np.array_equal(out[0], clip(seed=seed)['imgs'][0])
    assert changed >= 5  # two of fifteen ops each time: most clips change


def test_default_list_is_0x_randaugment_with_per_clip_signs():
    (some_of,) = default_transforms()
    assert some_of['n'] == 2 and len(some_of['children']) == 15
    shear = some_of['children'][0]
    assert shear == dict(type='ShearX', shear=[-17.19 * 0.9, 17.19 * 0.9])
    assert {c['type'] for c in some_of['children']} <= set(SUPPORTED)


def test_unsupported_augmenter_or_argument_is_named():
    with pytest.raises(
        ValueError,
        match=r'transforms\.0\.children\.1: the imgaug augmenter '
        r"'ElasticTransformation' is not reproduced",
    ):
        Imgaug(
            [
                dict(
                    type='SomeOf',
                    n=1,
                    children=[dict(type='Invert'), dict(type='ElasticTransformation')],
                )
            ]
        )
    with pytest.raises(ValueError, match=r"Rotate argument\(s\) \['order'\]"):
        Imgaug([dict(type='Rotate', rotate=10, order=3)])
    with pytest.raises(ValueError, match="'default' or a list"):
        Imgaug('fancy')


def test_flow_frames_are_refused():
    results = clip()
    results['modality'] = 'Flow'
    with pytest.raises(ValueError, match='RGB frames only'):
        Imgaug([dict(type='Invert')])(results)
