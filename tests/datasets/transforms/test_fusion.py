"""Fused training augmentation: same keys and random draws as unfused, pixels within a grey level
on smooth frames, and only training runs are fused."""

import copy
import random

import cv2
import numpy as np
import pytest

from mmaction_ft.datasets.transforms import (
    CenterCrop,
    ColorJitter,
    Flip,
    FormatShape,
    MultiScaleCrop,
    RandomCrop,
    RandomResizedCrop,
    Resize,
    TenCrop,
)
from mmaction_ft.datasets.transforms.fusion import FusedGeometry, FusedWarp, fuse_pipeline


def tsn_train() -> list:
    """MMAction2's TSN training augmentation."""
    return [
        Resize((-1, 96)),
        MultiScaleCrop(64, scales=(1, 0.875, 0.75, 0.66)),
        Resize((64, 64), keep_ratio=False),
        Flip(flip_ratio=0.5),
    ]


def slowonly_train() -> list:
    """MMAction2's 3D-CNN training augmentation."""
    return [
        Resize((-1, 96)),
        RandomResizedCrop(),
        Resize((64, 64), keep_ratio=False),
        Flip(flip_ratio=0.5),
    ]


def ramp_frames(n: int = 3, h: int = 48, w: int = 64) -> list:
    """Steep linear ramps (4 grey levels per pixel along x, 5 along y): bilinear interpolation
    reproduces a linear function, so any chain of resizes and crops gives the ramp at the
    mapped coordinates, and a coordinate off by half a pixel shows as 2 grey levels."""
    ys, xs = np.mgrid[:h, :w]
    ramps = [np.stack([4 * xs, 5 * ys, np.full_like(xs, 10 * i)], -1) for i in range(n)]
    return [ramp.astype(np.uint8) for ramp in ramps]


def textured_frames(n: int = 3, h: int = 72, w: int = 96, seed: int = 0) -> list:
    """Blurred noise with a few sharp-edged boxes: content with both smooth areas and edges."""
    rng = np.random.default_rng(seed)
    frames = []
    for _ in range(n):
        img = cv2.GaussianBlur(rng.integers(0, 256, (h, w, 3), dtype=np.uint8), (0, 0), 2)
        for _ in range(4):
            x, y = rng.integers(0, w - 20), rng.integers(0, h - 20)
            img[y : y + 20, x : x + 20] = rng.integers(0, 256, 3)
        frames.append(img)
    return frames


def run_both(chain: list, imgs: list, seed: int, **extra) -> tuple:
    """(unfused results, fused results, whether both left the generators in the same state)."""
    sample = dict(imgs=imgs, img_shape=imgs[0].shape[:2], modality='RGB', **extra)
    states = []
    outputs = []
    for transforms in (chain, [FusedGeometry(chain)]):
        random.seed(seed)
        np.random.seed(seed)
        results = copy.deepcopy(sample)
        for transform in transforms:
            results = transform(results)
        outputs.append(results)
        states.append((random.random(), np.random.rand()))
    return outputs[0], outputs[1], states[0] == states[1]


@pytest.mark.parametrize('make_chain', [tsn_train, slowonly_train])
@pytest.mark.parametrize('seed', range(12))
def test_fused_keys_and_random_draws_equal_unfused(make_chain, seed):
    keypoint = np.random.default_rng(seed).uniform(1, 40, (1, 3, 5, 2)).astype(np.float32)
    unfused, fused, same_state = run_both(
        make_chain(), ramp_frames(), seed, keypoint=keypoint, label=1
    )
    assert same_state
    assert set(fused) == set(unfused)
    for key in unfused:
        if key != 'imgs':
            np.testing.assert_array_equal(np.asarray(fused[key]), np.asarray(unfused[key]), key)
    assert [img.shape for img in fused['imgs']] == [(64, 64, 3)] * 3
    assert all(img.dtype == np.uint8 and img.flags.c_contiguous for img in fused['imgs'])


@pytest.mark.parametrize('make_chain', [tsn_train, slowonly_train])
@pytest.mark.parametrize('seed', range(12))
def test_fused_pixels_follow_the_same_coordinates(make_chain, seed):
    """On ramps both ways give the ramp at the same coordinates: within 1 grey level (rounding)
    everywhere, flipped or not; a half-pixel or flip-by-one error would be 2 levels or more."""
    unfused, fused, _ = run_both(make_chain(), ramp_frames(), seed)
    diff = np.abs(np.stack(fused['imgs']).astype(int) - np.stack(unfused['imgs']).astype(int))
    assert diff.max() <= 1, (seed, unfused['flip'], unfused['crop_bbox'])


