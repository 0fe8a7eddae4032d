"""CrossEntropyLoss(class_weight='auto'): inverse-frequency weights filled from label counts."""

import pytest
import torch
import torch.nn.functional as F

from mmaction_ft.models.losses import BCELossWithLogits, CrossEntropyLoss, inverse_frequency_weights
from mmaction_ft.registry import MODELS


def test_weights_are_n_over_c_times_n_c():
    # 90/9/1 samples: N=100, C=3 -> 100/270, 100/27, 100/3.
    weights = inverse_frequency_weights([90, 9, 1])
    assert torch.allclose(weights, torch.tensor([100 / 270, 100 / 27, 100 / 3]))
    # Averaged over the 100 training samples the weight is 1, the unweighted loss's scale.
    assert torch.isclose((torch.tensor([90.0, 9.0, 1.0]) * weights).sum() / 100, torch.tensor(1.0))


def test_a_class_without_samples_weighs_0():
    # N=8, C=3: 8/6, 0, 8/18.
    weights = inverse_frequency_weights([2, 0, 6])
    assert torch.allclose(weights, torch.tensor([8 / 6, 0.0, 8 / 18]))


def test_counts_are_checked():
    for counts in ([0, 0], [], [3, -1]):
        with pytest.raises(ValueError, match='class counts'):
            inverse_frequency_weights(counts)


def test_auto_loss_refuses_to_run_until_filled_then_weights_the_rare_class():
    loss_fn = MODELS.build(dict(type='CrossEntropyLoss', class_weight='auto'))
    scores, labels = torch.randn(6, 3), torch.tensor([0, 0, 0, 0, 1, 2])
    with pytest.raises(
        RuntimeError, match=r"class_weight='auto'\) has no weights yet.*ClassWeightHook"
    ):
        loss_fn(scores, labels)
    weights = loss_fn.set_class_counts([4, 1, 1])  # N=6, C=3: 0.5, 2, 2
    assert torch.allclose(weights, torch.tensor([0.5, 2.0, 2.0]))
    loss = loss_fn(scores, labels)
    per_sample = F.cross_entropy(scores, labels, reduction='none')
    w = weights[labels]
    assert torch.isclose(loss, (w * per_sample).sum() / w.sum())
    # Each of the two rare samples now counts 4x a frequent one, unlike the unweighted mean.
    assert not torch.isclose(loss, per_sample.mean())
    # Soft (one-hot) labels give the same weighted loss.
    assert torch.isclose(loss_fn(scores, F.one_hot(labels, 3).float()), loss, atol=1e-6)


def test_weights_must_match_the_class_count():
    loss_fn = CrossEntropyLoss(class_weight='auto')
    loss_fn.set_class_counts([1, 1])
    with pytest.raises(ValueError, match='class_weight has 2 weights but the scores have 3'):
        loss_fn(torch.randn(2, 3), torch.tensor([0, 1]))


def test_other_strings_and_bce_auto_are_refused():
    with pytest.raises(ValueError, match="'auto' or None, got 'balanced'"):
        CrossEntropyLoss(class_weight='balanced')
    with pytest.raises(ValueError, match="'auto' is supported by CrossEntropyLoss"):
        BCELossWithLogits(class_weight='auto')
    with pytest.raises(RuntimeError, match="set_class_counts is for class_weight='auto'"):
        CrossEntropyLoss(class_weight=[1.0, 2.0]).set_class_counts([1, 1])
