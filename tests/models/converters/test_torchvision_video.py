"""torchvision's video models, read through ``torchvision://NAME``, give torchvision's scores.

A randomly initialised torchvision model saved locally stands in for the download: the URL that
``torchvision://NAME`` resolves to (from torchvision's weight enum) is answered with that file.
"""

import copy

import pytest
import torch
import torchvision

import mmaction_ft.engine.checkpoint as checkpoint_module
from mmaction_ft.engine import get_state_dict, load_checkpoint_file, load_weights
from mmaction_ft.models.converters import (
    TORCHVISION_VIDEO_MODELS,
    convert_video_resnet,
    torchvision_video_model_cfg,
)
from mmaction_ft.registry import MODELS

# name: (input [N, C, T, H, W], torchvision builder kwargs, changes to our backbone config).
# The MViTs' position tables fix their input size: both are built for 4 x 32 x 32 clips. S3D's
# 2x7x7 head pool needs at least 13 frames of 209 px (224 here).
CASES = {
    'r3d_18': ((1, 3, 4, 32, 32), {}, {}),
    'mc3_18': ((1, 3, 4, 32, 32), {}, {}),
    'r2plus1d_18': ((1, 3, 4, 32, 32), {}, {}),
    's3d': ((1, 3, 13, 224, 224), {}, {}),
    'mvit_v1_b': (
        (1, 3, 4, 32, 32),
        dict(spatial_size=(32, 32), temporal_size=4),
        dict(spatial_size=32, temporal_size=4),
    ),
    'mvit_v2_s': (
        (1, 3, 4, 32, 32),
        dict(spatial_size=(32, 32), temporal_size=4),
        dict(spatial_size=32, temporal_size=4),
    ),
    # 2 x 8 x 8 tokens: windows shrink to 2 x 7 x 7, padded and shifted.
    'swin3d_t': ((1, 3, 4, 32, 32), {}, {}),
    'swin3d_s': ((1, 3, 4, 32, 32), {}, {}),
    'swin3d_b': ((1, 3, 4, 32, 32), {}, {}),
}


def test_every_listed_model_has_a_case():
    assert set(CASES) == set(TORCHVISION_VIDEO_MODELS)


def _perturb(model: torch.nn.Module) -> None:
    """Move every float tensor off its init (BN statistics included), so that a tensor loaded
    into the wrong place changes the scores."""
    generator = torch.Generator().manual_seed(1)
    with torch.no_grad():
        for name, tensor in model.state_dict().items():
            if not tensor.is_floating_point():
                continue
            if name.endswith('running_var'):
                tensor.uniform_(0.5, 1.5, generator=generator)
            else:
                tensor.add_(0.05 * torch.randn(tensor.shape, generator=generator))


@pytest.fixture
def torchvision_file(tmp_path, monkeypatch):
    """Build torchvision model ``name`` with random weights, save it, and serve it for the URL
    of its Kinetics-400 weights; returns the torchvision model (eval mode)."""

    def make(name: str, **sizes) -> torch.nn.Module:
        if sizes:  # the MViT builders fix 16 x 224 x 224; their common helper takes sizes
            build = torchvision.models.video.mvit._mvit
            monkeypatch.setattr(
                torchvision.models.video.mvit, '_mvit', lambda **kw: build(**{**kw, **sizes})
            )
        torch.manual_seed(0)
        source = torchvision.models.get_model(name, weights=None).eval()
        _perturb(source)
        path = tmp_path / f'{name}.pth'
        torch.save(source.state_dict(), path)
        url = torchvision.models.get_model_weights(name).KINETICS400_V1.url

        def download(requested, cache_dir=None):
            assert requested == url, 'torchvision://NAME must resolve to the enum URL'
            return str(path)

        monkeypatch.setattr(checkpoint_module, 'download_checkpoint', download)
        return source

    return make


def _ours(name: str, backbone_changes: dict, **backbone) -> torch.nn.Module:
    cfg = copy.deepcopy(torchvision_video_model_cfg(name))
    cfg['backbone'].update(backbone_changes, **backbone)
    return MODELS.build(cfg)


