import pytest
import torch

from mmaction_ft.models.heads import TSMHead
from mmaction_ft.registry import MODELS
from mmaction_ft.structures import ActionDataSample


def _head(**kwargs):
    cfg = dict(type='TSMHead', num_classes=5, in_channels=8, num_segments=4, dropout_ratio=0.0)
    head = MODELS.build({**cfg, **kwargs})
    head.init_weights()
    return head.eval()


def test_mmaction2_defaults_and_keys():
    head = TSMHead(num_classes=400, in_channels=2048)
    assert (head.num_segments, head.dropout_ratio, head.init_std) == (8, 0.8, 0.001)
    assert head.is_shift and not head.temporal_pool
    assert list(head.state_dict()) == ['fc_cls.weight', 'fc_cls.bias']
    assert TSMHead.classifier_names == ('fc_cls',)


def test_fc_cls_runs_per_frame_then_frames_of_a_clip_are_averaged():
    torch.manual_seed(0)
    head = _head()
    x = torch.randn(2 * 4, 8, 3, 3)  # 2 clips x 4 frames
    scores = head(x, num_segs=4)
    assert scores.shape == (2, 5)
    per_frame = head.fc_cls(x.mean(dim=(2, 3)))  # [8, 5]
    assert torch.allclose(scores, per_frame.view(2, 4, 5).mean(1), atol=1e-6)


def test_temporal_pool_halves_the_frames_per_clip():
    head = _head(temporal_pool=True)
    assert head(torch.randn(2 * 2, 8, 1, 1)).shape == (2, 5)
    assert _head(temporal_pool=True, is_shift=False)(torch.randn(8, 8, 1, 1)).shape == (2, 5)


def test_predict_averages_the_clips_of_a_video():
    torch.manual_seed(0)
    head = _head(average_clips='score')
    x = torch.randn(2 * 3 * 4, 8, 1, 1)  # 2 videos x 3 clips x 4 frames
    samples = head.predict(x, [ActionDataSample(), ActionDataSample()], num_segs=12)
    rows = head(x)  # [6, 5]: one row per clip
    assert torch.allclose(samples[1].pred_score, rows[3:].mean(0), atol=1e-6)


def test_frames_not_a_multiple_of_num_segments_is_an_error():
    with pytest.raises(ValueError, match='cls_head.num_segments=4'):
        _head()(torch.randn(6, 8, 1, 1))


def test_wrong_in_channels_names_the_config_key():
    with pytest.raises(ValueError, match=r'cls_head.in_channels=8 .*expected 8 channels, got 16'):
        _head()(torch.randn(4, 16, 2, 2))
