import pytest
import torch

from mmaction_ft.models.heads import I3DHead
from mmaction_ft.registry import MODELS
from mmaction_ft.structures import ActionDataSample


def _head(**kwargs):
    cfg = dict(type='I3DHead', num_classes=5, in_channels=8, dropout_ratio=0.0)
    head = MODELS.build({**cfg, **kwargs})
    head.init_weights()
    return head.eval()


def test_mmaction2_defaults_and_keys():
    head = I3DHead(num_classes=400, in_channels=2048)
    assert (head.spatial_type, head.dropout_ratio, head.init_std) == ('avg', 0.5, 0.01)
    assert list(head.state_dict()) == ['fc_cls.weight', 'fc_cls.bias']
    assert I3DHead.classifier_names == ('fc_cls',)


def test_each_view_is_pooled_over_time_and_space_and_keeps_its_row():
    torch.manual_seed(0)
    head = _head()
    x = torch.randn(6, 8, 2, 3, 3)  # 2 videos x 3 views
    scores = head(x, num_segs=3)
    assert scores.shape == (6, 5)
    assert torch.allclose(scores, head.fc_cls(x.mean(dim=(2, 3, 4))), atol=1e-6)


def test_c3d_head_takes_flat_features_without_pooling():
    head = _head(in_channels=40, spatial_type=None)
    assert head.avg_pool is None
    x = torch.randn(4, 40)  # C3D fc7 output
    assert torch.allclose(head(x), head.fc_cls(x))


@pytest.mark.parametrize('average_clips', ['prob', 'score'])
def test_predict_averages_the_view_rows(average_clips):
    torch.manual_seed(0)
    head = _head(average_clips=average_clips)
    x = torch.randn(6, 8, 1, 2, 2)
    samples = head.predict(x, [ActionDataSample(), ActionDataSample()], num_segs=3)
    rows = head(x)[3:]  # video 2
    if average_clips == 'prob':
        rows = rows.softmax(dim=1)
    assert torch.allclose(samples[1].pred_score, rows.mean(0), atol=1e-6)


def test_wrong_in_channels_names_the_config_key():
    with pytest.raises(ValueError, match=r'cls_head.in_channels=8 .*expected 8 channels, got 4'):
        _head()(torch.randn(2, 4, 1, 2, 2))


def test_several_training_clips_per_video_each_count_with_the_video_label():
    head = MODELS.build(dict(type='I3DHead', num_classes=5, in_channels=8, topk=(1,)))
    scores = torch.randn(4, 5)  # 2 videos x 2 clips
    samples = [ActionDataSample().set_gt_label(3), ActionDataSample().set_gt_label(1)]
    losses = head.loss_by_feat(scores, samples)
    expected = torch.nn.functional.cross_entropy(scores, torch.tensor([3, 3, 1, 1]))
    assert torch.allclose(losses['loss_cls'], expected)
    hits = (scores.argmax(1) == torch.tensor([3, 3, 1, 1])).float().mean()
    assert torch.allclose(losses['top1_acc'], hits)
    with pytest.raises(ValueError, match='I3DHead: 3 score rows for 2 videos'):
        head.loss_by_feat(scores[:3], samples)
