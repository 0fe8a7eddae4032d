import pytest
import torch
import torch.nn.functional as F

from mmaction_ft.models.heads import AvgConsensus, TSNHead
from mmaction_ft.models.losses import BCELossWithLogits
from mmaction_ft.structures import ActionDataSample


def _samples(labels):
    return [ActionDataSample().set_gt_label(label) for label in labels]


def test_avg_consensus_keeps_the_view_dim():
    x = torch.arange(12.0).view(2, 3, 2)
    out = AvgConsensus(dim=1)(x)
    assert out.shape == (2, 1, 2)
    assert torch.equal(out[:, 0], x.mean(1))


def test_forward_averages_views_before_fc_cls():
    torch.manual_seed(0)
    head = TSNHead(num_classes=5, in_channels=8, dropout_ratio=0.0)
    head.init_weights()
    x = torch.randn(2 * 3, 8, 4, 4)  # 2 videos x 3 views
    scores = head(x, num_segs=3)
    assert scores.shape == (2, 5)
    pooled = x.mean(dim=(2, 3)).view(2, 3, 8).mean(1)
    assert torch.allclose(scores, head.fc_cls(pooled), atol=1e-6)


def test_avg_pool_reports_a_2d_output_size():
    # MMAction2's unit tests check head.avg_pool.output_size == (1, 1).
    head = TSNHead(num_classes=5, in_channels=8)
    assert isinstance(head.avg_pool, torch.nn.AdaptiveAvgPool2d)
    assert head.avg_pool.output_size == (1, 1)
    assert TSNHead(num_classes=5, in_channels=8, spatial_type=None).avg_pool is None


def test_init_weights_normal_std_and_zero_bias():
    torch.manual_seed(0)
    head = TSNHead(num_classes=400, in_channels=2048, init_std=0.01)
    head.init_weights()
    assert abs(head.fc_cls.weight.std().item() - 0.01) < 5e-4
    assert torch.all(head.fc_cls.bias == 0)


def test_dropout_only_in_training():
    head = TSNHead(num_classes=3, in_channels=16, dropout_ratio=0.9)
    x = torch.randn(4, 16, 1, 1)
    head.eval()
    assert torch.equal(head(x, num_segs=1), head(x, num_segs=1))
    head.train()
    assert not torch.equal(head(x, num_segs=1), head(x, num_segs=1))


def test_loss_has_cross_entropy_and_topk_accuracy():
    head = TSNHead(num_classes=6, in_channels=4, topk=(1, 5))
    scores = torch.tensor(
        [[9.0, 1, 2, 3, 4, 5], [0, 9, 1, 2, 3, 4], [9, 1, 2, 3, 4, 8]]
    )  # video 2 (label 5) is 2nd best, video 3 (label 0) is best
    labels = [0, 5, 0]
    losses = head.loss_by_feat(scores, _samples(labels))
    assert torch.isclose(losses['top1_acc'], torch.tensor(2 / 3))
    assert torch.isclose(losses['top5_acc'], torch.tensor(1.0))
    assert torch.isclose(losses['loss_cls'], F.cross_entropy(scores, torch.tensor(labels)))


def test_topk_larger_than_num_classes_counts_every_class():
    head = TSNHead(num_classes=3, in_channels=4)
    losses = head.loss_by_feat(torch.tensor([[0.0, 1.0, 2.0]]), _samples([0]))
    assert losses['top1_acc'] == 0 and losses['top5_acc'] == 1


def test_label_smoothing():
    head = TSNHead(num_classes=4, in_channels=4, label_smooth_eps=0.1)
    scores = torch.randn(2, 4)
    losses = head.loss_by_feat(scores, _samples([1, 3]))
    target = F.one_hot(torch.tensor([1, 3]), 4) * 0.9 + 0.1 / 4
    expected = -(target * F.log_softmax(scores, 1)).sum(1).mean()
    assert torch.isclose(losses['loss_cls'], expected)
    assert 'top1_acc' in losses


