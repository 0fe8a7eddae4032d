"""Every model part registered in MODELS builds and trains on a tiny clip."""

import copy

import pytest
import torch

import mmaction_ft.models  # noqa: F401  (registers every model part)
from mmaction_ft.registry import MODELS
from mmaction_ft.structures import ActionDataSample

NUM_CLASSES = 5
PREPROCESSOR = dict(
    type='ActionDataPreprocessor',
    mean=[123.675, 116.28, 103.53],
    std=[58.395, 57.12, 57.375],
    format_shape='NCHW',
)
RECOGNIZERS = {
    'tsn_r18': dict(
        type='Recognizer2D',
        backbone=dict(type='ResNet', depth=18),
        cls_head=dict(
            type='TSNHead',
            num_classes=NUM_CLASSES,
            in_channels=512,
            consensus=dict(type='AvgConsensus', dim=1),
            average_clips='prob',
        ),
        data_preprocessor=PREPROCESSOR,
    ),
    'tsn_r50': dict(
        type='Recognizer2D',
        backbone=dict(type='ResNet', depth=50, partial_bn=True),
        cls_head=dict(
            type='TSNHead',
            num_classes=NUM_CLASSES,
            in_channels=2048,
            loss_cls=dict(type='CrossEntropyLoss', class_weight=[1.0] * NUM_CLASSES),
            label_smooth_eps=0.1,
            average_clips='score',
        ),
        data_preprocessor=PREPROCESSOR,
    ),
    'tsn_r18_multilabel': dict(
        type='Recognizer2D',
        backbone=dict(type='ResNet', depth=18, num_stages=2, out_indices=(1,), strides=(1, 2)),
        cls_head=dict(
            type='TSNHead',
            num_classes=NUM_CLASSES,
            in_channels=128,
            multi_class=True,
            loss_cls=dict(type='BCELossWithLogits'),
            average_clips='prob',
        ),
        data_preprocessor=PREPROCESSOR,
    ),
}


def _types(cfg):
    if isinstance(cfg, dict):
        found = {cfg['type']} if 'type' in cfg else set()
        for value in cfg.values():
            found |= _types(value)
        return found
    return set()


def test_sweep_covers_every_registered_model():
    swept = set().union(*(_types(cfg) for cfg in RECOGNIZERS.values()))
    assert set(MODELS.module_dict) <= swept, set(MODELS.module_dict) - swept


# ResNet-50 forward + backward takes several seconds on a shared CPU.
SLOW = {'tsn_r50'}


@pytest.mark.parametrize(
    'name',
    [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in sorted(RECOGNIZERS)],
)
def test_recognizer_trains_and_predicts_on_a_tiny_clip(name):
    torch.manual_seed(0)
    cfg = copy.deepcopy(RECOGNIZERS[name])
    model = MODELS.build(cfg)
    model.init_weights()
    multi_label = cfg['cls_head'].get('multi_class', False)

    def batch():
        labels = (
            [torch.tensor([1.0, 0, 0, 1, 0]), torch.tensor([0.0, 1, 0, 0, 0])]
            if multi_label
            else [2, 4]
        )
        return {
            'inputs': [torch.randint(0, 256, (3, 3, 32, 32), dtype=torch.uint8) for _ in labels],
            'data_samples': [ActionDataSample().set_gt_label(lb) for lb in labels],
        }

    model.train()
    losses = model(**model.data_preprocessor(batch(), True), mode='loss')
    assert torch.isfinite(losses['loss_cls'])
    losses['loss_cls'].backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None for g in grads)
    assert model.cls_head.fc_cls.weight.grad.abs().sum() > 0

    model.eval()
    with torch.no_grad():
        samples = model(**model.data_preprocessor(batch()), mode='predict')
    assert [s.pred_score.shape for s in samples] == [(NUM_CLASSES,)] * 2
    if cfg['cls_head']['average_clips'] == 'prob':
        assert torch.allclose(torch.stack([s.pred_score.sum() for s in samples]), torch.ones(2))
