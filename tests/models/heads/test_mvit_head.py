import pytest
import torch

from mmaction_ft.models.heads import MViTHead
from mmaction_ft.registry import MODELS
from mmaction_ft.structures import ActionDataSample


def _head(**kwargs):
    cfg = dict(type='MViTHead', num_classes=5, in_channels=8, dropout_ratio=0.0)
    head = MODELS.build({**cfg, **kwargs})
    head.init_weights()
    return head.eval()


def test_mmaction2_defaults_keys_and_init():
    head = MViTHead(num_classes=400, in_channels=768)
    assert (head.dropout_ratio, head.init_std, head.init_scale) == (0.5, 0.02, 1.0)
    assert list(head.state_dict()) == ['fc_cls.weight', 'fc_cls.bias']
    assert MViTHead.classifier_names == ('fc_cls',)
    torch.manual_seed(0)
    head = _head(init_scale=0.5, in_channels=768, num_classes=400)
    assert torch.allclose(head.fc_cls.bias, torch.tensor(0.01))  # 0.02 * init_scale
    assert abs(head.fc_cls.weight.std() / (0.02 * 0.5) - 1) < 0.02  # init_std * init_scale


def test_class_token_of_the_last_scale_is_classified():
    head = _head()
    cls_token = torch.randn(6, 8)
    feats = (
        [torch.randn(6, 4, 1, 1, 1), torch.randn(6, 4)],
        [torch.randn(6, 8, 1, 2, 2), cls_token],
    )
    scores = head(feats, num_segs=3)
    assert scores.shape == (6, 5)
    assert torch.allclose(scores, head.fc_cls(cls_token))


def test_without_class_token_the_patch_tokens_are_averaged():
    head = _head(with_cls_token=False)
    patch = torch.randn(2, 8, 2, 3, 3)
    assert torch.allclose(head((patch,)), head.fc_cls(patch.mean(dim=(2, 3, 4))), atol=1e-6)


def test_backbone_and_head_disagreeing_on_the_class_token_is_explained():
    with pytest.raises(ValueError, match='set backbone.output_cls_token=True'):
        _head()((torch.randn(2, 8, 1, 2, 2),))
    with pytest.raises(ValueError, match='set\n?.*backbone.output_cls_token=False'):
        _head(with_cls_token=False)(([torch.randn(2, 8, 1, 2, 2), torch.randn(2, 8)],))


def test_wrong_in_channels_names_the_config_key():
    with pytest.raises(ValueError, match=r'cls_head.in_channels=8 .*got 4'):
        _head()(([torch.randn(2, 4, 1, 1, 1), torch.randn(2, 4)],))


def test_invalid_dropout_is_rejected():
    with pytest.raises(ValueError, match=r'dropout_ratio must be in \[0, 1\), got 1.5'):
        MViTHead(num_classes=5, in_channels=8, dropout_ratio=1.5)


def test_predict_averages_views_as_probabilities():
    head = _head(average_clips='prob')
    feats = ([torch.randn(4, 8, 1, 1, 1), torch.randn(4, 8)],)
    samples = head.predict(feats, [ActionDataSample(), ActionDataSample()], num_segs=2)
    expected = head(feats)[2:].softmax(dim=1).mean(0)
    assert torch.allclose(samples[1].pred_score, expected, atol=1e-6)