def test_multi_class_with_bce_and_one_hot_labels():
    head = TSNHead(
        num_classes=3, in_channels=4, multi_class=True, loss_cls=dict(type='BCELossWithLogits')
    )
    assert isinstance(head.loss_cls, BCELossWithLogits)
    scores = torch.randn(2, 3)
    targets = torch.tensor([[1.0, 0, 1], [0, 1, 0]])
    losses = head.loss_by_feat(scores, [ActionDataSample().set_gt_label(t) for t in targets])
    assert set(losses) == {'loss_cls'}  # no top-k accuracy for multi-label targets
    assert torch.isclose(losses['loss_cls'], F.binary_cross_entropy_with_logits(scores, targets))


def test_inconsistent_labels_raise():
    head = TSNHead(num_classes=3, in_channels=4)
    with pytest.raises(ValueError, match='one-hot'):
        head.loss_by_feat(torch.randn(2, 3), _samples([[0, 2], 1]))


def test_predict_prob_averages_softmax_over_segments():
    head = TSNHead(num_classes=3, in_channels=4, average_clips='prob')
    scores = torch.tensor([[1.0, 2.0, 3.0], [3.0, 0.0, 0.0], [0.0, 0.0, 1.0], [0.0, 5.0, 0.0]])
    samples = head.predict_by_feat(scores, _samples([0, 1]))  # 2 videos x 2 segments
    expected = F.softmax(scores, 1).view(2, 2, 3).mean(1)
    for sample, exp in zip(samples, expected):
        assert sample.pred_score.shape == (3,)
        assert torch.allclose(sample.pred_score, exp)
        assert torch.isclose(sample.pred_score.sum(), torch.tensor(1.0))
        assert sample.pred_label.item() == exp.argmax().item()


def test_predict_score_and_none():
    scores = torch.tensor([[1.0, 2.0, 3.0], [3.0, 0.0, 0.0]])
    head = TSNHead(num_classes=3, in_channels=4, average_clips='score')
    (sample,) = head.predict_by_feat(scores, _samples([0]))
    assert torch.allclose(sample.pred_score, torch.tensor([2.0, 1.0, 1.5]))
    assert sample.pred_label.tolist() == [0]
    head.average_clips = None
    samples = head.predict_by_feat(scores, _samples([0, 1]))  # one row per video: raw scores
    assert torch.equal(samples[1].pred_score, scores[1])


def test_mixed_precision_scores_are_stored_in_float32():
    """Under ``--amp`` the head computes in bfloat16; dumps and metrics read float32 with numpy."""
    head = TSNHead(num_classes=3, in_channels=4, average_clips='prob')
    scores = torch.tensor([[1.0, 2.0, 3.0], [3.0, 0.0, 0.5]])
    (sample,) = head.predict_by_feat(scores.bfloat16(), _samples([0]))
    assert sample.pred_score.dtype == torch.float32
    expected = F.softmax(scores.bfloat16().float(), 1).mean(0)
    assert torch.allclose(sample.pred_score, expected, atol=1e-6)
    assert sample.pred_score.numpy().shape == (3,)


def test_predict_through_forward_uses_every_view():
    torch.manual_seed(0)
    head = TSNHead(num_classes=5, in_channels=8, average_clips='prob').eval()
    feats = torch.randn(2 * 250, 8, 2, 2)  # 25 clips x 10 crops per video
    samples = head.predict(feats, _samples([0, 1]), num_segs=250)
    direct = F.softmax(head(feats, num_segs=250), dim=1)
    assert torch.allclose(samples[0].pred_score, direct[0], atol=1e-6)


def test_bad_average_clips_is_rejected():
    with pytest.raises(ValueError, match='average_clips'):
        TSNHead(num_classes=3, in_channels=4, average_clips='mean')
    head = TSNHead(num_classes=3, in_channels=4)
    with pytest.raises(ValueError, match='average_clips'):
        head.average_clips = 'avg'


def test_wrong_in_channels_names_the_config_key():
    head = TSNHead(num_classes=3, in_channels=2048)
    with pytest.raises(
        ValueError, match=r'cls_head.in_channels=2048 .*expected 2048 channels, got 512'
    ):
        head(torch.randn(2, 512, 7, 7), num_segs=1)