def _rel_err(ours: torch.Tensor, theirs: torch.Tensor) -> float:
    return ((ours - theirs).abs().max() / theirs.abs().max()).item()


# Building, saving and running these two takes 8-10 s on a shared CPU.
SLOW = {'s3d', 'swin3d_b'}


@pytest.mark.parametrize(
    'name', [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in sorted(CASES)]
)
def test_load_from_gives_torchvision_scores(name, torchvision_file):
    shape, tv_kwargs, changes = CASES[name]
    source = torchvision_file(name, **tv_kwargs)
    checkpoint = load_checkpoint_file(f'torchvision://{name}')
    classes = torchvision.models.get_model_weights(name).KINETICS400_V1.meta['categories']
    assert checkpoint['meta']['dataset_meta']['classes'] == classes
    assert (
        checkpoint['meta']['cfg'].model['backbone']['type']
        == TORCHVISION_VIDEO_MODELS[name][0]['type']
    )

    model = _ours(name, changes)
    report = load_weights(
        model, get_state_dict(checkpoint), mode='strict', source=f'torchvision://{name}'
    )
    assert not report.skipped
    model.eval()
    x = torch.randn(shape, generator=torch.Generator().manual_seed(2))
    with torch.no_grad():
        theirs = source(x)
        ours = model(x[:, None], mode='tensor')  # [N, num_views=1, C, T, H, W]
    assert ours.shape == theirs.shape == (shape[0], 400)
    assert _rel_err(ours, theirs) < 1e-4


# ResNet3d's default pretrained2d=True would inflate 2D weights: converted files skip that.
@pytest.mark.parametrize(
    'name, extra', [('r3d_18', dict(pretrained2d=True)), ('r2plus1d_18', {}), ('mvit_v1_b', {})]
)
def test_backbone_pretrained_loads_the_torchvision_backbone(name, extra, torchvision_file):
    _, tv_kwargs, changes = CASES[name]
    source = torchvision_file(name, **tv_kwargs)
    model = _ours(name, changes, pretrained=f'torchvision://{name}', **extra)
    model.backbone.init_weights()
    expected = {
        key[len('backbone.') :]: value
        for key, value in TORCHVISION_VIDEO_MODELS[name][2](source.state_dict()).items()
        if key.startswith('backbone.')
    }
    loaded = model.backbone.state_dict()
    assert set(loaded) == set(expected)
    for key, value in expected.items():
        assert torch.equal(loaded[key], value), key


def test_entry_names_resolve_through_torchvision():
    from mmaction_ft.engine.checkpoint import torchvision_url

    url = torchvision.models.video.R3D_18_Weights.KINETICS400_V1.url
    assert torchvision_url('r3d_18') == url
    assert torchvision_url('r3d_18.kinetics400_v1') == url
    assert torchvision_url('R3D_18_Weights.KINETICS400_V1') == url
    # Image models keep mmengine's IMAGENET1K_V1 default.
    assert torchvision_url('resnet50') == torchvision.models.ResNet50_Weights.IMAGENET1K_V1.url
    with pytest.raises(ValueError, match='no entry'):
        torchvision_url('r3d_18.imagenet1k_v1')


def test_image_weights_are_not_converted(tmp_path, monkeypatch):
    state = {'conv1.weight': torch.zeros(64, 3, 7, 7)}
    path = tmp_path / 'resnet18.pth'
    torch.save(state, path)
    monkeypatch.setattr(
        checkpoint_module, 'download_checkpoint', lambda url, cache_dir=None: str(path)
    )
    assert set(load_checkpoint_file('torchvision://resnet18')) == {'conv1.weight'}


def test_video_resnet_converter_is_pure_and_names_the_head():
    state = {
        'stem.0.weight': torch.zeros(1),
        'layer2.0.downsample.1.running_mean': torch.zeros(1),
        'fc.bias': torch.zeros(1),
    }
    before = dict(state)
    out = convert_video_resnet(state)
    assert state == before
    assert list(out) == [
        'backbone.conv1.conv.weight',
        'backbone.layer2.0.downsample.bn.running_mean',
        'cls_head.fc_cls.bias',
    ]
