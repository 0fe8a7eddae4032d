import pytest
import torch
import torch.nn as nn
from mmcv.cnn import Swish
from torch.nn.modules.batchnorm import _BatchNorm

from mmaction_ft.engine.weight_loading import CheckpointMismatchError
from mmaction_ft.models.backbones import X3D
from mmaction_ft.models.backbones.x3d import BlockX3D

SMALL = dict(gamma_b=2.25, gamma_d=1.0)  # X3D-M's widths at the base depth (1, 2, 5, 3)


def test_x3d_m_structure_keys_and_output_shape():
    model = X3D(gamma_w=1, gamma_b=2.25, gamma_d=2.2)  # X3D-M
    assert model.stage_blocks == [3, 5, 11, 7]  # ceil(2.2 * (1, 2, 5, 3))
    assert model.feat_dim == 432  # 24 * 8 * 2.25
    sd = model.state_dict()
    assert len(sd) == 565
    assert sd['conv1_s.conv.weight'].shape == (24, 3, 1, 3, 3)
    assert sd['conv1_t.conv.weight'].shape == (24, 1, 5, 1, 1)  # channel-wise in time
    assert 'conv1_s.bn.weight' not in sd  # BN only after the temporal half of the stem
    assert sd['layer1.0.conv2.conv.weight'].shape == (54, 1, 3, 3, 3)  # depthwise, 24 * 2.25
    assert sd['layer1.0.se_module.fc1.weight'].shape == (8, 54, 1, 1, 1)  # round(54 / 16) -> 8
    assert 'layer1.1.se_module.fc1.weight' not in sd  # se_style='half': blocks 0, 2, 4 ...
    assert 'layer1.2.se_module.fc2.bias' in sd
    assert 'layer4.0.downsample.bn.running_var' in sd
    assert sd['conv5.conv.weight'].shape == (432, 192, 1, 1, 1)
    out = model(torch.randn(1, 3, 4, 32, 32))
    assert out.shape == (1, 432, 4, 1, 1)  # time kept, space / 32


def test_se_style_ratio_and_swish_options():
    keys = set(X3D(se_style='all', **SMALL).state_dict())
    assert 'layer2.1.se_module.fc1.weight' in keys
    model = X3D(se_ratio=None, **SMALL)
    assert not any('se_module' in k for k in model.state_dict())
    assert isinstance(model.layer1[0].swish, Swish)
    relu = X3D(use_swish=False, **SMALL)
    assert isinstance(relu.layer1[0].swish, nn.ReLU)


def test_widths_follow_gamma_w():
    model = X3D(gamma_w=2, gamma_b=2.25, gamma_d=1, num_stages=2, spatial_strides=(2, 2))
    assert model.conv1_s.conv.out_channels == 48
    assert model.layer2[0].conv3.conv.out_channels == 96
    assert model.feat_dim == int(96 * 2.25)
    assert model(torch.randn(1, 3, 2, 16, 16)).shape == (1, 216, 2, 2, 2)


def test_init_weights_zero_inits_the_residual_branches():
    model = X3D(**SMALL)
    model.init_weights()
    for block in model.layer2:
        assert torch.all(block.conv3.bn.weight == 0)
    assert torch.all(model.conv5.bn.weight == 1)
    model = X3D(zero_init_residual=False, **SMALL)
    model.init_weights()
    assert torch.all(model.layer2[0].conv3.bn.weight == 1)


def test_frozen_stages_and_norm_eval():
    model = X3D(frozen_stages=1, **SMALL).train()
    for module in (model.conv1_s, model.conv1_t, model.layer1):
        assert all(not p.requires_grad for p in module.parameters())
    assert not model.layer1[0].conv1.bn.training
    assert model.layer2[0].conv1.bn.training and model.layer2[0].conv1.conv.weight.requires_grad
    model = X3D(norm_eval=True, **SMALL).train()
    assert all(not m.training for m in model.modules() if isinstance(m, _BatchNorm))
    assert all(p.requires_grad for p in model.parameters())


def test_argument_validation():
    with pytest.raises(ValueError, match="se_style must be 'all' or 'half'"):
        X3D(se_style='quarter')
    with pytest.raises(ValueError, match='one spatial stride per stage'):
        X3D(num_stages=3)
    with pytest.raises(ValueError, match='gamma_d must be positive'):
        X3D(gamma_d=0)
    with pytest.raises(ValueError, match='se_ratio'):
        X3D(se_ratio=0)
    with pytest.raises(ValueError, match='frozen_stages'):
        X3D(frozen_stages=5)


def test_pretrained_loads_every_tensor_or_names_the_missing_one(tmp_path):
    torch.manual_seed(0)
    source = X3D(**SMALL)
    source.init_weights()
    with torch.no_grad():
        source.layer3[1].conv2.bn.running_mean.normal_()
    state = {f'backbone.{k}': v for k, v in source.state_dict().items()}
    path = tmp_path / 'x3d.pth'
    torch.save({'state_dict': state}, path)
    model = X3D(pretrained=str(path), **SMALL)
    model.init_weights()
    for key, value in source.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key

    del state['backbone.layer2.0.se_module.fc1.bias']
    torch.save({'state_dict': state}, path)
    with pytest.raises(CheckpointMismatchError, match=r'layer2\.0\.se_module\.fc1\.bias'):
        X3D(pretrained=str(path), **SMALL).init_weights()


@pytest.mark.parametrize('se_ratio', [None, 1 / 16])
def test_block_residual_add_in_place_keeps_output_and_gradients(se_ratio, residual_block_check):
    # The sum overwrites conv3's norm output (resnet.add_identity).
    torch.manual_seed(0)
    block = BlockX3D(8, 16, 8, se_ratio=se_ratio).train()

    def branch(x):
        out = block.conv2(block.conv1(x))
        if block.se_module is not None:
            out = block.se_module(out)
        return block.conv3(block.swish(out))

    residual_block_check(block, torch.randn(2, 8, 4, 6, 6, requires_grad=True), branch)
