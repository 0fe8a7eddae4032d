import pytest
import torch
import torch.nn as nn

import mmaction_ft.engine.weight_loading as weight_loading
from mmaction_ft.engine.weight_loading import CheckpointMismatchError
from mmaction_ft.models.backbones import UniFormerV2
from mmaction_ft.models.backbones.uniformerv2 import CLIP_VISUAL_ENCODERS, convert_clip_state_dict
from mmaction_ft.models.backbones.uniformerv2_blocks import LocalUniBlock

# 32 px / 16 px patches: 2 x 2 patches + the class token per frame.
TINY = dict(
    input_resolution=32,
    patch_size=16,
    width=16,
    layers=3,
    heads=2,
    t_size=4,
    return_list=(1, 2),
    n_layers=2,
    n_dim=16,
    n_head=2,
    mlp_dropout=(0.5, 0.5),
    clip_pretrained=False,
)


def _tiny(**kwargs):
    torch.manual_seed(0)
    return UniFormerV2(**{**TINY, **kwargs})


def test_mmaction2_key_layout_with_double_lmhra():
    sd = _tiny(no_lmhra=False, double_lmhra=True).state_dict()
    assert sd['conv1.weight'].shape == (16, 3, 1, 16, 16)
    assert 'conv1.bias' not in sd
    assert sd['class_embedding'].shape == (16,)
    assert sd['positional_embedding'].shape == (5, 16)  # 2 * 2 patches + class token
    assert 'ln_pre.weight' in sd
    block = 'transformer.resblocks.2.'
    assert sd[block + 'attn.in_proj_weight'].shape == (48, 16)
    assert sd[block + 'attn.out_proj.weight'].shape == (16, 16)
    assert sd[block + 'mlp.c_fc.weight'].shape == (64, 16)
    assert sd[block + 'mlp.c_proj.bias'].shape == (16,)
    assert block + 'ln_2.bias' in sd
    # int(16 // 1.5) = 10 channels in the middle of the local MHRA
    assert 'transformer.resblocks.0.lmhra1.pos_embed.0.running_var' in sd
    assert sd['transformer.resblocks.0.lmhra1.pos_embed.1.weight'].shape == (10, 16, 1, 1, 1)
    assert sd['transformer.resblocks.0.lmhra2.pos_embed.2.weight'].shape == (10, 1, 3, 1, 1)
    assert sd['transformer.resblocks.0.lmhra2.pos_embed.3.weight'].shape == (16, 10, 1, 1, 1)
    assert sd['transformer.temporal_cls_token'].shape == (1, 1, 16)
    assert sd['transformer.dpe.1.weight'].shape == (16, 1, 3, 3, 3)
    assert sd['transformer.dec.1.mlp.c_fc.weight'].shape == (64, 16)
    assert 'transformer.dec.0.ln_3.weight' in sd
    assert sd['transformer.balance'].shape == (16,)
    assert 'transformer.norm.bias' in sd
    assert 'transformer.dec.2.ln_1.weight' not in sd  # one decoder layer per returned block


def test_lmhra_options_add_or_remove_the_local_blocks():
    def lmhra(model):
        return {k.split('.')[3] for k in model.state_dict() if '.lmhra' in k}

    assert lmhra(_tiny(no_lmhra=False, double_lmhra=True)) == {'lmhra1', 'lmhra2'}
    assert lmhra(_tiny(no_lmhra=False, double_lmhra=False)) == {'lmhra1'}
    assert lmhra(_tiny(no_lmhra=True, double_lmhra=True)) == set()
    assert lmhra(_tiny()) == set()  # MMAction2's defaults: no_lmhra=True


def test_output_is_one_feature_vector_per_clip():
    model = _tiny(no_lmhra=False, double_lmhra=True).eval()
    assert model(torch.randn(2, 3, 4, 32, 32)).shape == (2, 16)


def test_temporal_downsample_halves_the_frames():
    model = _tiny(temporal_downsample=True, kernel_size=3).eval()
    assert model.conv1.weight.shape == (16, 3, 3, 16, 16)
    assert model.conv1.stride == (2, 16, 16)
    assert model.transformer.t_size == 2
    assert model(torch.randn(1, 3, 4, 32, 32)).shape == (1, 16)


def test_input_must_have_t_size_frames_and_input_resolution():
    model = _tiny().eval()
    with pytest.raises(ValueError, match=r't_size.*got \[1, 3, 2, 32, 32\]'):
        model(torch.randn(1, 3, 2, 32, 32))
    with pytest.raises(ValueError, match=r'input_resolution.*got \[1, 3, 4, 48, 48\]'):
        model(torch.randn(1, 3, 4, 48, 48))


