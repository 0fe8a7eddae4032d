import pytest
import torch

from mmaction_ft.engine.weight_loading import CheckpointMismatchError
from mmaction_ft.models.backbones import Conv2plus1d, ResNet2Plus1d

# MMAction2's r2plus1d_r34 backbone settings, at depth 18 to stay small.
R2PLUS1D = dict(
    depth=18,
    pretrained=None,
    pretrained2d=False,
    conv_cfg=dict(type='Conv2plus1d'),
    norm_cfg=dict(type='BN3d', requires_grad=True, eps=1e-3),
    conv1_kernel=(3, 7, 7),
    conv1_stride_t=1,
    pool1_stride_t=1,
    inflate=(1, 1, 1, 1),
    spatial_strides=(1, 2, 2, 2),
    temporal_strides=(1, 2, 2, 2),
    zero_init_residual=False,
)


def test_output_shape_without_pool2_and_keys():
    model = ResNet2Plus1d(**R2PLUS1D).eval()
    # T: 8 -> 8 (stem) -> 8 (layer1, no pool2) -> 4 -> 2 -> 1; space: 32 -> 16 -> 8 -> ... -> 1
    assert model(torch.randn(1, 3, 8, 32, 32)).shape == (1, 512, 1, 1, 1)
    with_pool2 = ResNet2Plus1d(with_pool2=True, **R2PLUS1D).eval()  # ignored, as in MMAction2
    assert with_pool2(torch.randn(1, 3, 8, 32, 32)).shape == (1, 512, 1, 1, 1)
    sd = model.state_dict()
    for key in [
        'conv1.conv.conv_s.weight',
        'conv1.conv.bn_s.running_mean',
        'conv1.bn.weight',
        'layer1.0.conv1.conv.conv_t.weight',
        'layer2.0.downsample.conv.conv_s.weight',
        'layer4.1.conv2.bn.num_batches_tracked',
    ]:
        assert key in sd, key
    assert isinstance(model.layer3[1].conv2.conv, Conv2plus1d)


def test_inner_bn_keeps_its_own_eps():
    model = ResNet2Plus1d(**R2PLUS1D)
    assert model.conv1.bn.eps == 1e-3
    assert model.conv1.conv.bn_s.eps == 1e-5  # ConvModule does not pass norm_cfg to the conv


def test_argument_validation():
    with pytest.raises(ValueError, match='pretrained2d=False'):
        ResNet2Plus1d(**dict(R2PLUS1D, pretrained2d=True))
    with pytest.raises(ValueError, match="conv_cfg=dict\\(type='Conv2plus1d'\\)"):
        ResNet2Plus1d(**dict(R2PLUS1D, conv_cfg=dict(type='Conv3d')))


def test_frozen_stages_cover_the_factorised_convs():
    model = ResNet2Plus1d(frozen_stages=1, **R2PLUS1D).train()
    assert not model.conv1.conv.conv_s.weight.requires_grad
    assert not model.conv1.conv.bn_s.training
    assert not model.layer1[1].conv2.conv.conv_t.weight.requires_grad
    assert model.layer2[0].conv1.conv.conv_s.weight.requires_grad
    assert model.layer2[0].conv1.conv.bn_s.training


def test_pretrained_round_trip(tmp_path):
    torch.manual_seed(0)
    source = ResNet2Plus1d(**R2PLUS1D)
    source.init_weights()
    state = {f'backbone.{k}': v for k, v in source.state_dict().items()}
    path = tmp_path / 'r2plus1d.pth'
    torch.save({'state_dict': state}, path)
    model = ResNet2Plus1d(**dict(R2PLUS1D, pretrained=str(path)))
    model.init_weights()
    for key, value in source.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key
    del state['backbone.layer3.0.conv1.conv.bn_s.weight']
    torch.save({'state_dict': state}, path)
    with pytest.raises(CheckpointMismatchError, match=r'layer3\.0\.conv1\.conv\.bn_s\.weight'):
        ResNet2Plus1d(**dict(R2PLUS1D, pretrained=str(path))).init_weights()
