import pytest
import torch

from mmaction_ft.models.backbones import MViT
from mmaction_ft.models.backbones.mvit import resize_rel_pos_state_dict
from mmaction_ft.models.backbones.mvit_blocks import MultiScaleAttention
from mmaction_ft.registry import MODELS

# 3 blocks, the second starts scale 1: widths 8 -> 16, heads 1 -> 2.
TINY = dict(embed_dims=8, num_layers=3, num_heads=1, downscale_indices=[1])
SMALL_CLIP = dict(spatial_size=16, temporal_size=4)


def _mvit(**kwargs):
    torch.manual_seed(0)
    cfg = dict(type='MViT', arch=TINY, **SMALL_CLIP)
    model = MODELS.build({**cfg, **kwargs})
    model.init_weights()
    return model.eval()


def test_mmaction2_key_layout():
    keys = _mvit(out_scales=[0, 1]).state_dict()
    for key in (
        'patch_embed.projection.weight',
        'cls_token',
        'blocks.0.attn.qkv.weight',
        'blocks.0.attn.pool_q.weight',
        'blocks.0.attn.norm_k.weight',
        'blocks.0.attn.rel_pos_t',
        'blocks.1.proj.weight',  # the width doubles in block 1's attention
        'blocks.2.mlp.fc2.bias',
        'norm0.weight',
        'norm1.bias',
    ):
        assert key in keys, key
    assert 'blocks.0.proj.weight' not in keys
    assert 'pos_embed' not in keys
    # patch grid 2 x 4 x 4; block 0 pools k / v by 8 (-> 1), so its table spans 4 rows.
    assert keys['blocks.0.attn.rel_pos_h'].shape == (2 * 4 - 1, 8)
    assert keys['blocks.0.attn.rel_pos_t'].shape == (2 * 2 - 1, 8)
    assert keys['blocks.1.attn.rel_pos_h'].shape == (2 * 2 - 1, 8)  # 16 dims over 2 heads


def test_arch_settings_of_mmaction2():
    small = MViT.arch_zoo['small']
    assert (small['embed_dims'], small['num_layers'], small['downscale_indices']) == (
        96,
        16,
        [1, 3, 14],
    )
    assert MViT.arch_zoo['base']['downscale_indices'] == [2, 5, 21]
    assert MViT.arch_zoo['large']['num_heads'] == 2


def test_scales_give_patch_and_class_tokens():
    outs = _mvit(out_scales=[0, -1])(torch.randn(2, 3, 4, 16, 16))
    assert len(outs) == 2
    (patch0, cls0), (patch1, cls1) = outs
    assert patch0.shape == (2, 8, 2, 4, 4) and cls0.shape == (2, 8)
    assert patch1.shape == (2, 16, 2, 2, 2) and cls1.shape == (2, 16)


def test_without_class_token_outputs_patch_tokens_only():
    (out,) = _mvit(with_cls_token=False, output_cls_token=False)(torch.randn(1, 3, 4, 16, 16))
    assert isinstance(out, torch.Tensor) and out.shape == (1, 16, 2, 2, 2)


def test_other_input_size_interpolates_relative_positions():
    ((patch, cls),) = _mvit()(torch.randn(1, 3, 8, 32, 32))
    assert patch.shape == (1, 16, 4, 4, 4) and torch.isfinite(patch).all()


def test_zero_relative_tables_equal_no_relative_positions():
    with_rel = _mvit(rel_pos_zero_init=True)
    without = _mvit(rel_pos_embed=False)
    without.load_state_dict(with_rel.state_dict(), strict=False)
    x = torch.randn(1, 3, 4, 16, 16)
    assert torch.allclose(with_rel(x)[0][1], without(x)[0][1], atol=1e-6)
    with torch.no_grad():
        with_rel.blocks[0].attn.rel_pos_h.normal_()
    assert not torch.allclose(with_rel(x)[0][1], without(x)[0][1], atol=1e-4)


def test_residual_pooling_adds_the_pooled_queries():
    on, off = _mvit(), _mvit(residual_pooling=False)
    off.load_state_dict(on.state_dict())
    x = torch.randn(1, 3, 4, 16, 16)
    assert not torch.allclose(on(x)[0][1], off(x)[0][1], atol=1e-4)