def test_fused_pixels_on_textured_frames_differ_by_less_than_a_grey_level_on_average():
    diffs = []
    for seed in range(10):
        unfused, fused, _ = run_both(tsn_train(), textured_frames(seed=seed), seed)
        a, b = np.stack(unfused['imgs']).astype(int), np.stack(fused['imgs']).astype(int)
        diffs.append(np.abs(a - b).mean())
    assert np.mean(diffs) < 1.0, diffs


def test_a_flipped_sample_is_mirrored():
    chain = [Resize((-1, 96)), RandomCrop(64), Flip(flip_ratio=1)]
    unfused, fused, _ = run_both(chain, ramp_frames(), seed=3)
    assert unfused['flip'] and fused['flip']
    # The ramp falls along x after a horizontal flip.
    assert fused['imgs'][0][10, 0, 0] > fused['imgs'][0][10, -1, 0]
    diff = np.abs(np.stack(fused['imgs']).astype(int) - np.stack(unfused['imgs']).astype(int))
    assert diff.max() <= 1


def test_flow_and_frames_of_different_sizes_go_through_unfused():
    chain = tsn_train()
    rng = np.random.default_rng(0)
    flow = [rng.integers(0, 256, (48, 64, 2), dtype=np.uint8) for _ in range(4)]
    for sample in (
        dict(imgs=flow, img_shape=(48, 64), modality='Flow'),
        dict(imgs=ramp_frames(1) + ramp_frames(1, h=48, w=60), img_shape=(48, 64)),
    ):
        random.seed(0)
        np.random.seed(0)
        expected = copy.deepcopy(sample)
        for transform in chain:
            expected = transform(expected)
        random.seed(0)
        np.random.seed(0)
        got = FusedGeometry(chain)(copy.deepcopy(sample))
        for a, b in zip(got['imgs'], expected['imgs']):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize('make_chain', [tsn_train, slowonly_train])
def test_the_warp_may_come_later_with_the_same_result(make_chain):
    """fuse_pipeline's form (draws, then pixels in a transform that may run for several samples
    at once) gives the one-transform result; a sample fused without frames to warp passes."""
    sample = dict(imgs=ramp_frames(), img_shape=(48, 64), modality='RGB')
    outputs = []
    for transforms in ([FusedGeometry(make_chain())], fuse_pipeline(make_chain())):
        random.seed(5)
        np.random.seed(5)
        results = copy.deepcopy(sample)
        for transform in transforms:
            results = transform(results)
        outputs.append(results)
    assert 'fused_warp' not in outputs[1] and set(outputs[0]) == set(outputs[1])
    for a, b in zip(outputs[0]['imgs'], outputs[1]['imgs']):
        np.testing.assert_array_equal(a, b)
    flow = dict(imgs=[np.zeros((8, 8), np.float32)], modality='Flow')
    assert FusedWarp()(dict(flow)) == flow


def test_training_runs_are_fused_and_evaluation_runs_kept():
    train = [*tsn_train(), FormatShape('NCHW')]
    fused = fuse_pipeline(train)
    assert [type(t) for t in fused] == [FusedGeometry, FusedWarp, FormatShape]
    assert fused[0].transforms == train[:4] and not fused[0].warp

    val = [Resize((-1, 96)), CenterCrop(64), FormatShape('NCHW')]
    test = [Resize((-1, 96)), TenCrop(64), FormatShape('NCHW')]
    assert fuse_pipeline(val) == val  # no random crop: MMAction2's pixels exactly
    assert fuse_pipeline(test) == test

    no_resize = [RandomCrop(64), Flip()]
    assert fuse_pipeline(no_resize) == no_resize  # no interpolation to save
    # A bicubic resize is not fused, and the crop and flip after it have nothing to save.
    bicubic = [Resize((-1, 96), interpolation='bicubic'), RandomCrop(64), Flip()]
    assert fuse_pipeline(bicubic) == bicubic


def test_a_transform_in_between_splits_the_run():
    jitter = ColorJitter()
    pipeline = [Resize((-1, 96)), MultiScaleCrop(64), jitter, Resize((64, 64), keep_ratio=False)]
    fused = fuse_pipeline(pipeline)
    assert [type(t) for t in fused] == [FusedGeometry, FusedWarp, ColorJitter, Resize]
    assert fused[0].transforms == pipeline[:2]


def test_only_bilinear_resizes_crops_and_flips_can_be_fused():
    with pytest.raises(TypeError, match='can only fuse'):
        FusedGeometry([Resize((-1, 96), interpolation='area'), RandomCrop(64)])
    with pytest.raises(TypeError, match='can only fuse'):
        FusedGeometry([Resize((-1, 96)), ColorJitter()])
