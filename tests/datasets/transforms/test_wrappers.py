"""PytorchVideoWrapper: pytorchvideo's transforms (MMAction2 1.2.0) without pytorchvideo."""

import numpy as np
import pytest
import torch

from mmaction_ft.registry import TRANSFORMS

OPS = {
    'RandAugment': dict(magnitude=7, num_layers=4),
    'AugMix': {},
    'RandomResizedCrop': dict(
        target_height=8, target_width=10, scale=(0.08, 1.0), aspect_ratio=(0.75, 1.33)
    ),
    'ShortSideScale': dict(size=10),
    'RandomShortSideScale': dict(min_size=8, max_size=16),
}
# MMAction2 1.2.0's PytorchVideoWrapper (with pytorchvideo 0.1.5) on `clip()`, after
# torch.manual_seed(0..5): (sum of all output pixels, frame shape).
MMACTION2 = {
    'RandAugment': [319296, 737334, 613300, 944499, 366672, 362804],
    'AugMix': [500850, 529908, 532231, 528867, 491756, 536932],
    'RandomResizedCrop': [88891, 89500, 88535, 91470, 88488, 89401],
    'ShortSideScale': [135141] * 6,
    'RandomShortSideScale': [341477, 186582, 81112, 186582, 186582, 341477],
}
MMACTION2_SHAPES = {
    'RandAugment': [(20, 24, 3)] * 6,
    'AugMix': [(20, 24, 3)] * 6,
    'RandomResizedCrop': [(8, 10, 3)] * 6,
    'ShortSideScale': [(10, 12, 3)] * 6,
    'RandomShortSideScale': [(16, 19, 3), (12, 14, 3), (8, 9, 3), (12, 14, 3), (12, 14, 3)]
    + [(16, 19, 3)],
}


def clip():
    rng = np.random.RandomState(0)
    return [rng.randint(0, 256, (20, 24, 3)).astype(np.uint8) for _ in range(3)]


def still_clip(num_frames=4):
    """The same random frame repeated: any per-frame difference in the output is a bug."""
    frame = np.random.RandomState(1).randint(0, 256, (20, 24, 3)).astype(np.uint8)
    return [frame.copy() for _ in range(num_frames)]


@pytest.mark.parametrize('op', list(OPS))
def test_matches_mmaction2_pytorchvideo_under_the_same_torch_seed(op):
    transform = TRANSFORMS.build(dict(type='PytorchVideoWrapper', op=op, **OPS[op]))
    for seed, (expected, shape) in enumerate(zip(MMACTION2[op], MMACTION2_SHAPES[op])):
        torch.manual_seed(seed)
        out = transform(dict(imgs=clip()))
        assert out['imgs'][0].shape == shape
        assert out['imgs'][0].dtype == np.uint8
        assert out['img_shape'] == shape[:2]
        assert int(np.stack(out['imgs']).astype(np.int64).sum()) == expected


@pytest.mark.parametrize('op', list(OPS))
def test_every_frame_of_a_clip_gets_the_same_augmentation(op):
    transform = TRANSFORMS.build(dict(type='PytorchVideoWrapper', op=op, **OPS[op]))
    changed = 0
    for seed in range(10):
        torch.manual_seed(seed)
        frames = still_clip()
        out = transform(dict(imgs=[f.copy() for f in frames]))['imgs']
        for img in out[1:]:
            np.testing.assert_array_equal(img, out[0])
        changed += out[0].shape != frames[0].shape or not np.array_equal(out[0], frames[0])
    assert changed >= 8  # it did augment


def test_randaugment_draws_differ_between_clips():
    transform = TRANSFORMS.build(dict(type='PytorchVideoWrapper', op='RandAugment', magnitude=7))
    torch.manual_seed(0)
    outs = [transform(dict(imgs=still_clip(2)))['imgs'][0] for _ in range(6)]
    assert len({o.tobytes() for o in outs}) > 3


def test_random_resized_crop_with_shift_moves_the_box_over_time():
    kwargs = dict(OPS['RandomResizedCrop'], shift=True)
    transform = TRANSFORMS.build(dict(type='PytorchVideoWrapper', op='RandomResizedCrop', **kwargs))
    torch.manual_seed(0)
    out = transform(dict(imgs=clip()))['imgs']
    assert all(img.shape == (8, 10, 3) for img in out)


def test_unknown_op_lists_the_allowed_ones():
    with pytest.raises(ValueError, match="'AugMix', 'RandAugment', 'RandomResizedCrop'"):
        TRANSFORMS.build(dict(type='PytorchVideoWrapper', op='CutOut'))


def test_bad_arguments_name_the_op():
    with pytest.raises(TypeError, match="op='RandAugment'.*num_layer"):
        TRANSFORMS.build(dict(type='PytorchVideoWrapper', op='RandAugment', num_layer=4))
    with pytest.raises(ValueError, match='num_layers'):
        TRANSFORMS.build(dict(type='PytorchVideoWrapper', op='RandAugment', num_layers=15))
    with pytest.raises(ValueError, match='min_size'):
        TRANSFORMS.build(
            dict(type='PytorchVideoWrapper', op='RandomShortSideScale', min_size=9, max_size=8)
        )
    with pytest.raises(ValueError, match="backend='pytorch'"):
        TRANSFORMS.build(
            dict(type='PytorchVideoWrapper', op='ShortSideScale', size=8, backend='opencv')
        )


def test_boxes_are_refused_and_repr_names_the_op():
    transform = TRANSFORMS.build(dict(type='PytorchVideoWrapper', op='AugMix'))
    with pytest.raises(ValueError, match='gt_bboxes'):
        transform(dict(imgs=clip(), gt_bboxes=np.zeros((1, 4))))
    assert "op='AugMix'" in repr(transform)
