"""Hugging Face ``VideoMAEForVideoClassification`` folders, read through ``hf://FOLDER``, give
transformers' logits and class names."""

import json

import pytest
import torch

from mmaction_ft.engine import get_state_dict, load_checkpoint_file, load_weights
from mmaction_ft.models.converters import videomae_model_cfg
from mmaction_ft.registry import MODELS

transformers = pytest.importorskip(
    'transformers',
    reason='transformers is not installed (pip install transformers safetensors); it only '
    'writes the reference VideoMAE checkpoint of these tests',
)
pytest.importorskip('safetensors', reason='safetensors is not installed (pip install safetensors)')

CLASSES = ['archery', 'bowling', 'juggling']


def _hf_model(use_mean_pooling: bool = True):
    config = transformers.VideoMAEConfig(
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        image_size=32,
        patch_size=16,
        num_frames=4,
        tubelet_size=2,
        use_mean_pooling=use_mean_pooling,
        id2label=dict(enumerate(CLASSES)),
        label2id={name: i for i, name in enumerate(CLASSES)},
    )
    torch.manual_seed(0)
    model = transformers.VideoMAEForVideoClassification(config).eval()
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():  # off the init (unit norms, zero biases), so misplaced tensors show
        for param in model.parameters():
            param.add_(0.1 * torch.randn(param.shape, generator=generator))
    return model


def _rel_err(ours: torch.Tensor, theirs: torch.Tensor) -> float:
    return ((ours - theirs).abs().max() / theirs.abs().max()).item()


@pytest.mark.parametrize('use_mean_pooling', [True, False])
def test_hf_folder_gives_transformers_logits(tmp_path, use_mean_pooling):
    source = _hf_model(use_mean_pooling)
    source.save_pretrained(tmp_path)
    checkpoint = load_checkpoint_file(f'hf://{tmp_path}')
    assert checkpoint['meta']['dataset_meta']['classes'] == CLASSES

    config = json.loads((tmp_path / 'config.json').read_text())
    model = MODELS.build(videomae_model_cfg(config))
    report = load_weights(model, get_state_dict(checkpoint), mode='strict', source='hf')
    assert not report.skipped
    model.eval()
    x = torch.randn(2, 3, 4, 32, 32, generator=torch.Generator().manual_seed(2))  # [N, C, T, H, W]
    with torch.no_grad():
        theirs = source(pixel_values=x.permute(0, 2, 1, 3, 4)).logits  # HF takes [N, T, C, H, W]
        ours = model(x[:, None], mode='tensor')
    assert ours.shape == theirs.shape == (2, 3)
    assert _rel_err(ours, theirs) < 1e-4


def test_init_recognizer_builds_from_the_folder_alone(tmp_path):
    from mmaction_ft.apis import init_recognizer

    source = _hf_model()
    source.save_pretrained(tmp_path)
    model = init_recognizer(f'hf://{tmp_path / "model.safetensors"}')
    assert model.dataset_meta['classes'] == CLASSES
    assert model.backbone.embed_dims == 32 and len(model.backbone.blocks) == 2


def test_backbone_pretrained_from_hf_folder(tmp_path):
    source = _hf_model()
    source.save_pretrained(tmp_path)
    config = json.loads((tmp_path / 'config.json').read_text())
    cfg = videomae_model_cfg(config)
    cfg['backbone']['pretrained'] = f'hf://{tmp_path}'
    cfg['cls_head']['num_classes'] = 5  # a new task: only the backbone comes from the file
    model = MODELS.build(cfg)
    model.init_weights()
    qkv = model.backbone.blocks[1].attn.qkv.weight
    attention = source.videomae.encoder.layer[1].attention.attention
    assert torch.equal(qkv[32:64], attention.key.weight)


def test_missing_config_json_is_explained(tmp_path):
    source = _hf_model()
    source.save_pretrained(tmp_path)
    (tmp_path / 'config.json').unlink()
    with pytest.raises(FileNotFoundError, match='config.json is missing'):
        load_checkpoint_file(f'hf://{tmp_path}')
    with pytest.raises(FileNotFoundError, match='nothing is downloaded'):
        load_checkpoint_file('hf://MCG-NJU/videomae-base-finetuned-kinetics')
