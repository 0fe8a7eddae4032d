import pytest
import torch

from mmaction_ft.engine import CheckpointMismatchError
from mmaction_ft.models.backbones import TimeSformer
from mmaction_ft.models.backbones.timesformer import vit_to_timesformer
from mmaction_ft.models.backbones.timesformer_layers import DividedTemporalAttention
from mmaction_ft.registry import MODELS

TINY = dict(num_frames=4, img_size=32, patch_size=16, embed_dims=32, num_heads=2)
LAYER0 = 'transformer_layers.layers.0.'


def _model(**kwargs):
    torch.manual_seed(0)
    model = TimeSformer(**{**TINY, 'num_transformer_layers': 2, **kwargs})
    model.init_weights()
    return model.eval()


def _randomise(model):
    """Non-zero time embedding and temporal_fc, so that time matters."""
    torch.manual_seed(1)
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if name == 'time_embed' or 'temporal_fc' in name:
                tensor.normal_(std=0.2)
    return model


def test_mmaction2_defaults():
    model = MODELS.build(dict(type='TimeSformer', num_frames=8, img_size=224, patch_size=16))
    assert (model.embed_dims, model.num_transformer_layers) == (768, 12)
    assert model.attention_type == 'divided_space_time'
    assert model.pos_embed.shape == (1, 197, 768)
    assert model.time_embed.shape == (1, 8, 768)
    assert len(model.state_dict()) == 247  # MMAction2 1.2.0's count for this config
    rates = [layer.ffns[0].dropout_layer.drop_prob for layer in model.transformer_layers.layers[1:]]
    assert rates[-1] == pytest.approx(0.1) and rates[0] == pytest.approx(0.1 / 11)


def test_divided_space_time_keys():
    keys = [k[len(LAYER0) :] for k in _model().state_dict() if k.startswith(LAYER0)]
    assert keys == [
        'attentions.0.norm.weight',
        'attentions.0.norm.bias',
        'attentions.0.attn.in_proj_weight',
        'attentions.0.attn.in_proj_bias',
        'attentions.0.attn.out_proj.weight',
        'attentions.0.attn.out_proj.bias',
        'attentions.0.temporal_fc.weight',
        'attentions.0.temporal_fc.bias',
        'attentions.1.norm.weight',
        'attentions.1.norm.bias',
        'attentions.1.attn.in_proj_weight',
        'attentions.1.attn.in_proj_bias',
        'attentions.1.attn.out_proj.weight',
        'attentions.1.attn.out_proj.bias',
        'ffns.0.layers.0.0.weight',
        'ffns.0.layers.0.0.bias',
        'ffns.0.layers.1.weight',
        'ffns.0.layers.1.bias',
        'ffns.0.norm.weight',
        'ffns.0.norm.bias',
    ]
    top = [k for k in _model().state_dict() if not k.startswith('transformer_layers.')]
    assert top == [
        'cls_token',
        'pos_embed',
        'time_embed',
        'patch_embed.projection.weight',
        'patch_embed.projection.bias',
        'norm.weight',
        'norm.bias',
    ]


@pytest.mark.parametrize('kind', ['joint_space_time', 'space_only'])
def test_joint_and_space_only_keys(kind):
    state_dict = _model(attention_type=kind).state_dict()
    keys = [k[len(LAYER0) :] for k in state_dict if k.startswith(LAYER0)]
    assert sorted(keys) == sorted(
        [
            'attentions.0.attn.in_proj_weight',
            'attentions.0.attn.in_proj_bias',
            'attentions.0.attn.out_proj.weight',
            'attentions.0.attn.out_proj.bias',
            'ffns.0.layers.0.0.weight',
            'ffns.0.layers.0.0.bias',
            'ffns.0.layers.1.weight',
            'ffns.0.layers.1.bias',
            'norms.0.weight',
            'norms.0.bias',
            'norms.1.weight',
            'norms.1.bias',
        ]
    )
    assert ('time_embed' in state_dict) == (kind == 'joint_space_time')


