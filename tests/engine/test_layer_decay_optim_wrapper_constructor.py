import pytest
import torch
from torch import nn

from mmaction_ft.engine import LearningRateDecayOptimizerConstructor
from mmaction_ft.engine.layer_decay_optim_wrapper_constructor import get_layer_id

ADAMW = dict(type='AdamW', lr=1e-3, weight_decay=0.05)
LAYER_WISE = dict(decay_rate=0.5, decay_type='layer_wise', num_layers=3)


class TinyViT(nn.Module):
    """Parameter names of MMAction2's VisionTransformer / MViT, 3 blocks."""

    def __init__(self):
        super().__init__()
        self.cls_token = nn.Parameter(torch.zeros(1, 1, 4))
        self.pos_embed = nn.Parameter(torch.zeros(1, 2, 4))
        self.patch_embed = nn.Module()
        self.patch_embed.projection = nn.Conv3d(3, 4, 2)
        self.blocks = nn.ModuleList(
            nn.Sequential(nn.LayerNorm(4), nn.Linear(4, 4)) for _ in range(3)
        )
        self.norm = nn.LayerNorm(4)


class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.backbone = TinyViT()
        self.cls_head = nn.Module()
        self.cls_head.fc_cls = nn.Linear(4, 2)


def _groups(model, paramwise_cfg=LAYER_WISE, optimizer=ADAMW):
    optim_wrapper = LearningRateDecayOptimizerConstructor(dict(optimizer=optimizer), paramwise_cfg)(
        model
    )
    names = {id(p): n for n, p in model.named_parameters()}
    return [
        (g['group_name'], g['lr'], g.get('weight_decay'), [names[id(p)] for p in g['params']])
        for g in optim_wrapper.optimizer.param_groups
    ]


@pytest.mark.parametrize(
    'name, layer_id',
    [
        ('backbone.cls_token', 0),
        ('backbone.mask_token', 0),
        ('backbone.pos_embed', 0),
        ('backbone.patch_embed.projection.weight', 0),
        ('backbone.blocks.0.attn.qkv.weight', 1),
        ('backbone.blocks.11.mlp.fc2.bias', 12),
        ('backbone.fc_norm.weight', 13),
        ('cls_head.fc_cls.weight', 13),
    ],
)
def test_layer_id_of_vit_and_mvit_parameter_names(name, layer_id):
    assert get_layer_id(name, num_layers=12) == layer_id


def test_each_layer_gets_lr_times_decay_rate_to_the_depth_left():
    groups = _groups(Model())
    lrs = {name: lr for name, lr, _, _ in groups}
    for layer_id in range(5):  # embedding, 3 blocks, head + final norm
        # lr * decay_rate ** (num_layers + 1 - layer_id): 1/16, 1/8, 1/4, 1/2, 1 of the base LR
        assert lrs[f'layer_{layer_id}_no_decay'] == pytest.approx(1e-3 * 0.5 ** (4 - layer_id))
    assert lrs['layer_0_decay'] == lrs['layer_0_no_decay']
    assert lrs['layer_4_decay'] == 1e-3


def test_one_d_parameters_and_biases_get_no_weight_decay_in_model_order():
    assert _groups(Model())[:4] == [
        (
            'layer_0_decay',
            pytest.approx(1e-3 / 16),
            0.05,  # MMAction2 decays the (3-D) class token and position embedding
            ['backbone.cls_token', 'backbone.pos_embed', 'backbone.patch_embed.projection.weight'],
        ),
        (
            'layer_0_no_decay',
            pytest.approx(1e-3 / 16),
            0.0,
            ['backbone.patch_embed.projection.bias'],
        ),
        (
            'layer_1_no_decay',
            pytest.approx(1e-3 / 8),
            0.0,
            ['backbone.blocks.0.0.weight', 'backbone.blocks.0.0.bias', 'backbone.blocks.0.1.bias'],
        ),
        ('layer_1_decay', pytest.approx(1e-3 / 8), 0.05, ['backbone.blocks.0.1.weight']),
    ]


def test_frozen_parameters_are_left_out_and_the_rest_appear_once():
    model = Model()
    model.backbone.patch_embed.requires_grad_(False)
    groups = _groups(model)
    grouped = [n for *_, names in groups for n in names]
    expected = [n for n, p in model.named_parameters() if p.requires_grad]
    assert sorted(grouped) == sorted(expected) and len(grouped) == len(set(grouped))
    assert 'backbone.patch_embed.projection.weight' not in grouped


def test_without_optimizer_weight_decay_the_decay_groups_use_its_default():
    groups = _groups(Model(), optimizer=dict(type='SGD', lr=0.1))
    wds = {name: wd for name, _, wd, _ in groups}
    assert wds['layer_1_decay'] == 0 and wds['layer_1_no_decay'] == 0.0  # SGD's default is 0


@pytest.mark.parametrize(
    'paramwise_cfg, error, match',
    [
        (dict(decay_rate=0.5), KeyError, r"missing \['num_layers'\]"),
        (dict(LAYER_WISE, layer_decay=0.5), KeyError, r"unknown keys \['layer_decay'\]"),
        (dict(LAYER_WISE, decay_type='stage_wise'), ValueError, "'layer_wise' only"),
        (dict(LAYER_WISE, decay_rate=1.5), ValueError, r'decay_rate must be in \(0, 1\]'),
    ],
)
def test_bad_paramwise_cfg_is_refused_when_building(paramwise_cfg, error, match):
    with pytest.raises(error, match=match):
        LearningRateDecayOptimizerConstructor(dict(optimizer=ADAMW), paramwise_cfg)


def test_more_blocks_than_num_layers_is_an_error():
    with pytest.raises(
        ValueError, match='blocks.2.0.weight is block 2 but paramwise_cfg.num_layers=2'
    ):
        _groups(Model(), dict(LAYER_WISE, num_layers=2))


def test_batch_norm_is_refused():
    model = Model()
    model.backbone.bn = nn.BatchNorm3d(4)
    with pytest.raises(ValueError, match=r'backbone.bn \(BatchNorm3d\)'):
        _groups(model)


def test_a_backbone_without_blocks_is_refused():
    model = Model()
    model.backbone = nn.Sequential(nn.Linear(4, 4))
    with pytest.raises(ValueError, match='Sequential has none'):
        _groups(model)
