import numpy as np
import pytest
import torch
import torch.nn.functional as F

from mmaction_ft.models.data_preprocessors import (
    BaseMiniBatchBlending,
    CutmixBlending,
    MixupBlending,
    RandomBatchAugment,
)
from mmaction_ft.models.heads import TSNHead
from mmaction_ft.registry import MODELS
from mmaction_ft.structures import ActionDataSample


def _samples(labels):
    return [ActionDataSample().set_gt_label(lb) for lb in labels]


def _two_clips():
    """Video 0 all zeros, video 1 all ones: [2, num_views=2, C=3, T=2, H=8, W=10]."""
    return torch.stack([torch.zeros(2, 3, 2, 8, 10), torch.ones(2, 3, 2, 8, 10)])


def _first_seed(blend, accept):
    """Blend the two clips (labels 0 and 1) with seeds 0, 1, ... until ``accept(mixed)``."""
    for seed in range(200):
        torch.manual_seed(seed)
        mixed, samples = blend(_two_clips(), _samples([0, 1]))
        if accept(mixed):
            return mixed, torch.stack([s.gt_label for s in samples])
    raise AssertionError('no seed gave a proper blend')


@pytest.mark.parametrize(
    'blend',
    [
        MixupBlending(num_classes=4, alpha=0.8),
        CutmixBlending(num_classes=4, alpha=1.0),
        RandomBatchAugment(
            [dict(type='MixupBlending', num_classes=4), dict(type='CutmixBlending', num_classes=4)]
        ),
    ],
)
def test_soft_targets_are_distributions_over_num_classes(blend):
    torch.manual_seed(0)
    np.random.seed(0)
    inputs = torch.randn(5, 1, 3, 2, 8, 8)
    _, samples = blend(inputs, _samples([0, 1, 2, 3, 1]))
    targets = torch.stack([s.gt_label for s in samples])
    assert targets.shape == (5, 4) and targets.dtype == torch.float32
    assert torch.allclose(targets.sum(1), torch.ones(5))
    assert (targets >= 0).all()


def test_mixup_blends_clips_and_labels_with_the_same_lambda():
    # Clip i becomes lam * x_i + (1 - lam) * x_perm(i): with x_0 = 0 and x_1 = 1 a swap gives
    # the constant clips 1 - lam and lam, whose targets must be [lam, 1 - lam] and [1 - lam, lam].
    mixed, targets = _first_seed(
        MixupBlending(num_classes=3, alpha=0.8), lambda m: 0.05 < float(m[0].mean()) < 0.95
    )
    share_of_1 = float(mixed[0, 0, 0, 0, 0, 0])  # 1 - lam
    assert torch.allclose(mixed[0], torch.full_like(mixed[0], share_of_1))
    assert torch.allclose(mixed[1], torch.full_like(mixed[1], 1 - share_of_1))
    expected = torch.tensor([[1 - share_of_1, share_of_1, 0], [share_of_1, 1 - share_of_1, 0]])
    assert torch.allclose(targets, expected, atol=1e-6)


def test_cutmix_label_weight_is_the_pasted_area_fraction():
    mixed, targets = _first_seed(
        CutmixBlending(num_classes=3, alpha=1.0), lambda m: 0 < float(m[0].mean()) < 1
    )
    # The same box of every view, channel and frame comes from the other clip.
    box = mixed[0, 0, 0, 0]  # [H, W]
    assert torch.equal(mixed[0], box.expand_as(mixed[0]))
    rows, cols = box.nonzero(as_tuple=True)
    area = box.sum() / box.numel()
    assert box.sum() == (rows.max() - rows.min() + 1) * (cols.max() - cols.min() + 1)  # a box
    assert torch.equal(mixed[1], 1 - mixed[0])
    expected = torch.tensor([[1 - area, area, 0], [area, 1 - area, 0]])
    assert torch.allclose(targets, expected, atol=1e-6)


def test_cutmix_leaves_the_callers_tensor_intact():
    torch.manual_seed(0)
    inputs = _two_clips()
    CutmixBlending(num_classes=2, alpha=1.0)(inputs, _samples([0, 1]))
    assert torch.equal(inputs, _two_clips())


