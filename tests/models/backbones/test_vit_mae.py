import math

import pytest
import torch

from mmaction_ft.engine import CheckpointMismatchError
from mmaction_ft.models.backbones import VisionTransformer, vit_mae
from mmaction_ft.models.backbones.vit_mae import sinusoid_position_encoding
from mmaction_ft.registry import MODELS

TINY = dict(img_size=32, patch_size=16, embed_dims=32, depth=2, num_heads=2, num_frames=4)


def _model(**kwargs):
    torch.manual_seed(0)
    model = VisionTransformer(**{**TINY, **kwargs})
    model.init_weights()
    return model.eval()


def test_mmaction2_defaults():
    model = MODELS.build(dict(type='VisionTransformer'))
    assert model.pos_embed.shape == (1, 8 * 14 * 14, 768)  # 16 frames / tubelets of 2
    assert model.patch_embed.projection.kernel_size == (2, 16, 16)
    assert len(model.blocks) == 12 and model.fc_norm is not None
    assert len(model.state_dict()) == 161  # MMAction2 1.2.0's backbone count


def test_keys():
    state_dict = _model().state_dict()
    assert [k for k in state_dict if not k.startswith('blocks.')] == [
        'pos_embed',
        'patch_embed.projection.weight',
        'patch_embed.projection.bias',
        'fc_norm.weight',
        'fc_norm.bias',
    ]
    assert [k[len('blocks.0.') :] for k in state_dict if k.startswith('blocks.0.')] == [
        'norm1.weight',
        'norm1.bias',
        'attn.q_bias',
        'attn.v_bias',
        'attn.qkv.weight',
        'attn.proj.weight',
        'attn.proj.bias',
        'norm2.weight',
        'norm2.bias',
        'mlp.layers.0.0.weight',
        'mlp.layers.0.0.bias',
        'mlp.layers.1.weight',
        'mlp.layers.1.bias',
    ]
    assert 'blocks.0.gamma_1' in _model(init_values=0.1).state_dict()
    assert 'blocks.0.attn.q_bias' not in _model(qkv_bias=False).state_dict()
    assert 'norm.weight' in _model(use_mean_pooling=False).state_dict()


def test_sinusoid_table():
    table = sinusoid_position_encoding(5, 8)
    assert table.shape == (1, 5, 8) and table.dtype == torch.float32
    for pos in range(5):
        for i in range(4):
            angle = pos / 10000 ** (2 * i / 8)
            assert table[0, pos, 2 * i].item() == pytest.approx(math.sin(angle), abs=1e-6)
            assert table[0, pos, 2 * i + 1].item() == pytest.approx(math.cos(angle), abs=1e-6)


def test_position_embedding_is_a_fixed_buffer_or_a_parameter():
    fixed = _model()
    assert 'pos_embed' not in dict(fixed.named_parameters())
    assert torch.equal(fixed.pos_embed, sinusoid_position_encoding(8, 32))
    learned = _model(use_learnable_pos_emb=True)
    assert 'pos_embed' in dict(learned.named_parameters())
    assert 0 < learned.pos_embed.std() < 0.05  # truncated normal, std 0.02


def test_attention_uses_query_and_value_biases_only():
    block = _model(depth=1).blocks[0]
    attention = block.attn
    with torch.no_grad():
        attention.q_bias.normal_()
        attention.v_bias.normal_()
    x = torch.randn(2, 5, 32)
    q, k, v = (x @ attention.qkv.weight.T).chunk(3, dim=-1)
    q, v = q + attention.q_bias, v + attention.v_bias

    def heads(t):
        return t.reshape(2, 5, 2, 16).transpose(1, 2)  # [N, heads, L, 16]

    weights = (heads(q) * 16**-0.5 @ heads(k).transpose(-2, -1)).softmax(dim=-1)
    expected = attention.proj((weights @ heads(v)).transpose(1, 2).reshape(2, 5, 32))
    with torch.no_grad():
        assert torch.allclose(attention(x), expected, atol=1e-5)


@pytest.mark.parametrize('size, grid', [(32, (2, 2)), (48, (3, 3)), (64, (4, 4))])
def test_output_shapes(size, grid):
    x = torch.randn(2, 3, 4, size, size)
    with torch.no_grad():
        assert _model()(x).shape == (2, 32)
        assert _model(use_mean_pooling=False)(x).shape == (2, 32)
        assert _model(return_feat_map=True)(x).shape == (2, 32, 2) + grid


def test_pooling():
    x = torch.randn(2, 3, 4, 32, 32)
    with torch.no_grad():
        grid = _model(return_feat_map=True)(x)  # tokens before pooling (``norm`` is identity)
        tokens = grid.flatten(2).transpose(1, 2)  # [N, T' * H' * W', C]
        mean_model = _model()
        assert torch.allclose(mean_model(x), mean_model.fc_norm(tokens.mean(1)), atol=1e-5)
        first = _model(use_mean_pooling=False)
        assert torch.allclose(first(x), first.norm(tokens)[:, 0], atol=1e-5)