def test_dim_mul_in_mlp_widens_the_block_before_the_downscale():
    keys = _mvit(dim_mul_in_attention=False).state_dict()
    assert keys['blocks.0.proj.weight'].shape == (16, 8)
    assert keys['blocks.0.attn.qkv.weight'].shape == (24, 8)  # attention keeps 8
    assert 'blocks.1.proj.weight' not in keys


def test_absolute_position_embedding():
    model = _mvit(use_abs_pos_embed=True)
    assert model.pos_embed.shape == (1, 1 + 2 * 4 * 4, 8)
    assert model.pos_embed.abs().sum() > 0  # truncated-normal init
    ((patch, _),) = model(torch.randn(1, 3, 8, 32, 32))  # resized to a 4 x 8 x 8 grid
    assert patch.shape == (1, 16, 4, 4, 4)


def test_backward_reaches_every_parameter():
    model = _mvit(out_scales=[0, 1]).train()
    outs = model(torch.randn(2, 3, 4, 16, 16))
    sum(p.sum() + c.sum() for p, c in outs).backward()
    assert all(p.grad is not None for p in model.parameters())


@pytest.mark.parametrize(
    'kwargs, message',
    [
        (dict(arch='huge'), r"arch must be one of \['base', 'large', 'small', 'tiny'\]"),
        (dict(arch=dict(embed_dims=8)), 'custom MViT arch must be a dict with keys'),
        (dict(out_scales=[2]), r'out_scales entries must be in \[-2, 1\].*got 2'),
        (dict(with_cls_token=False), 'output_cls_token=True needs with_cls_token=True'),
        (dict(pretrained_type='imagenet'), 'MMAction2 1.2.0 loads nothing'),
        (dict(patch_cfg=dict(padding='corner')), 'patch_cfg.padding must be numbers'),
    ],
)
def test_invalid_arguments_say_what_is_allowed(kwargs, message):
    with pytest.raises((ValueError, TypeError), match=message):
        MViT(**{'arch': TINY, **SMALL_CLIP, **kwargs})


def test_relative_positions_need_a_square_grid():
    with pytest.raises(ValueError, match=r'square token grid.*got \(2, 4, 6\)'):
        MultiScaleAttention(8, 8, 1, input_size=(2, 4, 6))


def test_maskfeat_converter_resizes_relative_tables_only():
    model = _mvit()
    own = model.state_dict()
    pretrained = dict(own)
    pretrained['blocks.0.attn.rel_pos_h'] = torch.ones(13, 8) * 3  # pretrained at another size
    pretrained['blocks.0.attn.rel_pos_w'] = torch.ones(13, 5)  # another width: left for loader
    out = resize_rel_pos_state_dict(pretrained, model)
    assert out['blocks.0.attn.rel_pos_h'].shape == own['blocks.0.attn.rel_pos_h'].shape
    assert torch.allclose(out['blocks.0.attn.rel_pos_h'], torch.tensor(3.0))
    assert out['blocks.0.attn.rel_pos_w'].shape == (13, 5)
    assert out['blocks.0.attn.qkv.weight'] is pretrained['blocks.0.attn.qkv.weight']
    assert pretrained['blocks.0.attn.rel_pos_h'].shape == (13, 8)  # input untouched


def test_pretrained_maskfeat_weights_load(tmp_path):
    source = _mvit()
    state = {f'backbone.{k}': v for k, v in source.state_dict().items()}
    state['backbone.blocks.1.attn.rel_pos_t'] = torch.zeros(7, 8)
    path = tmp_path / 'maskfeat.pth'
    torch.save({'state_dict': state}, path)
    model = MViT(arch=TINY, **SMALL_CLIP, pretrained=str(path), pretrained_type='maskfeat')
    model.init_weights()
    assert torch.equal(model.blocks[2].attn.qkv.weight, source.blocks[2].attn.qkv.weight)
    assert model.blocks[1].attn.rel_pos_t.shape == (3, 8)
    assert model.blocks[1].attn.rel_pos_t.abs().sum() == 0