@pytest.mark.parametrize(
    'kwargs, message',
    [
        (dict(n_dim=32), 'n_dim=32 must equal width=16'),
        (dict(n_layers=3), r'n_layers=3 must equal len\(return_list\)=2'),
        (dict(return_list=(1, 3)), r'return_list .*\[0, 3\).*\[1, 3\]'),
        (dict(return_list=(1, 1)), 'return_list must hold distinct'),
        (dict(mlp_dropout=(0.5,)), 'mlp_dropout needs one rate per decoder layer'),
        (dict(heads=3), 'width=16 must be divisible by heads=3'),
        (dict(n_head=5), 'n_dim=16 must be divisible by n_head=5'),
        (dict(t_size=3, temporal_downsample=True), 'even with temporal_downsample'),
        (dict(input_resolution=8), 'input_resolution=8 must be at least patch_size=16'),
    ],
)
def test_invalid_arguments_are_named(kwargs, message):
    with pytest.raises(ValueError, match=message):
        _tiny(**kwargs)


def test_zero_inits_make_a_fresh_model_a_clip_vit_with_a_mean_token():
    """Local MHRA and decoder start as identities: the output is then the norm of half the
    mean of the frames' class tokens (the video token stays 0, sigmoid(balance) = 0.5)."""
    torch.manual_seed(0)
    local = _tiny(no_lmhra=False, double_lmhra=True).eval()
    plain = _tiny()
    plain.load_state_dict(local.state_dict(), strict=False)
    x = torch.randn(2, 3, 4, 32, 32)
    with torch.no_grad():
        out = local(x)
        assert torch.allclose(out, plain.eval()(x), atol=1e-6)
        tokens = local.ln_pre(
            torch.cat(
                [
                    local.class_embedding.expand(8, 1, 16),
                    local.conv1(x).permute(0, 2, 3, 4, 1).reshape(8, 4, 16),
                ],
                dim=1,
            )
            + local.positional_embedding
        ).permute(1, 0, 2)  # [5, N * T, C]
        for block in local.transformer.resblocks:
            tokens = block(tokens, 4)
        frame_cls = tokens[0].reshape(2, 4, 16).mean(dim=1)
    assert torch.allclose(out, local.transformer.norm(0.5 * frame_cls), atol=1e-5)


class _Recorder(nn.Module):
    def __init__(self):
        super().__init__()
        self.seen = None

    def forward(self, video):
        self.seen = video.clone()
        return video


def test_local_mhra_sees_each_patch_as_a_video_and_leaves_the_class_token():
    block = LocalUniBlock(8, 2, no_lmhra=False, double_lmhra=False)
    block.lmhra1 = _Recorder()
    n, t, side, c = 2, 3, 2, 8
    tokens = torch.randn(1 + side * side, n * t, c)
    out = block._local_mhra(tokens, block.lmhra1, num_frames=t)
    video = block.lmhra1.seen
    assert video.shape == (n, c, t, side, side)
    for i, j, h, w in [(0, 0, 0, 0), (1, 2, 1, 0), (0, 1, 1, 1), (1, 0, 0, 1)]:
        # patch (h, w) is token 1 + h * W + w; clip i's frame j is column i * T + j
        assert torch.equal(video[i, :, j, h, w], tokens[1 + h * side + w, i * t + j])
    assert torch.equal(out[0], tokens[0])
    assert torch.allclose(out[1:], 2 * tokens[1:])  # residual + the recorder's identity


def test_init_weights_uses_init_cfg_when_nothing_is_loaded():
    model = _tiny(no_lmhra=False)
    model.init_weights()
    assert torch.all(model.ln_pre.weight == 1) and torch.all(model.ln_pre.bias == 0)
    assert torch.all(model.transformer.resblocks[0].mlp.c_fc.bias == 0)
    # truncated normal with std 0.02 replaces the decoder's zero init, as in MMAction2
    assert model.transformer.dec[0].mlp.c_proj.weight.abs().sum() > 0


def test_clip_pretrained_needs_a_name():
    with pytest.raises(ValueError, match=r'clip_pretrained=True needs pretrained=.*ViT-B/16'):
        _tiny(clip_pretrained=True).init_weights()


def test_clip_names_resolve_to_mmaction2_model_zoo_files(monkeypatch):
    calls = []
    monkeypatch.setattr(weight_loading, 'load_pretrained', lambda *a, **kw: calls.append((a, kw)))
    _tiny(clip_pretrained=True, pretrained='ViT-B/16').init_weights()
    ((args, kwargs),) = calls
    assert args[1] == CLIP_VISUAL_ENCODERS['ViT-B/16']
    assert args[1].endswith('clipVisualEncoder/vit-base-p16-res224_clip-rgb_20221219-b8a5da86.pth')
    assert kwargs['convert'] is convert_clip_state_dict


