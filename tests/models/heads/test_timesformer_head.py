import pytest
import torch

from mmaction_ft.models.heads import TimeSformerHead
from mmaction_ft.registry import MODELS
from mmaction_ft.structures import ActionDataSample


def _head(**kwargs):
    cfg = dict(type='TimeSformerHead', num_classes=5, in_channels=8)
    head = MODELS.build({**cfg, **kwargs})
    head.init_weights()
    return head.eval()


def test_mmaction2_defaults_and_keys():
    head = TimeSformerHead(num_classes=400, in_channels=768)
    assert (head.init_std, head.dropout_ratio, head.dropout) == (0.02, 0.0, None)
    assert list(head.state_dict()) == ['fc_cls.weight', 'fc_cls.bias']
    assert TimeSformerHead.classifier_names == ('fc_cls',)


def test_truncated_normal_init():
    torch.manual_seed(0)
    head = _head(num_classes=400, in_channels=768, init_std=0.02)
    weight = head.fc_cls.weight
    # mmengine's (and MMAction2's) bounds are absolute (+-2), so at std 0.02 nothing is cut
    assert weight.std().item() == pytest.approx(0.02, rel=0.05)
    assert head.fc_cls.bias.abs().sum() == 0


def test_each_view_keeps_its_row():
    head = _head()
    x = torch.randn(6, 8)  # 2 videos x 3 views
    scores = head(x, num_segs=3)
    assert scores.shape == (6, 5)
    assert torch.allclose(scores, x @ head.fc_cls.weight.T + head.fc_cls.bias, atol=1e-6)


def test_dropout_only_in_training():
    head = _head(dropout_ratio=0.5)
    x = torch.randn(64, 8)
    assert torch.equal(head(x), head(x))
    head.train()
    torch.manual_seed(0)
    assert not torch.allclose(head(x), head.fc_cls(x))


def test_predict_averages_the_view_probabilities():
    torch.manual_seed(0)
    head = _head(average_clips='prob')
    x = torch.randn(6, 8)
    samples = head.predict(x, [ActionDataSample(), ActionDataSample()], num_segs=3)
    assert torch.allclose(samples[1].pred_score, head(x)[3:].softmax(dim=1).mean(0), atol=1e-6)


def test_wrong_in_channels_names_the_config_key():
    with pytest.raises(ValueError, match=r'cls_head.in_channels=8 .*expected 8 channels, got 4'):
        _head()(torch.randn(2, 4))


def test_feature_map_input_is_refused():
    with pytest.raises(ValueError, match='one feature vector per view.*return_feat_map'):
        _head()(torch.randn(2, 8, 2, 2, 2))


@pytest.mark.parametrize(
    'kwargs, match',
    [
        (dict(dropout_ratio=1.0), r'dropout_ratio must be in \[0, 1\)'),
        (dict(init_std=0), 'init_std'),
    ],
)
def test_argument_validation(kwargs, match):
    with pytest.raises(ValueError, match=match):
        TimeSformerHead(num_classes=5, in_channels=8, **kwargs)
