"""SampleFrames, DenseSampleFrames, UniformSample: MMAction2 1.x's sampling rules, checked on cases.

(The exhaustive bit-for-bit comparison with MMAction2 1.2.0 was run outside the repo over
total_frames 1..300 x clip_len {1, 8, 32} x frame_interval {1, 2, 4} x num_clips {1, 3, 8, 25}.)
"""

import numpy as np
import pytest
from mmengine.registry import DefaultScope

from mmaction_ft.datasets.transforms import DenseSampleFrames, SampleFrames, UniformSample
from mmaction_ft.registry import TRANSFORMS


def sample(total_frames, start_index=0, seed=None, **kwargs):
    if seed is not None:
        np.random.seed(seed)
    results = SampleFrames(**kwargs).transform(
        dict(total_frames=total_frames, start_index=start_index)
    )
    return results['frame_inds']


# ------------------------------------------------------------------ test mode, hand-computed
def test_2d_test_mode_takes_segment_centres():
    # N=10, K=3: segments of 10/3 frames; centres 5/3, 5, 25/3 truncate to 1, 5, 8.
    assert sample(10, clip_len=1, num_clips=3, test_mode=True).tolist() == [1, 5, 8]
    # start_index=1 (frame folders img_00001.jpg) shifts every index by one.
    assert sample(10, start_index=1, clip_len=1, num_clips=3, test_mode=True).tolist() == [2, 6, 9]


def test_2d_twice_sample_appends_segment_starts():
    # Starts 0, 10/3, 20/3 -> 0, 3, 6, after the centres.
    inds = sample(10, clip_len=1, num_clips=3, test_mode=True, twice_sample=True)
    assert inds.tolist() == [1, 5, 8, 0, 3, 6]


def test_3d_test_mode_spreads_clips_and_rounds_half_to_even():
    # span = (8 - 1) * 2 + 1 = 15, max_offset = 85, offsets round([0, 42.5, 85]) = [0, 42, 85].
    inds = sample(100, clip_len=8, frame_interval=2, num_clips=3, test_mode=True)
    expected = [o + 2 * t for o in (0, 42, 85) for t in range(8)]
    assert inds.tolist() == expected


def test_3d_single_clip_is_centred():
    # max_offset = 100 - 15 = 85, offset = 85 // 2 = 42.
    inds = sample(100, clip_len=8, frame_interval=2, num_clips=1, test_mode=True)
    assert inds.tolist() == list(range(42, 57, 2))


def test_out_of_bound_loop_and_repeat_last():
    # N=10, clip 0, 4, 8, 12: index 12 is out of range.
    kwargs = dict(clip_len=4, frame_interval=4, num_clips=1, test_mode=True)
    assert sample(10, **kwargs, out_of_bound_opt='loop').tolist() == [0, 4, 8, 2]
    assert sample(10, **kwargs, out_of_bound_opt='repeat_last').tolist() == [0, 4, 8, 8]


def test_test_mode_is_deterministic():
    kwargs = dict(clip_len=8, frame_interval=2, num_clips=3, test_mode=True)
    assert sample(77, seed=0, **kwargs).tolist() == sample(77, seed=1, **kwargs).tolist()


