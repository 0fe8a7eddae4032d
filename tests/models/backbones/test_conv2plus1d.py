import torch
from mmcv.cnn import ConvModule, build_conv_layer
from mmengine.registry import DefaultScope

from mmaction_ft.models.backbones import Conv2plus1d, ResNet3d


def test_factorised_shapes_and_middle_width():
    conv = Conv2plus1d(3, 64, (3, 7, 7), stride=(1, 2, 2), padding=(1, 3, 3), bias=False)
    # M = floor(3 * 49 * 3 * 64 / (49 * 3 + 3 * 64)) = floor(28224 / 339) = 83
    assert conv.conv_s.weight.shape == (83, 3, 1, 7, 7)
    assert conv.conv_t.weight.shape == (64, 83, 3, 1, 1)
    assert conv.conv_s.bias is None and conv.conv_t.bias is None
    assert conv.conv_s.stride == (1, 2, 2) and conv.conv_t.stride == (1, 1, 1)
    out = conv(torch.randn(1, 3, 4, 16, 16))
    assert out.shape == (1, 64, 4, 8, 8)


def test_pointwise_projection_keeps_the_factor_3():
    # 1x1x1 (a ResNet downsample): M = floor(3 * 64 * 128 / (64 + 3 * 128)) = 54, as MMAction2.
    conv = Conv2plus1d(64, 128, 1, stride=(2, 2, 2))
    assert conv.conv_s.out_channels == 54
    assert conv.conv_t.kernel_size == (1, 1, 1) and conv.conv_t.stride == (2, 1, 1)
    assert conv(torch.randn(1, 64, 4, 8, 8)).shape == (1, 128, 2, 4, 4)


def test_builds_by_name_in_the_default_scope():
    with DefaultScope.overwrite_default_scope('mmaction_ft'):
        conv = build_conv_layer(dict(type='Conv2plus1d'), 4, 8, 3, padding=1)
        module = ConvModule(4, 8, 3, padding=1, conv_cfg=dict(type='Conv2plus1d'))
        resnet = ResNet3d(
            depth=18,
            num_stages=1,
            out_indices=(0,),
            spatial_strides=(1,),
            temporal_strides=(1,),
            dilations=(1,),
            conv_cfg=dict(type='Conv2plus1d'),
        )
    assert isinstance(conv, Conv2plus1d)
    assert isinstance(module.conv, Conv2plus1d)
    assert isinstance(resnet.layer1[0].conv1.conv, Conv2plus1d)
    assert 'conv1.conv.bn_s.running_mean' in resnet.state_dict()


def test_init_is_kaiming_and_unit_bn():
    conv = Conv2plus1d(16, 16, 3, padding=1)
    assert torch.all(conv.bn_s.weight == 1) and torch.all(conv.bn_s.bias == 0)
    assert torch.all(conv.conv_s.bias == 0)
    # kaiming normal, fan_out, relu: std = sqrt(2 / (M * 9))
    mid = conv.conv_s.out_channels
    assert abs(conv.conv_s.weight.std().item() - (2 / (mid * 9)) ** 0.5) < 0.02
