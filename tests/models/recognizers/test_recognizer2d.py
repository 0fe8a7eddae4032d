import copy

import pytest
import torch

from mmaction_ft.models.recognizers import Recognizer2D
from mmaction_ft.registry import MODELS
from mmaction_ft.structures import ActionDataSample

TSN_R50 = dict(
    type='Recognizer2D',
    backbone=dict(type='ResNet', depth=50, pretrained=None),
    cls_head=dict(type='TSNHead', num_classes=400, in_channels=2048, average_clips='prob'),
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        format_shape='NCHW',
    ),
)
TSN_R18 = dict(
    type='Recognizer2D',
    backbone=dict(type='ResNet', depth=18, norm_cfg=dict(type='BN')),
    cls_head=dict(type='TSNHead', num_classes=7, in_channels=512, average_clips='prob'),
)


def _build(cfg, **changes):
    cfg = copy.deepcopy(cfg)
    for key, value in changes.items():
        cfg[key] = value
    return MODELS.build(cfg)


def _batch(num_videos=2, num_views=3, size=32, labels=(1, 3)):
    return {
        'inputs': [
            torch.randint(0, 256, (num_views, 3, size, size), dtype=torch.uint8)
            for _ in range(num_videos)
        ],
        'data_samples': [ActionDataSample().set_gt_label(lb) for lb in labels[:num_videos]],
    }


def test_tsn_r50_state_dict_matches_mmaction2():
    model = _build(TSN_R50)
    state_dict = model.state_dict()
    assert len(state_dict) == 320
    assert sum(p.numel() for p in model.parameters()) == 24_327_632
    assert state_dict['cls_head.fc_cls.weight'].shape == (400, 2048)
    assert state_dict['backbone.conv1.conv.weight'].shape == (64, 3, 7, 7)
    for key in [
        'backbone.conv1.bn.num_batches_tracked',
        'backbone.layer2.3.conv3.bn.running_var',
        'backbone.layer4.0.downsample.conv.weight',
        'cls_head.fc_cls.bias',
    ]:
        assert key in state_dict
    assert not any('data_preprocessor' in k for k in state_dict)

    cfg = copy.deepcopy(TSN_R50)
    cfg['cls_head']['num_classes'] = 101
    assert sum(p.numel() for p in MODELS.build(cfg).parameters()) == 23_714_981


def test_loss_and_predict_modes():
    torch.manual_seed(0)
    model = _build(TSN_R18)
    model.init_weights()
    model.train()
    data = model.data_preprocessor(_batch(), True)
    assert data['inputs'].shape == (2, 3, 3, 32, 32)
    losses = model(**data, mode='loss')
    assert {'loss_cls', 'top1_acc', 'top5_acc'} <= set(losses)
    losses['loss_cls'].backward()
    assert model.backbone.conv1.conv.weight.grad is not None

    model.eval()
    with torch.no_grad():
        samples = model(**model.data_preprocessor(_batch()), mode='predict')
    assert len(samples) == 2
    assert samples[0].pred_score.shape == (7,)
    assert torch.isclose(samples[0].pred_score.sum(), torch.tensor(1.0))


def test_tensor_mode_stages():
    model = _build(TSN_R18).eval()
    inputs = model.data_preprocessor(_batch())['inputs']
    with torch.no_grad():
        assert model(inputs, mode='tensor').shape == (2, 7)
        assert model(inputs, mode='tensor', stage='backbone').shape == (6, 512, 1, 1)
    with pytest.raises(RuntimeError, match='invalid forward mode'):
        model(inputs, mode='train')
    with pytest.raises(ValueError, match=r'\[N, num_views, C, H, W\]'):
        model(inputs[0], mode='tensor')


def test_max_testing_views_gives_the_same_predictions():
    torch.manual_seed(0)
    model = _build(TSN_R18).eval()
    chunked = _build(TSN_R18, test_cfg=dict(max_testing_views=4)).eval()
    chunked.load_state_dict(model.state_dict())
    batch = _batch(num_views=5)
    calls = []
    chunked.backbone.register_forward_hook(lambda m, i, o: calls.append(i[0].shape[0]))
    with torch.no_grad():
        expected = model(**model.data_preprocessor(copy.deepcopy(batch)), mode='predict')
        got = chunked(**chunked.data_preprocessor(batch), mode='predict')
    assert calls == [4, 4, 2]  # 2 videos x 5 views in chunks of 4
    for e, g in zip(expected, got):
        assert torch.allclose(e.pred_score, g.pred_score, atol=1e-6)


def test_0x_test_cfg_average_clips_sets_the_head():
    model = _build(TSN_R18, test_cfg=dict(average_clips='score'))
    assert model.cls_head.average_clips == 'score'
    with pytest.raises(ValueError, match='average_clips'):
        _build(TSN_R18, test_cfg=dict(average_clips='sum'))


def test_fcn_test_is_rejected():
    model = _build(TSN_R18, test_cfg=dict(fcn_test=True)).eval()
    with pytest.raises(NotImplementedError, match='fcn_test'):
        model(**model.data_preprocessor(_batch()), mode='predict')


def test_parts_and_default_preprocessor():
    model = _build(TSN_R18)
    assert model.with_cls_head and not model.with_neck
    assert type(model.data_preprocessor).__name__ == 'ActionDataPreprocessor'
    assert model.data_preprocessor.mean is None
    headless = Recognizer2D(backbone=dict(type='ResNet', depth=18))
    assert not headless.with_cls_head
    with pytest.raises(RuntimeError, match='cls_head'):
        headless(torch.zeros(1, 1, 3, 32, 32), [ActionDataSample()], mode='predict')
