import pytest
import torch
import torch.nn.functional as F

from mmaction_ft.models.backbones import SwinTransformer3D
from mmaction_ft.models.backbones.swin import inflate_swin2d_state_dict
from mmaction_ft.models.backbones.swin_blocks import SwinTransformerBlock3D, compute_mask
from mmaction_ft.registry import MODELS

TINY = dict(embed_dims=8, depths=[2, 2], num_heads=[1, 2])
WINDOW = (2, 3, 3)


def _swin(**kwargs):
    torch.manual_seed(0)
    cfg = dict(type='SwinTransformer3D', arch=TINY, window_size=WINDOW, out_indices=(1,))
    model = MODELS.build({**cfg, **kwargs})
    model.init_weights()
    return model.eval()


def test_mmaction2_key_layout():
    keys = _swin(out_indices=(0, 1)).state_dict()
    for key in (
        'patch_embed.proj.weight',
        'patch_embed.norm.weight',
        'layers.0.blocks.1.attn.relative_position_bias_table',
        'layers.0.blocks.1.attn.relative_position_index',
        'layers.0.blocks.0.mlp.fc1.weight',
        'layers.0.downsample.reduction.weight',
        'layers.0.downsample.norm.weight',
        'norm0.weight',
        'norm1.bias',
    ):
        assert key in keys, key
    assert 'layers.1.downsample.reduction.weight' not in keys  # the last stage does not merge
    table = keys['layers.1.blocks.0.attn.relative_position_bias_table']
    assert table.shape == ((2 * 2 - 1) * (2 * 3 - 1) * (2 * 3 - 1), 2)
    index = keys['layers.0.blocks.0.attn.relative_position_index']
    assert index.shape == (18, 18) and index.max() == table.shape[0] - 1
    assert index.diagonal().unique().tolist() == [table.shape[0] // 2]  # offset 0 is the middle


def test_arch_settings_of_mmaction2():
    assert SwinTransformer3D.arch_zoo['t'] == SwinTransformer3D.arch_zoo['tiny']
    assert SwinTransformer3D.arch_zoo['tiny']['depths'] == [2, 2, 6, 2]
    assert SwinTransformer3D.arch_zoo['base']['embed_dims'] == 128
    assert SwinTransformer3D.arch_zoo['large']['num_heads'] == [6, 12, 24, 48]


def test_stage_shapes():
    outs = _swin(out_indices=(0, 1))(torch.randn(2, 3, 6, 22, 26))  # padded to whole patches
    assert [tuple(o.shape) for o in outs] == [(2, 8, 3, 6, 7), (2, 16, 3, 3, 4)]
    (after,) = (_swin(out_indices=(0,), out_after_downsample=True)(torch.randn(1, 3, 4, 24, 24)),)
    assert after.shape == (1, 16, 2, 3, 3)


def test_shifted_window_mask_separates_wrapped_regions():
    mask = compute_mask((4, 4, 4), (2, 2, 2), (1, 1, 1), 'cpu')
    assert mask.shape == (8, 8, 8)
    assert mask[0].abs().sum() == 0  # the first window is not wrapped around
    assert set(mask[-1].unique().tolist()) == {-100.0, 0.0}
    assert torch.equal(mask[-1], mask[-1].t())


def test_shifting_changes_the_output():
    torch.manual_seed(0)
    plain = SwinTransformerBlock3D(8, 2, window_size=(2, 2, 2), shift_size=(0, 0, 0))
    shifted = SwinTransformerBlock3D(8, 2, window_size=(2, 2, 2), shift_size=(1, 1, 1))
    shifted.load_state_dict(plain.state_dict())
    x = torch.randn(1, 4, 4, 4, 8)
    mask = compute_mask((4, 4, 4), (2, 2, 2), (1, 1, 1), 'cpu')
    plain.eval(), shifted.eval()
    out_plain, out_shifted = plain(x, None), shifted(x, mask)
    assert not torch.allclose(out_plain, out_shifted, atol=1e-4)
    # Without its mask the shifted block lets wrapped-around tokens attend to each other.
    assert not torch.allclose(out_shifted, shifted(x, torch.zeros_like(mask)), atol=1e-5)


def test_with_cp_gives_the_same_output_and_gradients():
    x = torch.randn(1, 3, 4, 24, 24)
    grads = []
    for with_cp in (False, True):
        model = _swin(with_cp=with_cp).train()
        out = model(x)
        out.square().sum().backward()
        grads.append((out.detach(), [p.grad.clone() for p in model.parameters()]))
    assert torch.allclose(grads[0][0], grads[1][0], atol=1e-6)
    assert all(torch.allclose(a, b, atol=1e-5) for a, b in zip(grads[0][1], grads[1][1]))


def test_frozen_stages_stay_frozen_in_train_mode():
    model = _swin(frozen_stages=1).train()
    assert not model.patch_embed.training and not model.layers[0].training
    assert model.layers[1].training
    assert not any(p.requires_grad for p in model.layers[0].parameters())
    assert all(p.requires_grad for p in model.layers[1].parameters())


@pytest.mark.parametrize(
    'kwargs, message',
    [
        (dict(arch='huge'), r"arch must be one of \['b', 'base'"),
        (dict(arch=dict(embed_dims=8, depths=[2])), 'exactly the keys'),
        (dict(arch=dict(embed_dims=8, depths=[2, 2], num_heads=[1])), 'one num_heads per stage'),
        (dict(out_indices=(2,)), r'out_indices must be stage indices in \[0, 1\], got \(2,\)'),
        (dict(frozen_stages=3), r'frozen_stages must be in \[-1, 2\], got 3'),
    ],
)
def test_invalid_arguments_say_what_is_allowed(kwargs, message):
    with pytest.raises(ValueError, match=message):
        SwinTransformer3D(**{'arch': TINY, 'window_size': WINDOW, 'out_indices': (1,), **kwargs})


def test_invalid_shift_names_the_axis():
    with pytest.raises(ValueError, match=r'shift_size\[1\]=3 must be in \[0, window_size\[1\]=3\)'):
        SwinTransformerBlock3D(8, 1, window_size=(2, 3, 3), shift_size=(1, 3, 1))


def _swin2d_state_dict(model, side):
    """A 2D Swin state dict in the official layout, for ``model``'s architecture, with windows
    of ``side`` tokens (relative tables of (2 side - 1)^2 rows)."""
    torch.manual_seed(1)
    sd = {}
    for key, value in model.state_dict().items():
        if 'relative_position_index' in key:
            sd[key] = torch.zeros(side**2, side**2, dtype=torch.long)  # dropped by the converter
        elif 'relative_position_bias_table' in key:
            sd[key] = torch.randn((2 * side - 1) ** 2, value.shape[1])
        elif key == 'patch_embed.proj.weight':
            sd[key] = torch.randn(value.shape[:2] + value.shape[3:])
        elif key.startswith('norm1.'):
            sd['norm.' + key.split('.')[1]] = torch.randn(value.shape)
        else:
            sd[key] = torch.randn(value.shape)
    sd['layers.0.blocks.1.attn_mask'] = torch.zeros(4, 9, 9)
    sd['head.weight'] = torch.randn(1000, 16)
    return sd


def test_inflation_keeps_the_2d_embedding_on_identical_frames():
    model = _swin(patch_size=(2, 4, 4))
    sd2d = _swin2d_state_dict(model, side=3)
    out = inflate_swin2d_state_dict(sd2d, model)
    weight3d = out['patch_embed.proj.weight']
    assert weight3d.shape == (8, 3, 2, 4, 4)
    frame = torch.randn(1, 3, 8, 8)
    clip = frame.unsqueeze(2).repeat(1, 1, 2, 1, 1)  # 2 identical frames
    bias = sd2d['patch_embed.proj.bias']
    expected = F.conv2d(frame, sd2d['patch_embed.proj.weight'], bias, stride=4)
    got = F.conv3d(clip, weight3d, bias, stride=(2, 4, 4)).squeeze(2)
    assert torch.allclose(got, expected, atol=1e-5)
    assert torch.allclose(weight3d.sum(2), sd2d['patch_embed.proj.weight'], atol=1e-6)


def test_inflation_tiles_and_resizes_relative_position_tables():
    model = _swin()  # windows (2, 3, 3): 5 x 5 spatial offsets, 3 temporal ones
    key = 'layers.1.blocks.0.attn.relative_position_bias_table'
    same = inflate_swin2d_state_dict(_swin2d_state_dict(model, side=3), model)
    table2d = _swin2d_state_dict(model, side=3)[key]
    assert same[key].shape == (3 * 25, 2)
    assert all(torch.equal(same[key][i * 25 : (i + 1) * 25], table2d) for i in range(3))

    resized = inflate_swin2d_state_dict(_swin2d_state_dict(model, side=7), model)  # 13 x 13
    assert resized[key].shape == model.state_dict()[key].shape
    big = _swin2d_state_dict(model, side=7)[key]
    expected = F.interpolate(big.t().reshape(1, 2, 13, 13), size=(5, 5), mode='bicubic')
    assert torch.allclose(resized[key][:25], expected.reshape(2, 25).t(), atol=1e-6)


def test_inflation_renames_the_final_norm_and_uses_own_buffers():
    model = _swin()
    sd2d = _swin2d_state_dict(model, side=3)
    out = inflate_swin2d_state_dict(sd2d, model)
    assert torch.equal(out['norm1.weight'], sd2d['norm.weight']) and 'norm.weight' not in out
    index_key = 'layers.0.blocks.0.attn.relative_position_index'
    assert torch.equal(out[index_key], model.state_dict()[index_key])
    assert not any('attn_mask' in k for k in out)
    assert 'head.weight' in out  # passed through: the loader lists it as unused
    assert sd2d['patch_embed.proj.weight'].dim() == 4  # input untouched


def test_pretrained2d_checkpoint_loads_through_init_weights(tmp_path):
    reference = _swin()
    sd2d = _swin2d_state_dict(reference, side=3)
    path = tmp_path / 'swin2d.pth'
    torch.save({'model': sd2d}, path)
    model = SwinTransformer3D(
        arch=TINY, window_size=WINDOW, out_indices=(1,), pretrained=str(path), pretrained2d=True
    )
    model.init_weights()
    assert torch.equal(
        model.layers[0].blocks[0].attn.qkv.weight, sd2d['layers.0.blocks.0.attn.qkv.weight']
    )
    assert torch.allclose(model.patch_embed.proj.weight.sum(2), sd2d['patch_embed.proj.weight'])