def test_position_embedding_is_resized_per_frame():
    """A table that is the same vector everywhere stays so when resized: a 48 px input on a
    32 px model then equals a 48 px model."""
    small, large = _model(), _model(img_size=48)
    with torch.no_grad():
        weights = {k: v for k, v in small.state_dict().items() if k != 'pos_embed'}
        large.load_state_dict(weights, strict=False)
        constant = torch.randn(32)
        small.pos_embed.copy_(constant.expand_as(small.pos_embed))
        large.pos_embed.copy_(constant.expand_as(large.pos_embed))
        x = torch.randn(1, 3, 4, 48, 48)
        assert torch.allclose(small(x), large(x), atol=1e-5)


def test_clip_length_must_fit_the_position_embedding():
    with pytest.raises(ValueError, match=r'8 frames gives 4 tubelets.*num_frames=4 \(2 tubelets'):
        _model()(torch.randn(1, 3, 8, 32, 32))


def test_layer_scale():
    model = _model(init_values=0.1)
    assert torch.equal(model.blocks[1].gamma_2, torch.full((32,), 0.1))
    x = torch.randn(1, 3, 4, 32, 32)
    with torch.no_grad():
        out = model(x)
        for block in model.blocks:
            block.gamma_1.zero_()
            block.gamma_2.zero_()
        # without the residual branches the tokens are the embedded patches
        tokens = model.patch_embed.projection(x).flatten(2).transpose(1, 2) + model.pos_embed
        assert torch.allclose(model(x), model.fc_norm(tokens.mean(1)), atol=1e-5)
        assert not torch.allclose(out, model(x))


def test_drop_path_only_in_training():
    model = _model(drop_path_rate=0.5, depth=4)
    assert model.blocks[-1].drop_path.drop_prob == pytest.approx(0.5)
    assert isinstance(model.blocks[0].drop_path, torch.nn.Identity)
    x = torch.randn(8, 3, 4, 32, 32)
    with torch.no_grad():
        assert torch.equal(model(x), model(x))
        model.train()
        torch.manual_seed(0)
        first = model(x)
        torch.manual_seed(1)
        assert not torch.allclose(first, model(x))


def test_with_cp_gives_the_same_outputs_and_gradients(monkeypatch):
    calls = []

    def counting_checkpoint(*args, **kwargs):
        calls.append(args[0])
        return torch.utils.checkpoint.checkpoint(*args, **kwargs)

    monkeypatch.setattr(vit_mae, 'checkpoint', counting_checkpoint)
    x = torch.randn(2, 3, 4, 32, 32)
    results = []
    for with_cp in (False, True):
        model = _model(with_cp=with_cp, drop_path_rate=0.3).train()
        torch.manual_seed(3)  # the same drop path masks; checkpointing replays the RNG
        out = model(x)
        out.square().sum().backward()
        results.append((out.detach(), {n: p.grad for n, p in model.named_parameters()}))
    (out, grads), (out_cp, grads_cp) = results
    assert torch.allclose(out, out_cp, atol=1e-6)
    assert grads.keys() == grads_cp.keys()
    for name in grads:
        assert torch.allclose(grads[name], grads_cp[name], atol=1e-6), name
    assert grads['blocks.0.attn.qkv.weight'].abs().sum() > 0
    assert len(calls) == 2  # every block of the with_cp model, none of the other


@pytest.mark.parametrize(
    'kwargs, error, match',
    [
        (dict(img_size=40), ValueError, 'img_size=40 must be divisible by patch_size=16'),
        (dict(num_frames=5), ValueError, 'num_frames=5 must be divisible by tubelet_size=2'),
        (dict(num_heads=3), ValueError, 'embed_dims=32 must be divisible by num_heads=3'),
        (dict(depth=0), ValueError, 'depth must be a positive int'),
        (dict(drop_path_rate=1.0), ValueError, r'drop_path_rate must be in \[0, 1\)'),
        (dict(pretrained=['a.pth']), TypeError, 'pretrained must be a path/URL string'),
        (dict(use_mean_pool=True), TypeError, 'use_mean_pool'),
    ],
)
def test_argument_validation(kwargs, error, match):
    with pytest.raises(error, match=match):
        VisionTransformer(**{**TINY, **kwargs})


def test_pretrained_loads_a_recognizer_checkpoint(tmp_path):
    source = _model(use_learnable_pos_emb=True)
    state_dict = {f'backbone.{k}': v for k, v in source.state_dict().items()}
    state_dict['cls_head.fc_cls.weight'] = torch.zeros(400, 32)
    torch.save({'state_dict': state_dict}, tmp_path / 'videomae.pth')
    model = _model(use_learnable_pos_emb=True, pretrained=str(tmp_path / 'videomae.pth'))
    for key, value in source.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key


def test_pretrained_of_another_size_is_an_error(tmp_path):
    torch.save(_model(embed_dims=64).state_dict(), tmp_path / 'wide.pth')
    with pytest.raises(CheckpointMismatchError, match='blocks.0.attn.qkv.weight'):
        _model(pretrained=str(tmp_path / 'wide.pth'))
