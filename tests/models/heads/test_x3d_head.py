import pytest
import torch

from mmaction_ft.models.heads import X3DHead
from mmaction_ft.registry import MODELS


def _head(**kwargs):
    cfg = dict(type='X3DHead', num_classes=5, in_channels=6, mid_channels=16, dropout_ratio=0.0)
    head = MODELS.build({**cfg, **kwargs})
    head.init_weights()
    return head.eval()


def test_mmaction2_defaults_keys_and_classifier():
    head = X3DHead(num_classes=400, in_channels=432)
    assert (head.mid_channels, head.dropout_ratio, head.init_std) == (2048, 0.5, 0.01)
    assert list(head.state_dict()) == ['fc1.weight', 'fc2.weight', 'fc2.bias']
    assert head.fc1.weight.shape == (2048, 432)
    assert X3DHead.classifier_names == ('fc2',)
    assert 'fc1.bias' in X3DHead(num_classes=4, in_channels=8, fc1_bias=True).state_dict()


@pytest.mark.parametrize('spatial_type', ['avg', 'max'])
def test_pool_fc1_relu_fc2(spatial_type):
    torch.manual_seed(0)
    head = _head(spatial_type=spatial_type)
    x = torch.randn(3, 6, 2, 3, 3)
    pooled = x.mean(dim=(2, 3, 4)) if spatial_type == 'avg' else x.amax(dim=(2, 3, 4))
    expected = head.fc2(torch.relu(head.fc1(pooled)))
    assert torch.allclose(head(x), expected, atol=1e-6)


def test_unknown_spatial_type_is_refused():
    with pytest.raises(ValueError, match="'avg' or 'max'"):
        X3DHead(num_classes=4, in_channels=8, spatial_type=None)


def test_wrong_in_channels_names_the_config_key():
    with pytest.raises(ValueError, match=r'cls_head.in_channels=6 .*expected 6 channels, got 9'):
        _head()(torch.randn(2, 9, 1, 2, 2))
