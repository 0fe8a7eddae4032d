"""FormatShape, PackActionInputs and the 0.x Normalize / Collect / ToTensor."""

import numpy as np
import pytest
import torch
from mmengine.dataset import Compose
from mmengine.registry import DefaultScope

from mmaction_ft.datasets.transforms import (
    Collect,
    FormatShape,
    Normalize,
    PackActionInputs,
    ToTensor,
)
from mmaction_ft.structures import ActionDataSample

H, W = 4, 5


def make_imgs(num, channels=3):
    """``num`` frames whose pixels all hold the frame number (and the channel in the tens)."""
    return [
        np.stack([np.full((H, W), i + 10 * c, np.uint8) for c in range(channels)], axis=-1)
        for i in range(num)
    ]


# ------------------------------------------------------------------ FormatShape
def test_nchw_puts_channels_first():
    results = FormatShape('NCHW').transform(dict(imgs=make_imgs(6), num_clips=3, clip_len=2))
    imgs = results['imgs']
    assert imgs.shape == (6, 3, H, W) and results['input_shape'] == (6, 3, H, W)
    assert imgs[4, 2, 0, 0] == 4 + 20  # frame 4, channel 2


def test_ncthw_groups_crops_clips_and_time():
    crops, clips, clip_len = 2, 3, 4
    frames = make_imgs(crops * clips * clip_len)
    results = FormatShape('NCTHW').transform(dict(imgs=frames, num_clips=clips, clip_len=clip_len))
    imgs = results['imgs']
    assert imgs.shape == (crops * clips, 3, clip_len, H, W)
    for view in range(crops * clips):
        for t in range(clip_len):
            # view = crop * clips + clip; frames are ordered crop, clip, time.
            assert np.array_equal(imgs[view, :, t], frames[view * clip_len + t].transpose(2, 0, 1))


def test_ncthw_rejects_frames_that_do_not_split_into_clips():
    with pytest.raises(ValueError, match='num_clips \\* clip_len=6'):
        FormatShape('NCTHW').transform(dict(imgs=make_imgs(8), num_clips=2, clip_len=3))


def test_flow_stacks_clip_frames_along_channels():
    frames = make_imgs(6, channels=2)  # 3 clips x 2 frames, x/y channels
    for fmt, extra in (('NCHW', dict(modality='Flow')), ('NCHW_Flow', {})):
        results = FormatShape(fmt).transform(dict(imgs=frames, num_clips=3, clip_len=2, **extra))
        imgs = results['imgs']
        assert imgs.shape == (3, 4, H, W)
        # clip 1 = frames 2, 3: channels [x2, y2, x3, y3].
        assert imgs[1, :, 0, 0].tolist() == [2, 12, 3, 13]


def test_collapse_drops_a_single_view_axis():
    results = FormatShape('NCTHW', collapse=True).transform(
        dict(imgs=make_imgs(4), num_clips=1, clip_len=4)
    )
    assert results['imgs'].shape == (3, 4, H, W)
    with pytest.raises(ValueError, match='single clip'):
        FormatShape('NCTHW', collapse=True).transform(
            dict(imgs=make_imgs(8), num_clips=2, clip_len=4)
        )


def test_format_shape_rejects_unknown_layout():
    with pytest.raises(ValueError, match='NCTHW'):
        FormatShape('NHWC')


# ------------------------------------------------------------------ PackActionInputs
def formatted(label=3, **extra):
    results = dict(imgs=make_imgs(3), num_clips=3, clip_len=1, label=label, **extra)
    return FormatShape('NCHW').transform(results)


def test_pack_action_inputs_single_label():
    packed = PackActionInputs().transform(formatted(img_shape=(H, W), filename='a.mp4'))
    assert set(packed) == {'inputs', 'data_samples'}
    assert isinstance(packed['inputs'], torch.Tensor) and packed['inputs'].shape == (3, 3, H, W)
    sample = packed['data_samples']
    assert isinstance(sample, ActionDataSample)
    assert sample.gt_label.tolist() == [3] and sample.gt_label.dtype == torch.int64
    assert sample.metainfo == {'img_shape': (H, W)}  # only meta_keys that are present


def test_pack_action_inputs_keeps_multi_label_one_hot():
    onehot = torch.tensor([0.0, 1.0, 0.0, 1.0])
    sample = PackActionInputs().transform(formatted(label=onehot))['data_samples']
    assert sample.gt_label.dtype == torch.float32 and sample.gt_label.tolist() == [0, 1, 0, 1]


