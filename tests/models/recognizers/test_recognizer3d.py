import copy

import pytest
import torch
from torch import nn

from mmaction_ft.models.recognizers import Recognizer2D, Recognizer3D
from mmaction_ft.registry import MODELS
from mmaction_ft.structures import ActionDataSample


class TinyBackbone3D(nn.Module):
    def __init__(self, out_channels=8):
        super().__init__()
        self.conv = nn.Conv3d(3, out_channels, 3, stride=(1, 2, 2), padding=1)

    def forward(self, x):
        return self.conv(x)  # [M, C, T, H/2, W/2]


class TinySlowFast(nn.Module):
    """(slow, fast) pathways: slow sees every 4th frame, as in SlowFast."""

    def __init__(self):
        super().__init__()
        self.slow, self.fast = TinyBackbone3D(8), TinyBackbone3D(4)

    def forward(self, x):
        return self.slow(x[:, :, ::4]), self.fast(x)


I3D = dict(type='I3DHead', num_classes=5, in_channels=8, average_clips='prob')


def _model(head=I3D, backbone=TinyBackbone3D, **kwargs):
    torch.manual_seed(0)
    model = Recognizer3D(backbone=backbone(), cls_head=copy.deepcopy(head), **kwargs)
    model.init_weights()
    return model.eval()


def _samples(n, labels=None):
    labels = labels or [0] * n
    return [ActionDataSample().set_gt_label(label) for label in labels]


def test_backbone_sees_all_views_and_predict_averages_their_probabilities():
    model = _model()
    inputs = torch.randn(2, 3, 3, 4, 8, 8)  # [N, num_views, C, T, H, W]
    seen = []
    model.backbone.register_forward_hook(lambda m, i, o: seen.append(tuple(i[0].shape)))
    with torch.no_grad():
        samples = model.predict(inputs, _samples(2))
        rows = model(inputs, mode='tensor')  # [N * num_views, num_classes]
    assert seen[0] == (6, 3, 4, 8, 8)
    assert rows.shape == (6, 5)
    assert torch.allclose(samples[1].pred_score, rows[3:].softmax(1).mean(0), atol=1e-6)


@pytest.mark.parametrize('average_clips', ['score', None])
def test_average_clips_score_and_none(average_clips):
    model = _model(head={**I3D, 'average_clips': average_clips})
    inputs = torch.randn(2, 3, 3, 4, 8, 8)
    with torch.no_grad():
        samples = model.predict(inputs, _samples(2))
        rows = model(inputs, mode='tensor')
    if average_clips == 'score':
        assert torch.allclose(samples[0].pred_score, rows[:3].mean(0), atol=1e-6)
    else:
        assert torch.equal(samples[0].pred_score, rows[:3])  # [num_views, num_classes]


def test_0x_test_cfg_average_clips_sets_the_head():
    assert _model(test_cfg=dict(average_clips='score')).cls_head.average_clips == 'score'


def test_loss_trains_on_every_view():
    model = _model().train()
    losses = model.loss(torch.randn(2, 1, 3, 4, 8, 8), _samples(2, [1, 4]))
    assert {'loss_cls', 'top1_acc', 'top5_acc'} <= set(losses)
    losses['loss_cls'].backward()
    assert model.backbone.conv.weight.grad.abs().sum() > 0


@pytest.mark.parametrize('max_views', [1, 2, 4])
def test_max_testing_views_chunks_the_backbone_with_the_same_result(max_views):
    model = _model()
    chunked = _model(test_cfg=dict(max_testing_views=max_views))
    chunked.load_state_dict(model.state_dict())
    inputs = torch.randn(2, 3, 3, 4, 8, 8)  # any batch size (MMAction2's 3D needs N == 1)
    calls = []
    chunked.backbone.register_forward_hook(lambda m, i, o: calls.append(i[0].shape[0]))
    with torch.no_grad():
        expected = model.predict(inputs, _samples(2))
        got = chunked.predict(inputs, _samples(2))
    assert sum(calls) == 6 and max(calls) == min(max_views, 6)
    for e, g in zip(expected, got):
        assert torch.allclose(e.pred_score, g.pred_score, atol=1e-6)