@pytest.mark.parametrize('kind', ['divided_space_time', 'joint_space_time', 'space_only'])
def test_one_feature_per_clip(kind):
    x = torch.randn(3, 3, 4, 32, 32)
    with torch.no_grad():
        out = _model(attention_type=kind)(x)
    assert out.shape == (3, 32)
    assert torch.isfinite(out).all()


@pytest.mark.parametrize('kind', ['divided_space_time', 'joint_space_time'])
def test_frame_order_matters_with_time_modelling(kind):
    model = _randomise(_model(attention_type=kind))
    x = torch.randn(2, 3, 4, 32, 32)
    with torch.no_grad():
        out, reversed_out = model(x), model(x.flip(2))
    assert not torch.allclose(out, reversed_out, atol=1e-4)


def test_space_only_ignores_frame_order_but_sees_every_frame():
    model = _model(attention_type='space_only')
    x = torch.randn(2, 3, 4, 32, 32)
    changed = x.clone()
    changed[:, :, 2] = torch.randn(2, 3, 32, 32)
    with torch.no_grad():
        out = model(x)
        assert torch.allclose(out, model(x.flip(2)), atol=1e-5)
        assert not torch.allclose(out, model(changed), atol=1e-4)


def test_divided_temporal_attention_starts_as_the_identity():
    attention = DividedTemporalAttention(
        32, 2, num_frames=4, drop_path_rate=0.0, norm_cfg=dict(type='LN')
    )
    assert attention.temporal_fc.weight.abs().sum() == 0
    x = torch.randn(2, 1 + 4 * 4, 32)
    assert torch.equal(attention(x), x)


def test_drop_path_only_in_training():
    model = _model(num_transformer_layers=4)
    x = torch.randn(8, 3, 4, 32, 32)
    with torch.no_grad():
        assert torch.equal(model(x), model(x))
        model.train()
        torch.manual_seed(0)
        first = model(x)
        torch.manual_seed(1)
        assert not torch.allclose(first, model(x))


@pytest.mark.parametrize(
    'kwargs, error, match',
    [
        (dict(attention_type='divided'), ValueError, 'attention_type must be one of'),
        (dict(transformer_layers=dict(type='X')), ValueError, 'transformer_layers must be None'),
        (dict(img_size=40), ValueError, r'img_size \(40, 40\) must be divisible by patch_size'),
        (dict(num_heads=3), ValueError, 'embed_dims=32 must be divisible by num_heads=3'),
        (dict(num_frames=0), ValueError, 'num_frames must be a positive int'),
        (dict(dropout_ratio=1.0), ValueError, r'dropout_ratio must be in \[0, 1\)'),
        (dict(pretrained=3), TypeError, 'pretrained must be a path/URL string'),
    ],
)
def test_argument_validation(kwargs, error, match):
    with pytest.raises(error, match=match):
        TimeSformer(**{**TINY, **kwargs})


@pytest.mark.parametrize('shape', [(1, 3, 8, 32, 32), (1, 3, 4, 64, 32), (3, 4, 32, 32)])
def test_clip_of_another_size_names_the_arguments(shape):
    with pytest.raises(ValueError, match=r'expects clips \[N, C, 4, 32, 32\] \(num_frames'):
        _model()(torch.randn(shape))


def _image_vit(model):
    """An ImageNet ViT in MMAction2's layout: a joint model without the time embedding."""
    state_dict = model.state_dict()
    del state_dict['time_embed']
    state_dict['head.weight'] = torch.zeros(1000, 32)  # an ImageNet classifier, left unused
    return state_dict