def test_multi_label_float_targets_are_mixed_too():
    torch.manual_seed(3)
    labels = [torch.tensor([1.0, 0, 1]), torch.tensor([0.0, 1, 0])]
    mixed, samples = MixupBlending(num_classes=3, alpha=0.8)(_two_clips(), _samples(labels))
    lam = 1 - float(mixed[0].mean())  # x_0 = 0: its share of x_1 is 1 - lam (or 0, no swap)
    expected = lam * labels[0] + (1 - lam) * (labels[1] if lam < 1 else labels[0])
    assert torch.allclose(samples[0].gt_label, expected, atol=1e-6)


def test_a_label_outside_num_classes_names_the_fix():
    with pytest.raises(
        ValueError, match="labels \\[0, 7\\] outside \\[0, num_classes=5\\).*head's"
    ):
        MixupBlending(num_classes=5)(_two_clips(), _samples([0, 7]))


class _Shift(BaseMiniBatchBlending):
    """Adds ``shift`` to the inputs, so the chosen augment can be read off the output."""

    def __init__(self, shift, num_classes=2):
        super().__init__(num_classes)
        self.shift = shift

    def do_blending(self, inputs, label, **kwargs):
        return inputs + self.shift, label


def _choice_frequencies(augment, draws=3000):
    np.random.seed(0)
    counts = {}
    for _ in range(draws):
        out, _ = augment(torch.zeros(1, 1), _samples([0]))
        counts[int(out)] = counts.get(int(out), 0) + 1
    return {shift: n / draws for shift, n in counts.items()}


def test_random_batch_augment_respects_probs_and_leaves_the_rest_unchanged():
    freqs = _choice_frequencies(RandomBatchAugment([_Shift(1), _Shift(2)], probs=[0.5, 0.3]))
    assert set(freqs) == {0, 1, 2}  # 0: no augment
    assert freqs[1] == pytest.approx(0.5, abs=0.04)
    assert freqs[2] == pytest.approx(0.3, abs=0.04)
    assert freqs[0] == pytest.approx(0.2, abs=0.04)


def test_random_batch_augment_without_probs_is_uniform_and_always_augments():
    freqs = _choice_frequencies(RandomBatchAugment([_Shift(1), _Shift(2), _Shift(3)]))
    assert set(freqs) == {1, 2, 3}
    assert all(f == pytest.approx(1 / 3, abs=0.04) for f in freqs.values())


def test_random_batch_augment_does_not_change_the_callers_probs():
    probs = [0.5, 0.5]
    RandomBatchAugment([_Shift(1), _Shift(2)], probs=probs)
    assert probs == [0.5, 0.5]


@pytest.mark.parametrize(
    'augments, probs, match',
    [
        ([_Shift(1), _Shift(2)], [0.7, 0.6], r'sum to at most 1 .* they sum to 1.3'),
        ([_Shift(1), _Shift(2)], [0.5], 'one probability per augment: 2 augments'),
        ([_Shift(1), _Shift(2, num_classes=3)], None, r'disagree on num_classes: \[2, 3\]'),
    ],
)
def test_random_batch_augment_bad_arguments(augments, probs, match):
    with pytest.raises(ValueError, match=match):
        RandomBatchAugment(augments, probs=probs)


def test_mmaction2_config_dict_builds():
    blend = MODELS.build(
        dict(
            type='RandomBatchAugment',
            augments=[
                dict(type='MixupBlending', alpha=0.8, num_classes=400),
                dict(type='CutmixBlending', alpha=1, num_classes=400),
            ],
        )
    )
    assert [type(a) for a in blend.augments] == [MixupBlending, CutmixBlending]
    assert blend.num_classes == 400 and blend.probs is None
    assert blend.augments[0].alpha == 0.8


def test_the_heads_loss_takes_blended_targets():
    torch.manual_seed(0)
    head = TSNHead(num_classes=3, in_channels=4)
    _, samples = MixupBlending(num_classes=3)(_two_clips(), _samples([0, 2]))
    scores = torch.randn(2, 3)
    targets = torch.stack([s.gt_label for s in samples])
    losses = head.loss_by_feat(scores, samples)
    assert torch.isclose(losses['loss_cls'], -(targets * F.log_softmax(scores, 1)).sum(1).mean())
    assert 'top1_acc' not in losses  # accuracy is undefined for soft targets


def test_a_blending_with_other_num_classes_than_the_head_is_named():
    head = TSNHead(num_classes=3, in_channels=4)
    _, samples = MixupBlending(num_classes=4)(_two_clips(), _samples([0, 2]))
    with pytest.raises(ValueError, match='data_preprocessor.blending num_classes'):
        head.loss_by_feat(torch.randn(2, 3), samples)
