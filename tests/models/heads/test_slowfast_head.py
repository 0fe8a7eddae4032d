import pytest
import torch

from mmaction_ft.models.heads import SlowFastHead
from mmaction_ft.registry import MODELS


def _head(**kwargs):
    cfg = dict(type='SlowFastHead', num_classes=5, in_channels=12, dropout_ratio=0.0)
    head = MODELS.build({**cfg, **kwargs})
    head.init_weights()
    return head.eval()


def test_mmaction2_defaults_and_keys():
    head = SlowFastHead(num_classes=400, in_channels=2304)
    assert (head.dropout_ratio, head.init_std) == (0.8, 0.01)
    assert list(head.state_dict()) == ['fc_cls.weight', 'fc_cls.bias']


def test_fast_features_come_first_in_fc_cls():
    torch.manual_seed(0)
    head = _head()
    slow = torch.randn(4, 8, 2, 3, 3)
    fast = torch.randn(4, 4, 8, 3, 3)
    scores = head((slow, fast))
    assert scores.shape == (4, 5)
    pooled = torch.cat([fast.mean(dim=(2, 3, 4)), slow.mean(dim=(2, 3, 4))], dim=1)
    assert torch.allclose(scores, head.fc_cls(pooled), atol=1e-6)
    swapped = torch.cat([slow.mean(dim=(2, 3, 4)), fast.mean(dim=(2, 3, 4))], dim=1)
    assert not torch.allclose(scores, head.fc_cls(swapped[:, :12]), atol=1e-3)


def test_a_single_tensor_is_refused():
    with pytest.raises(TypeError, match=r'\(slow, fast\)'):
        _head()(torch.randn(2, 12, 1, 1, 1))


def test_wrong_in_channels_names_both_pathways():
    with pytest.raises(ValueError, match=r'cls_head.in_channels=12 .*got 10 = fast 2 \+ slow 8'):
        _head()((torch.randn(2, 8, 1, 2, 2), torch.randn(2, 2, 4, 2, 2)))