def test_converter_copies_the_image_attention_to_time_and_space():
    vit = _image_vit(_randomise(_model(attention_type='joint_space_time')))
    model = _model()
    converted = vit_to_timesformer(vit, model)
    assert set(converted) == set(model.state_dict()) | {'head.weight'}
    for part in ('attn.in_proj_weight', 'attn.out_proj.bias'):
        image = vit[f'{LAYER0}attentions.0.{part}']
        assert torch.equal(converted[f'{LAYER0}attentions.0.{part}'], image)  # time
        assert torch.equal(converted[f'{LAYER0}attentions.1.{part}'], image)  # space
    assert torch.equal(
        converted[f'{LAYER0}attentions.0.norm.weight'], vit[f'{LAYER0}norms.0.weight']
    )
    assert torch.equal(
        converted[f'{LAYER0}attentions.1.norm.weight'], vit[f'{LAYER0}norms.0.weight']
    )
    assert torch.equal(converted[f'{LAYER0}ffns.0.norm.bias'], vit[f'{LAYER0}norms.1.bias'])
    assert converted['time_embed'].abs().sum() == 0
    assert converted[f'{LAYER0}attentions.0.temporal_fc.weight'].abs().sum() == 0
    assert converted[f'{LAYER0}attentions.0.temporal_fc.bias'].shape == (32,)


def test_converter_leaves_space_only_and_timesformer_checkpoints_alone():
    vit = _image_vit(_model(attention_type='joint_space_time'))
    space_only = vit_to_timesformer(vit, _model(attention_type='space_only'))
    assert list(space_only) == list(vit)
    divided = _randomise(_model()).state_dict()
    again = vit_to_timesformer(divided, _model())
    assert all(torch.equal(again[k], v) for k, v in divided.items()) and len(again) == len(divided)


def test_converter_takes_timm_layout():
    reference = _model(attention_type='joint_space_time')
    vit = _image_vit(reference)
    renames = {
        'norms.0.': 'norm1.',
        'attentions.0.attn.in_proj_weight': 'attn.qkv.weight',
        'attentions.0.attn.in_proj_bias': 'attn.qkv.bias',
        'attentions.0.attn.out_proj.': 'attn.proj.',
        'norms.1.': 'norm2.',
        'ffns.0.layers.0.0.': 'mlp.fc1.',
        'ffns.0.layers.1.': 'mlp.fc2.',
    }
    timm = {}
    for key, value in vit.items():
        if key.startswith('transformer_layers.layers.'):
            index, rest = key[len('transformer_layers.layers.') :].split('.', 1)
            for ours, theirs in renames.items():
                rest = rest.replace(ours, theirs)
            key = f'blocks.{index}.{rest}'
        timm[key.replace('patch_embed.projection.', 'patch_embed.proj.')] = value
    assert 'blocks.1.mlp.fc2.weight' in timm and 'patch_embed.proj.bias' in timm
    converted = vit_to_timesformer(timm, reference)
    assert set(converted) == set(reference.state_dict()) | {'head.weight'}
    assert all(torch.equal(converted[k], v) for k, v in vit.items())


def test_pretrained_image_vit_gives_an_image_model_for_one_frame(tmp_path):
    """With time embedding and temporal_fc at zero, an image ViT loaded into any attention
    type computes the same function of a one-frame clip."""
    vit = _image_vit(_randomise(_model(num_frames=1, attention_type='joint_space_time')))
    torch.save({'state_dict': vit}, tmp_path / 'vit.pth')
    x = torch.randn(2, 3, 1, 32, 32)
    outputs = []
    for kind in ('divided_space_time', 'joint_space_time', 'space_only'):
        model = _model(num_frames=1, attention_type=kind, pretrained=str(tmp_path / 'vit.pth'))
        assert torch.equal(model.pos_embed, vit['pos_embed'])  # init_weights loaded it
        with torch.no_grad():
            outputs.append(model(x))
    assert torch.allclose(outputs[0], outputs[1], atol=1e-5)
    assert torch.allclose(outputs[2], outputs[1], atol=1e-5)


def test_pretrained_of_another_image_size_is_an_error(tmp_path):
    vit = _image_vit(_model(img_size=64, attention_type='joint_space_time'))
    torch.save(vit, tmp_path / 'vit64.pth')
    with pytest.raises(CheckpointMismatchError, match='pos_embed'):
        _model(pretrained=str(tmp_path / 'vit64.pth'))