# ------------------------------------------------------------------ train mode
def test_train_one_random_frame_per_segment():
    # N=30, K=3: avg = 30 // 3 = 10, offsets = [0, 10, 20] + randint(10, size=3).
    np.random.seed(3)
    expected = np.arange(3) * 10 + np.random.randint(10, size=3)
    assert sample(30, seed=3, clip_len=1, num_clips=3).tolist() == expected.tolist()
    for seed in range(20):
        inds = sample(30, seed=seed, clip_len=1, num_clips=3)
        assert [i // 10 for i in inds] == [0, 1, 2]


def test_train_short_video_uses_sorted_random_starts():
    # span = 4 * 2 = 8, avg = (10 - 8 + 1) // 4 = 0, and 10 > max(4, 8): sorted randint(3, size=4).
    np.random.seed(5)
    offsets = np.sort(np.random.randint(3, size=4))
    expected = (offsets[:, None] + np.arange(4) * 2).reshape(-1)
    inds = sample(10, seed=5, clip_len=4, frame_interval=2, num_clips=4)
    assert inds.tolist() == expected.tolist()


def test_train_fewer_frames_than_clips_spreads_evenly():
    # avg = 5 // 8 = 0 and 5 <= max(8, 1): offsets around(arange(8) * 5 / 8), 2.5 -> 2.
    inds = sample(5, seed=0, clip_len=1, num_clips=8)
    assert inds.tolist() == [0, 1, 1, 2, 2, 3, 4, 4]


def test_train_video_shorter_than_one_clip_starts_at_zero():
    # span = 8 > N = 3: every clip starts at 0 and reads 0, 2, 4, 6.
    assert sample(3, clip_len=4, frame_interval=2, num_clips=2).tolist() == [0, 2, 1, 0] * 2
    repeat = sample(3, clip_len=4, frame_interval=2, num_clips=2, out_of_bound_opt='repeat_last')
    assert repeat.tolist() == [0, 2, 2, 2] * 2


def test_keep_tail_frames_uses_float_segments():
    # avg = 10 / 3; offsets int(arange(3) * avg + uniform(0, avg, 3)).
    np.random.seed(7)
    avg = 10 / 3
    expected = (np.arange(3) * avg + np.random.uniform(0, avg, 3)).astype(np.int32)
    inds = sample(10, seed=7, clip_len=1, num_clips=3, keep_tail_frames=True)
    assert inds.tolist() == expected.tolist()


def test_temporal_jitter_stays_within_the_interval():
    base = sample(200, clip_len=4, frame_interval=4, num_clips=1, test_mode=True)
    for seed in range(5):
        jittered = sample(
            200, seed=seed, clip_len=4, frame_interval=4, num_clips=1, test_mode=True,
            temporal_jitter=True,
        )  # fmt: skip
        assert np.all((jittered - base >= 0) & (jittered - base < 4))


def test_target_fps_resamples_with_linspace():
    # 60 fps video, 30 fps target: the clip covers 4 * 1 * 2 = 8 frames, read at
    # linspace(0, 7, 4) = [0, 2.33, 4.67, 7] -> [0, 2, 4, 7]; one clip at max_offset // 2 = 46.
    results = SampleFrames(clip_len=4, num_clips=1, test_mode=True, target_fps=30).transform(
        dict(total_frames=100, start_index=0, avg_fps=60.0)
    )
    assert results['frame_inds'].tolist() == [46, 48, 50, 53]


# ------------------------------------------------------------------ invariants and interface
@pytest.mark.parametrize('test_mode', [False, True])
def test_indices_in_range_int32_and_counted(test_mode):
    rng = np.random.RandomState(0)
    for _ in range(200):
        n, clip_len = int(rng.randint(1, 120)), int(rng.choice([1, 2, 8]))
        interval, clips = int(rng.choice([1, 2, 4])), int(rng.choice([1, 3, 8]))
        start = int(rng.randint(0, 2))
        twice = bool(test_mode and rng.rand() < 0.5 and (clip_len == 1 or clips > 1))
        inds = sample(
            n, start_index=start, clip_len=clip_len, frame_interval=interval, num_clips=clips,
            test_mode=test_mode, twice_sample=twice,
        )  # fmt: skip
        assert inds.dtype == np.int32
        assert len(inds) == clips * clip_len * (2 if twice else 1)
        assert inds.min() >= start and inds.max() < n + start


def test_sampling_settings_are_recorded():
    results = SampleFrames(clip_len=2, frame_interval=3, num_clips=4).transform(
        dict(total_frames=50, start_index=0)
    )
    assert (results['clip_len'], results['frame_interval'], results['num_clips']) == (2, 3, 4)


def test_empty_video_names_the_file():
    with pytest.raises(ValueError, match='broken.mp4'):
        SampleFrames(clip_len=1).transform(
            dict(total_frames=0, start_index=0, filename='data/broken.mp4')
        )


@pytest.mark.parametrize(
    'kwargs, match',
    [
        (dict(clip_len=0), 'clip_len'),
        (dict(clip_len=1, num_clips=0), 'num_clips'),
        (dict(clip_len=1, frame_interval=1.5), 'frame_interval'),
        (dict(clip_len=1, out_of_bound_opt='wrap'), 'out_of_bound_opt'),
        (dict(clip_len=8, num_clips=1, twice_sample=True, test_mode=True), 'num_clips >= 2'),
    ],
)
def test_invalid_options_are_rejected(kwargs, match):
    with pytest.raises(ValueError, match=match):
        SampleFrames(**kwargs)


def test_builds_from_config_and_repr():
    with DefaultScope.overwrite_default_scope('mmaction_ft'):
        transform = TRANSFORMS.build(dict(type='SampleFrames', clip_len=1, num_clips=3))
    assert isinstance(transform, SampleFrames)
    assert 'num_clips=3' in repr(transform) and 'clip_len=1' in repr(transform)


def test_video_without_reader_first_gets_pipeline_advice():
    with pytest.raises(KeyError, match='DecordInit.*before SampleFrames'):
        SampleFrames(clip_len=1, num_clips=3).transform({'filename': 'a.mp4'})


# Indices below were printed by MMAction2 1.2.0 for the same arguments and numpy seed; the whole
# grid (10,656 cases over lengths, clip lengths, clip counts, windows, jitter and both
# out-of-bound options) was compared once side by side and was identical.
def _inds(transform, total_frames, start_index=0, seed=0):
    np.random.seed(seed)
    results = transform.transform(dict(total_frames=total_frames, start_index=start_index))
    return results['frame_inds'].tolist()


def test_dense_test_mode_windows():
    t = DenseSampleFrames(
        clip_len=2,
        frame_interval=3,
        num_clips=2,
        sample_range=16,
        num_sample_positions=3,
        test_mode=True,
    )
    # 3 windows starting at linspace(0, 40 - 16, 3) = 0, 12, 24; clips 16 // 2 = 8 apart.
    assert _inds(t, 40) == [0, 3, 8, 11, 12, 15, 20, 23, 24, 27, 32, 35]
    results = t.transform(dict(total_frames=40, start_index=0))
    assert results['num_clips'] == 2  # per window, as MMAction2 reports it


def test_dense_window_longer_than_the_video_repeats_it():
    t = DenseSampleFrames(
        clip_len=4,
        frame_interval=2,
        num_clips=2,
        sample_range=64,
        num_sample_positions=2,
        test_mode=True,
    )
    assert _inds(t, 20) == [0, 2, 4, 6, 12, 14, 16, 18] * 2


def test_dense_train_mode_random_window():
    t = DenseSampleFrames(clip_len=2, frame_interval=2, num_clips=2, sample_range=8)
    assert _inds(t, 30, seed=3) == [10, 12, 14, 16]
    assert _inds(t, 8, start_index=1, seed=3) == [1, 3, 5, 7]  # one possible window


def test_uniform_sample_test_and_train():
    assert _inds(UniformSample(clip_len=4, num_clips=2, test_mode=True), 33) == [
        2,
        10,
        18,
        26,
        5,
        13,
        21,
        29,
    ]
    # Shorter than clip_len: frames repeat instead of looping.
    assert _inds(UniformSample(clip_len=8, test_mode=True), 3) == [0, 0, 0, 1, 1, 1, 2, 2]
    assert _inds(UniformSample(clip_len=4), 33, seed=5) == [3, 14, 22, 24]
    results = UniformSample(clip_len=4).transform(dict(total_frames=33, start_index=1))
    assert results['frame_interval'] is None and results['clip_len'] == 4
    assert results['frame_inds'].dtype == np.int32 and results['frame_inds'].min() >= 1


def test_new_samplers_validate_and_name_themselves():
    with pytest.raises(ValueError, match='DenseSampleFrames: sample_range must be an int >= 1'):
        DenseSampleFrames(clip_len=2, sample_range=0)
    with pytest.raises(ValueError, match='UniformSample: num_clips must be an int >= 1'):
        UniformSample(clip_len=2, num_clips=0)
    with pytest.raises(KeyError, match='UniformSample: no total_frames for a.mp4'):
        UniformSample(clip_len=2).transform(dict(filename='a.mp4', start_index=0))
    assert 'sample_range=64' in repr(DenseSampleFrames(clip_len=2))
    assert repr(UniformSample(3)) == 'UniformSample(clip_len=3, num_clips=1, test_mode=False)'