def test_pack_action_inputs_collect_keys_and_algorithm_keys():
    results = formatted(extra_inputs=np.ones(2), clip_id=7)
    packed = PackActionInputs(collect_keys=('imgs', 'extra_inputs'), algorithm_keys=('clip_id',))
    out = packed.transform(results)
    assert set(out['inputs']) == {'imgs', 'extra_inputs'}
    assert out['data_samples'].clip_id == 7


def test_pack_action_inputs_needs_imgs():
    with pytest.raises(KeyError, match="'imgs'"):
        PackActionInputs().transform(dict(label=1))


# ------------------------------------------------------------------ 0.x transforms
MEAN, STD = [123.675, 116.28, 103.53], [58.395, 57.12, 57.375]


def test_normalize_rgb_matches_the_formula():
    imgs = make_imgs(2)
    out = Normalize(MEAN, STD).transform(dict(imgs=imgs, modality='RGB'))
    expected = (np.stack(imgs).astype(np.float32) - np.float32(MEAN)) / np.float32(STD)
    assert out['imgs'].dtype == np.float32
    np.testing.assert_allclose(out['imgs'], expected, rtol=1e-5, atol=1e-5)
    assert out['img_norm_cfg']['to_bgr'] is False


def test_normalize_to_bgr_swaps_channels_before_normalising():
    imgs = make_imgs(1)
    out = Normalize([0, 0, 0], [1, 1, 1], to_bgr=True).transform(dict(imgs=imgs))
    assert out['imgs'][0, 0, 0].tolist() == [20.0, 10.0, 0.0]


def test_normalize_flow_uses_two_channels():
    imgs = make_imgs(2, channels=2)
    out = Normalize([128, 128], [2, 4]).transform(dict(imgs=imgs, modality='Flow'))
    assert out['imgs'][1, 0, 0].tolist() == [(1 - 128) / 2, (11 - 128) / 4]


def test_normalize_validates_its_arguments():
    with pytest.raises(ValueError, match='mean and std'):
        Normalize([1, 2, 3], [1, 2])
    with pytest.raises(ValueError, match='non-zero'):
        Normalize([1, 2, 3], [1, 0, 1])


def test_legacy_collect_and_to_tensor_match_pack_action_inputs():
    new = PackActionInputs().transform(formatted(label=5))
    old = Collect(keys=['imgs', 'label'], meta_keys=[]).transform(formatted(label=5))
    old = ToTensor(keys=['imgs', 'label']).transform(old)
    assert set(old) == set(new) == {'inputs', 'data_samples'}
    assert torch.equal(old['inputs'], new['inputs'])
    assert torch.equal(old['data_samples'].gt_label, new['data_samples'].gt_label)
    assert old['data_samples'].metainfo == {}


def test_to_tensor_before_collect():
    results = ToTensor(keys=['imgs', 'label']).transform(formatted(label=2))
    assert isinstance(results['imgs'], torch.Tensor) and results['label'].tolist() == [2]
    packed = Collect(keys=['imgs', 'label'], meta_keys=['clip_len']).transform(results)
    assert packed['data_samples'].gt_label.tolist() == [2]
    assert packed['data_samples'].metainfo == {'clip_len': 1}


def test_collect_without_imgs_keeps_0x_layout():
    out = Collect(keys=['label'], meta_keys=['clip_len'], meta_name='metas').transform(
        dict(label=1, clip_len=8, other=0)
    )
    assert out == {'label': 1, 'metas': {'clip_len': 8}}


def test_collect_and_to_tensor_name_missing_keys():
    with pytest.raises(KeyError, match="'label'"):
        Collect(keys=['imgs', 'label']).transform(dict(imgs=make_imgs(1)))
    with pytest.raises(KeyError, match="'proposals'"):
        ToTensor(keys=['proposals']).transform(dict(imgs=make_imgs(1)))


def test_0x_pipeline_from_config_feeds_the_same_structure():
    pipeline = [
        dict(type='Normalize', mean=MEAN, std=STD, to_bgr=False),
        dict(type='FormatShape', input_format='NCHW'),
        dict(type='Collect', keys=['imgs', 'label'], meta_keys=[]),
        dict(type='ToTensor', keys=['imgs', 'label']),
    ]
    with DefaultScope.overwrite_default_scope('mmaction_ft'):
        out = Compose(pipeline)(dict(imgs=make_imgs(3), num_clips=3, clip_len=1, label=4))
    assert out['inputs'].dtype == torch.float32 and out['inputs'].shape == (3, 3, H, W)
    assert out['data_samples'].gt_label.tolist() == [4]


def test_ncthw_without_sampling_keys_names_the_missing_key():
    imgs = [np.zeros((4, 4, 3), np.uint8)] * 2
    with pytest.raises(KeyError, match="FormatShape: key 'clip_len'"):
        FormatShape('NCTHW').transform(dict(imgs=imgs))
