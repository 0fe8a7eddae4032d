import torch
import torch.nn.functional as F

from mmaction_ft.models.losses import BCELossWithLogits, CrossEntropyLoss


def test_hard_labels_match_cross_entropy_with_weight():
    scores, labels = torch.randn(5, 4), torch.tensor([0, 1, 2, 3, 1])
    assert torch.isclose(CrossEntropyLoss()(scores, labels), F.cross_entropy(scores, labels))
    weight = [1.0, 2.0, 0.5, 3.0]
    loss = CrossEntropyLoss(loss_weight=2.0, class_weight=weight)(scores, labels)
    assert torch.isclose(loss, 2 * F.cross_entropy(scores, labels, weight=torch.tensor(weight)))


def test_soft_labels():
    scores = torch.randn(3, 4)
    soft = torch.softmax(torch.randn(3, 4), 1)
    expected = -(soft * F.log_softmax(scores, 1)).sum(1).mean()
    assert torch.isclose(CrossEntropyLoss()(scores, soft), expected)


def test_one_hot_soft_labels_with_class_weight_equal_weighted_hard_labels():
    scores, labels = torch.randn(6, 4), torch.tensor([0, 1, 2, 3, 3, 0])
    weight = [1.0, 2.0, 0.5, 3.0]
    loss_fn = CrossEntropyLoss(class_weight=weight)
    soft = loss_fn(scores, F.one_hot(labels, 4).float())
    assert torch.isclose(soft, loss_fn(scores, labels), atol=1e-6)


def test_bce_with_logits():
    scores, targets = torch.randn(3, 4), torch.randint(0, 2, (3, 4)).float()
    expected = F.binary_cross_entropy_with_logits(scores, targets)
    assert torch.isclose(BCELossWithLogits()(scores, targets), expected)
    weight = torch.tensor([1.0, 0.0, 2.0, 1.0])
    loss = BCELossWithLogits(loss_weight=0.5, class_weight=weight.tolist())(scores, targets)
    expected = 0.5 * F.binary_cross_entropy_with_logits(scores, targets, weight=weight)
    assert torch.isclose(loss, expected)