def test_max_testing_views_concatenates_slowfast_pathways():
    head = dict(type='SlowFastHead', num_classes=5, in_channels=12, average_clips='prob')
    model = _model(head, backbone=TinySlowFast)
    chunked = _model(head, backbone=TinySlowFast, test_cfg=dict(max_testing_views=2))
    chunked.load_state_dict(model.state_dict())
    inputs = torch.randn(1, 5, 3, 8, 8, 8)
    with torch.no_grad():
        slow, fast = chunked.extract_feat(inputs, stage='backbone', test_mode=True)[0]
        expected = model.predict(inputs, _samples(1))
        got = chunked.predict(inputs, _samples(1))
    assert slow.shape == (5, 8, 2, 4, 4) and fast.shape == (5, 4, 8, 4, 4)
    assert torch.allclose(expected[0].pred_score, got[0].pred_score, atol=1e-6)


def test_max_testing_views_must_be_a_positive_int():
    model = _model(test_cfg=dict(max_testing_views=0.5))
    with pytest.raises(ValueError, match='max_testing_views must be a positive int'):
        model.predict(torch.randn(1, 2, 3, 4, 8, 8), _samples(1))


def test_max_testing_views_keeps_temporal_shift_clips_whole():
    backbone = nn.Conv2d(3, 8, 1)
    backbone.num_segments = 4
    model = Recognizer2D(
        backbone=backbone,
        cls_head=dict(type='TSMHead', num_classes=5, in_channels=8, num_segments=4),
        test_cfg=dict(max_testing_views=6),
    ).eval()
    with pytest.raises(ValueError, match='multiple of backbone.num_segments=4'):
        model.predict(torch.randn(1, 8, 3, 4, 4), _samples(1))


def test_wrong_input_dims_ask_for_the_format_shape():
    model = _model()
    with pytest.raises(ValueError, match=r'\[N, num_views, C, T, H, W\].*FormatShape NCTHW'):
        model(torch.randn(2, 3, 4, 8, 8), mode='tensor')


def test_head_in_channels_mismatch_names_the_key_and_both_counts():
    model = _model(head={**I3D, 'in_channels': 2048})
    with pytest.raises(ValueError, match=r'cls_head.in_channels=2048 .*expected 2048.*got 8'):
        model(torch.randn(1, 1, 3, 4, 8, 8), mode='tensor')


def test_registered_under_mmaction2_name():
    model = MODELS.build(dict(type='Recognizer3D', backbone=TinyBackbone3D(), cls_head=I3D))
    assert isinstance(model, Recognizer3D)
    assert list(model.state_dict()) == [
        'backbone.conv.weight',
        'backbone.conv.bias',
        'cls_head.fc_cls.weight',
        'cls_head.fc_cls.bias',
    ]


def test_clip_too_short_for_the_backbone_names_the_view_shape_and_clip_len():
    backbone = nn.Sequential(nn.Conv3d(3, 8, 1), nn.MaxPool3d((4, 1, 1)))  # needs T >= 4
    model = MODELS.build(dict(type='Recognizer3D', backbone=backbone, cls_head=I3D))
    with pytest.raises(ValueError) as error:
        model(torch.rand(1, 2, 3, 2, 8, 8), mode='tensor')
    message = str(error.value)
    assert message.startswith('Sequential cannot run on views of shape [3, 2, 8, 8]')
    assert 'raise clip_len in SampleFrames' in message
    # Other runtime errors are not relabelled.
    broken = nn.Conv3d(4, 8, 1)  # wrong input channels
    model = MODELS.build(dict(type='Recognizer3D', backbone=broken, cls_head=I3D))
    with pytest.raises(RuntimeError, match='channels'):
        model(torch.rand(1, 2, 3, 4, 8, 8), mode='tensor')


def test_blending_class_count_must_match_the_head():
    blending = dict(
        type='RandomBatchAugment',
        augments=[
            dict(type='MixupBlending', alpha=0.8, num_classes=400),
            dict(type='CutmixBlending', alpha=1, num_classes=400),
        ],
    )
    cfg = dict(
        type='Recognizer3D',
        backbone=TinyBackbone3D(),
        cls_head=I3D,  # 5 classes
        data_preprocessor=dict(type='ActionDataPreprocessor', blending=blending),
    )
    with pytest.raises(ValueError) as error:
        MODELS.build(cfg)
    assert str(error.value) == (
        'model.data_preprocessor.blending.augments.N.num_classes=400 but '
        'model.cls_head.num_classes=5: mixup / cutmix targets must have one entry per class; '
        'set both to 5'
    )
    for augment in blending['augments']:
        augment['num_classes'] = 5
    assert MODELS.build(cfg).data_preprocessor.blending.num_classes == 5