def _openai_clip(width=16, layers=3, patch=16, grid=2, text_width=12):
    """A random state dict in OpenAI CLIP's layout (visual tower under ``visual.``)."""
    g = torch.Generator().manual_seed(1)
    sd = {
        'visual.conv1.weight': torch.randn(width, 3, patch, patch, generator=g),
        'visual.class_embedding': torch.randn(width, generator=g),
        'visual.positional_embedding': torch.randn(grid * grid + 1, width, generator=g),
        'visual.ln_pre.weight': torch.randn(width, generator=g),
        'visual.ln_pre.bias': torch.randn(width, generator=g),
        'visual.ln_post.weight': torch.randn(width, generator=g),
        'visual.ln_post.bias': torch.randn(width, generator=g),
        'visual.proj': torch.randn(width, 8, generator=g),
        # the text tower uses the same names without 'visual.' (and another width)
        'transformer.resblocks.0.attn.in_proj_weight': torch.randn(3 * text_width, text_width),
        'token_embedding.weight': torch.randn(10, text_width),
        'logit_scale': torch.tensor(4.6),
    }
    for i in range(layers):
        p = f'visual.transformer.resblocks.{i}.'
        for name, shape in [
            ('attn.in_proj_weight', (3 * width, width)),
            ('attn.in_proj_bias', (3 * width,)),
            ('attn.out_proj.weight', (width, width)),
            ('attn.out_proj.bias', (width,)),
            ('ln_1.weight', (width,)),
            ('ln_1.bias', (width,)),
            ('mlp.c_fc.weight', (4 * width, width)),
            ('mlp.c_fc.bias', (4 * width,)),
            ('mlp.c_proj.weight', (width, 4 * width)),
            ('mlp.c_proj.bias', (width,)),
            ('ln_2.weight', (width,)),
            ('ln_2.bias', (width,)),
        ]:
            sd[p + name] = torch.randn(shape, generator=g)
    return sd


def test_clip_converter_takes_the_visual_tower_and_keeps_the_new_parts():
    model = _tiny(no_lmhra=False, double_lmhra=True)
    clip = _openai_clip()
    before = {k: v.clone() for k, v in clip.items()}
    out = convert_clip_state_dict(clip, model)
    assert all(torch.equal(clip[k], before[k]) for k in before)  # input left alone
    own = model.state_dict()
    assert set(own) <= set(out)
    assert torch.equal(out['conv1.weight'], clip['visual.conv1.weight'].unsqueeze(2))
    key = 'transformer.resblocks.1.attn.in_proj_weight'
    assert torch.equal(out[key], clip['visual.' + key])  # not the text tower's tensor
    assert torch.equal(out['positional_embedding'], clip['visual.positional_embedding'])
    for key in (
        'transformer.resblocks.0.lmhra2.pos_embed.1.weight',
        'transformer.dec.1.attn.in_proj_weight',
        'transformer.temporal_cls_token',
    ):
        assert torch.equal(out[key], own[key])
    assert 'ln_post.weight' in out and 'proj' in out  # reported by the loader as unused
    assert not any(k.startswith(('token_embedding', 'logit_scale', 'visual.')) for k in out)


def test_clip_converter_puts_the_2d_patch_kernel_in_the_middle_frame():
    model = _tiny(temporal_downsample=True, kernel_size=3)
    weight = _openai_clip()['visual.conv1.weight']
    out = convert_clip_state_dict({'conv1.weight': weight}, model)  # MMAction2's visual-only file
    assert out['conv1.weight'].shape == (16, 3, 3, 16, 16)
    assert torch.equal(out['conv1.weight'][:, :, 1], weight)
    assert torch.all(out['conv1.weight'][:, :, [0, 2]] == 0)


def test_clip_weights_load_through_init_weights(tmp_path):
    path = tmp_path / 'clip_vit.pth'
    clip = _openai_clip()
    torch.save(clip, path)
    model = _tiny(no_lmhra=False, clip_pretrained=True, pretrained=str(path))
    fresh = {k: v.clone() for k, v in model.state_dict().items()}
    model.init_weights()
    sd = model.state_dict()
    key = 'transformer.resblocks.2.mlp.c_fc.weight'
    assert torch.equal(sd[key], clip['visual.' + key])
    assert torch.equal(sd['class_embedding'], clip['visual.class_embedding'])
    key = 'transformer.dec.0.mlp.c_proj.weight'
    assert torch.equal(sd[key], fresh[key])
    assert torch.all(sd[key] == 0)  # the construction's zero init is kept

    other = _tiny(width=32, heads=2, n_dim=32, clip_pretrained=True, pretrained=str(path))
    with pytest.raises(CheckpointMismatchError, match='conv1.weight'):
        other.init_weights()


def test_pretrained_init_cfg_loads_a_recognizer_checkpoint_backbone(tmp_path):
    source = _tiny(no_lmhra=False)
    source.init_weights()
    path = tmp_path / 'k710.pth'
    state = {f'backbone.{k}': v for k, v in source.state_dict().items()}
    state['cls_head.fc_cls.weight'] = torch.randn(7, 16)
    torch.save({'state_dict': state}, path)
    init_cfg = dict(type='Pretrained', checkpoint=str(path), prefix='backbone.')
    model = _tiny(no_lmhra=False, init_cfg=init_cfg)
    model.init_weights()
    for key, value in source.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key
