"""RandAugment / AugMix ops on [T, C, H, W] clips: one set of parameters for all frames."""

import pytest
import torch
import torchvision.transforms.functional as F1

from mmaction_ft.datasets.transforms.rand_augment import (
    AUGMIX_OPS,
    OPS,
    RANDAUG_OPS,
    VideoAugMix,
    VideoRandAugment,
    _apply,
)


def video():
    g = torch.Generator().manual_seed(0)
    return torch.randint(0, 256, (3, 3, 16, 20), dtype=torch.uint8, generator=g)


@pytest.mark.parametrize('name', list(RANDAUG_OPS))
def test_each_op_applies_the_same_parameters_to_every_frame(name):
    clip = video()
    torch.manual_seed(0)
    out = _apply(name, RANDAUG_OPS[name], 7.0, clip, (0.5, 0.5, 0.5))
    assert out.shape == clip.shape and out.dtype == torch.uint8
    for t in range(clip.shape[0]):  # op on the clip == the same op on the frame alone
        torch.manual_seed(0)
        alone = _apply(name, RANDAUG_OPS[name], 7.0, clip[t : t + 1], (0.5, 0.5, 0.5))
        assert torch.equal(out[t : t + 1], alone)


def test_op_tables_are_pytorchvideos():
    assert len(RANDAUG_OPS) == 14 and 'Invert' in RANDAUG_OPS
    assert set(AUGMIX_OPS) == set(RANDAUG_OPS) - {'Invert'}
    assert set(OPS) == set(RANDAUG_OPS)
    # Posterize keeps 4 - int(level * 0.4) bits; Solarize's threshold falls with the level.
    assert RANDAUG_OPS['Posterize'] == ('decreasing_int', (4, 4))
    assert RANDAUG_OPS['TranslateX'] == ('negate', (0, 0.45))


def test_level_ten_rotation_turns_by_thirty_degrees():
    clip = video()
    torch.manual_seed(0)
    out = _apply('Rotate', RANDAUG_OPS['Rotate'], 10.0, clip, (0.5, 0.5, 0.5))
    plus = F1.rotate(clip, 30.0, interpolation=F1.InterpolationMode.BILINEAR, fill=[0.5] * 3)
    minus = F1.rotate(clip, -30.0, interpolation=F1.InterpolationMode.BILINEAR, fill=[0.5] * 3)
    assert torch.equal(out, plus) or torch.equal(out, minus)


def test_prob_zero_is_identity_and_seed_reproduces():
    clip = video()
    assert torch.equal(VideoRandAugment(magnitude=9, num_layers=3, prob=0.0)(clip), clip)
    aug = VideoRandAugment(magnitude=9, num_layers=3, prob=1.0)
    torch.manual_seed(4)
    first = aug(clip)
    torch.manual_seed(4)
    assert torch.equal(aug(clip), first)
    assert not torch.equal(first, clip)


def test_augmix_blends_into_uint8():
    clip = video()
    torch.manual_seed(0)
    out = VideoAugMix(magnitude=3, width=2, depth=1)(clip)
    assert out.dtype == torch.uint8 and out.shape == clip.shape


@pytest.mark.parametrize(
    'cls, kwargs, match',
    [
        (VideoRandAugment, dict(magnitude=11), 'magnitude'),
        (VideoRandAugment, dict(prob=1.5), 'prob'),
        (VideoRandAugment, dict(sampling_type='beta'), 'sampling_type'),
        (VideoRandAugment, dict(transform_hparas=dict(fill=0)), 'transform_hparas'),
        (VideoAugMix, dict(magnitude=0), 'magnitude'),
        (VideoAugMix, dict(alpha=0), 'alpha'),
        (VideoAugMix, dict(depth=0), 'depth'),
    ],
)
def test_arguments_are_validated(cls, kwargs, match):
    with pytest.raises(ValueError, match=match):
        cls(**kwargs)
