"""RepeatAugDataset: num_repeats clips of one video, decoded once; repeat_pseudo_collate."""

import numpy as np
import pytest
import torch
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

from mmaction_ft.datasets import RepeatAugDataset, repeat_pseudo_collate
from mmaction_ft.registry import DATASETS, FUNCTIONS


def opening(clip_len=4, frame_interval=2):
    return [
        dict(type='DecordInit'),
        dict(type='SampleFrames', clip_len=clip_len, frame_interval=frame_interval, num_clips=1),
        dict(type='DecordDecode'),
    ]


TRAIN_TAIL = [
    dict(type='Resize', scale=(-1, 32)),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]


@pytest.fixture
def videos(tmp_path, make_video):
    """The videos MMAction2's expected values were made from: 20 frames (label 1), 13 (label 0)."""
    make_video(str(tmp_path / 'a.mp4'), 20)
    make_video(str(tmp_path / 'b.mp4'), 13)
    (tmp_path / 'list.txt').write_text('a.mp4 1\nb.mp4 0\n')
    return dict(ann_file=str(tmp_path / 'list.txt'), data_prefix=dict(video=str(tmp_path)))


# MMAction2 1.2.0's RepeatAugDataset(num_repeats=3) with opening(), np.random.seed(7), items 0
# and 1: the frame_inds it leaves on each clip (all repeats concatenated).
MMACTION2_INDS = {
    False: [[4, 6, 8, 10, 9, 11, 13, 15, 6, 8, 10, 12], [3, 5, 7, 9, 3, 5, 7, 9, 4, 6, 8, 10]],
    True: [[4, 6, 8, 10] * 3, [1, 3, 5, 7] * 3],
}


@pytest.mark.parametrize('sample_once', [False, True])
def test_frame_indices_match_mmaction2(videos, sample_once):
    ds = RepeatAugDataset(pipeline=opening(), num_repeats=3, sample_once=sample_once, **videos)
    np.random.seed(7)
    for idx in (0, 1):
        clips = ds[idx]
        assert len(clips) == 3
        inds = np.concatenate([c['frame_inds'] for c in clips]).tolist()
        assert inds == MMACTION2_INDS[sample_once][idx]
        assert all(c['clip_len'] == 4 and c['num_clips'] == 1 for c in clips)


def test_the_video_is_opened_and_decoded_once(videos):
    ds = RepeatAugDataset(pipeline=opening() + TRAIN_TAIL, num_repeats=4, **videos)
    ds.full_init()
    opener, _, decoder = ds.pipeline.transforms[:3]
    calls = dict(open=0, decode=0)

    def counted(name, fn):
        def wrapper(results):
            calls[name] += 1
            return fn(results)

        return wrapper

    opener.transform = counted('open', opener.transform)
    decoder.transform = counted('decode', decoder.transform)
    np.random.seed(0)
    clips = ds[0]
    assert calls == dict(open=1, decode=1)
    assert len(clips) == 4
    assert all(c['inputs'].shape == (1, 3, 4, 32, 43) for c in clips)
    assert all(c['data_samples'].gt_label.item() == 1 for c in clips)
    # The clips differ (independent sampling) and all come from video 0.
    assert len({c['inputs'].sum().item() for c in clips}) > 1


def test_clips_decode_the_same_pixels_as_a_video_dataset(videos, identify_frame):
    ds = RepeatAugDataset(pipeline=opening(), num_repeats=3, **videos)
    np.random.seed(1)
    for clip in ds[0]:
        assert [identify_frame(img) for img in clip['imgs']] == clip['frame_inds'].tolist()


def test_shared_frames_are_copied_between_clips(videos):
    ds = RepeatAugDataset(pipeline=opening(), num_repeats=2, sample_once=True, **videos)
    first, second = ds[0]
    for a, b in zip(first['imgs'], second['imgs']):
        np.testing.assert_array_equal(a, b)
        assert not np.shares_memory(a, b)


def test_collate_flattens_the_clips_of_a_batch(videos):
    ds = RepeatAugDataset(pipeline=opening() + TRAIN_TAIL, num_repeats=3, **videos)
    batch = repeat_pseudo_collate([ds[0], ds[1]])
    assert len(batch['inputs']) == 6
    assert [d.gt_label.item() for d in batch['data_samples']] == [1, 1, 1, 0, 0, 0]
    with pytest.raises(TypeError, match='list of clips'):
        repeat_pseudo_collate([dict(inputs=torch.zeros(1))])


def test_dataloader_config_builds_the_collate_by_name(videos):
    assert FUNCTIONS.get('repeat_pseudo_collate') is repeat_pseudo_collate
    cfg = dict(
        batch_size=2,
        num_workers=0,
        sampler=dict(type='DefaultSampler', shuffle=False),
        collate_fn=dict(type='repeat_pseudo_collate'),
        dataset=dict(
            type='RepeatAugDataset',
            num_repeats=2,
            sample_once=True,
            pipeline=opening() + TRAIN_TAIL,
            **videos,
        ),
    )
    with DefaultScope.overwrite_default_scope('mmaction_ft'):
        loader = Runner.build_dataloader(cfg, seed=0)
    batch = next(iter(loader))
    assert len(batch['inputs']) == 4
    assert [d.gt_label.item() for d in batch['data_samples']] == [1, 1, 0, 0]


def test_pipeline_and_arguments_are_validated(videos):
    with pytest.raises(ValueError, match='opener, a sampler and the matching decoder'):
        RepeatAugDataset(pipeline=opening()[:1] + [dict(type='PyAVDecode')], **videos)
    with pytest.raises(ValueError, match='opener, a sampler'):
        RepeatAugDataset(pipeline=[dict(type='PyAVInit')] + opening()[1:], **videos)
    with pytest.raises(ValueError, match='for training'):
        RepeatAugDataset(pipeline=opening(), test_mode=True, **videos)
    with pytest.raises(ValueError, match='num_repeats'):
        RepeatAugDataset(pipeline=opening(), num_repeats=0, **videos)


def test_pyav_pipelines_work_too(videos):
    pipeline = [dict(type='PyAVInit'), opening()[1], dict(type='PyAVDecode')]
    ds = DATASETS.build(dict(type='RepeatAugDataset', pipeline=pipeline, num_repeats=2, **videos))
    clips = ds[1]
    assert len(clips) == 2 and all(len(c['imgs']) == 4 for c in clips)
