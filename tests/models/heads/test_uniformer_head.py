import json

import pytest
import torch

from mmaction_ft.engine.weight_loading import CheckpointMismatchError
from mmaction_ft.models.heads import UniFormerHead
from mmaction_ft.models.heads.uniformer_head import select_classifier_rows
from mmaction_ft.registry import MODELS


def _k710_checkpoint(tmp_path, num_rows=7, in_channels=4):
    """A whole-recognizer checkpoint whose head has ``num_rows`` classes; row i is all i."""
    weight = torch.arange(num_rows, dtype=torch.float32)[:, None].repeat(1, in_channels)
    state = {
        'backbone.conv1.weight': torch.randn(3, 3),
        'cls_head.fc_cls.weight': weight,
        'cls_head.fc_cls.bias': torch.arange(num_rows, dtype=torch.float32) + 0.5,
    }
    path = tmp_path / 'k710.pth'
    torch.save({'state_dict': state}, path)
    return str(path)


def test_mmaction2_defaults_keys_and_classifier():
    head = UniFormerHead(num_classes=400, in_channels=768)
    assert (head.dropout_ratio, head.channel_map, head.dropout) == (0.0, None, None)
    assert head.init_cfg == dict(type='TruncNormal', layer='Linear', std=0.02)
    assert list(head.state_dict()) == ['fc_cls.weight', 'fc_cls.bias']
    assert UniFormerHead.classifier_names == ('fc_cls',)


def test_each_view_gets_a_score_row():
    torch.manual_seed(0)
    head = UniFormerHead(num_classes=5, in_channels=8, dropout_ratio=0.5).eval()
    x = torch.randn(6, 8)  # 2 videos x 3 views
    scores = head(x, num_segs=3)
    assert scores.shape == (6, 5)
    assert torch.allclose(scores, head.fc_cls(x))  # dropout is off in eval mode
    with pytest.raises(ValueError, match='cls_head.in_channels=8'):
        head(torch.randn(2, 16))


def test_default_init_is_truncated_normal_with_zero_bias():
    torch.manual_seed(0)
    head = UniFormerHead(num_classes=200, in_channels=256)
    head.init_weights()
    assert abs(float(head.fc_cls.weight.detach().std()) - 0.02) < 0.002
    assert torch.all(head.fc_cls.bias == 0)


@pytest.mark.parametrize('as_file', [True, False])
def test_channel_map_keeps_the_selected_k710_rows_in_order(tmp_path, as_file):
    checkpoint = _k710_checkpoint(tmp_path)
    rows = [5, 0, 3]
    channel_map = rows
    if as_file:
        channel_map = str(tmp_path / 'map_k3.json')
        (tmp_path / 'map_k3.json').write_text(json.dumps(rows))
    head = MODELS.build(
        dict(
            type='UniFormerHead',
            num_classes=3,
            in_channels=4,
            channel_map=channel_map,
            init_cfg=dict(type='Pretrained', checkpoint=checkpoint, prefix='cls_head.'),
        )
    )
    head.init_weights()
    assert torch.equal(head.fc_cls.weight[:, 0], torch.tensor([5.0, 0.0, 3.0]))
    assert torch.equal(head.fc_cls.bias, torch.tensor([5.5, 0.5, 3.5]))


def test_pretrained_head_needs_a_channel_map():
    with pytest.raises(ValueError, match='needs channel_map'):
        UniFormerHead(3, 4, init_cfg=dict(type='Pretrained', checkpoint='k710.pth'))


def test_channel_map_must_give_one_row_per_class(tmp_path):
    with pytest.raises(ValueError, match=r'selects 2 rows but num_classes=3'):
        UniFormerHead(3, 4, channel_map=[1, 2])
    with pytest.raises(ValueError, match='list of non-negative row indices'):
        UniFormerHead(3, 4, channel_map=[1, -2, 0])
    path = tmp_path / 'map.json'
    path.write_text(json.dumps([0, 1]))
    init_cfg = dict(type='Pretrained', checkpoint=_k710_checkpoint(tmp_path))
    head = UniFormerHead(3, 4, channel_map=str(path), init_cfg=init_cfg)  # read at init
    with pytest.raises(ValueError, match=r'selects 2 rows \(read from .*map.json\)'):
        head.init_weights()


def test_rows_beyond_the_checkpoint_head_are_an_error(tmp_path):
    init_cfg = dict(type='Pretrained', checkpoint=_k710_checkpoint(tmp_path, num_rows=7))
    head = UniFormerHead(2, 4, channel_map=[1, 7], init_cfg=init_cfg)
    with pytest.raises(
        ValueError, match=r'selects row 7 but cls_head.fc_cls.weight has only 7 rows'
    ):
        head.init_weights()


def test_a_head_of_another_width_is_refused(tmp_path):
    init_cfg = dict(type='Pretrained', checkpoint=_k710_checkpoint(tmp_path, in_channels=4))
    head = UniFormerHead(2, 8, channel_map=[1, 2], init_cfg=init_cfg)
    with pytest.raises(CheckpointMismatchError, match='fc_cls.weight'):
        head.init_weights()


def test_select_classifier_rows_is_pure_and_drops_other_tensors():
    state = {
        'backbone.ln.weight': torch.ones(3),
        'cls_head.fc_cls.weight': torch.arange(12.0).reshape(6, 2),
        'cls_head.fc_cls.bias': torch.arange(6.0),
    }
    before = {k: v.clone() for k, v in state.items()}
    out = select_classifier_rows(state, None, channels=[4, 1])
    assert set(out) == {'fc_cls.weight', 'fc_cls.bias'}
    assert torch.equal(out['fc_cls.weight'], torch.tensor([[8.0, 9.0], [2.0, 3.0]]))
    assert torch.equal(out['fc_cls.bias'], torch.tensor([4.0, 1.0]))
    assert all(torch.equal(state[k], before[k]) for k in before)
