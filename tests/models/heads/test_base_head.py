"""What every head inherits from BaseHead: the logged top-k accuracy is the shared one."""

import numpy as np
import pytest
import torch

from mmaction_ft.models.heads import I3DHead, TSNHead
from mmaction_ft.structures import ActionDataSample
from mmaction_ft.utils.accuracy import top_k_accuracy


def _samples(labels):
    return [ActionDataSample().set_gt_label(int(label)) for label in labels]


@pytest.mark.parametrize('dtype', [torch.float32, torch.float16])
def test_logged_topk_ranks_ties_like_the_evaluation(dtype):
    # Scores from 3 values: ties at every top-k cut. The training log and acc/topk must agree
    # (MMAction2 1.2.0 computes both with the same np.argsort); torch.topk ranks ties otherwise.
    rng = np.random.default_rng(0)
    scores = torch.from_numpy(rng.integers(0, 3, size=(48, 10))).to(dtype)
    labels = rng.integers(0, 10, size=48)
    head = TSNHead(num_classes=10, in_channels=4, topk=(1, 2, 5))

    losses = head.loss_by_feat(scores, _samples(labels))

    expected = top_k_accuracy(scores.numpy(), labels, (1, 2, 5))
    logged = [losses[f'top{k}_acc'] for k in (1, 2, 5)]
    assert [acc.item() for acc in logged] == [torch.tensor(acc).item() for acc in expected]
    assert all(acc.device == scores.device and acc.dim() == 0 for acc in logged)


def test_bfloat16_scores_are_ranked_as_float32():
    rng = np.random.default_rng(1)
    scores = torch.from_numpy(rng.integers(0, 3, size=(16, 6)).astype(np.float32))
    labels = rng.integers(0, 6, size=16)
    head = I3DHead(num_classes=6, in_channels=4, topk=(1, 3))

    losses = head.loss_by_feat(scores.to(torch.bfloat16), _samples(labels))

    expected = top_k_accuracy(scores.numpy(), labels, (1, 3))
    assert [losses['top1_acc'].item(), losses['top3_acc'].item()] == [
        torch.tensor(acc).item() for acc in expected
    ]
