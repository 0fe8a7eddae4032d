import pytest
import torch
from torch.nn.modules.batchnorm import _BatchNorm

from mmaction_ft.engine.weight_loading import CheckpointMismatchError
from mmaction_ft.models.backbones import ResNet3dCSN

# MMAction2's ircsn_r152 backbone settings, at depth 50 to stay small.
IR_CSN = dict(
    depth=50,
    pretrained=None,
    pretrained2d=False,
    with_pool2=False,
    bottleneck_mode='ir',
    norm_eval=False,
    zero_init_residual=False,
)


def _bns(module):
    return [m for m in module.modules() if isinstance(m, _BatchNorm)]


def test_ir_csn_depthwise_middle_conv_and_output_shape():
    model = ResNet3dCSN(**IR_CSN).eval()
    sd = model.state_dict()
    assert sd['layer1.0.conv2.0.conv.weight'].shape == (64, 1, 3, 3, 3)  # depthwise 3x3x3
    assert 'layer1.0.conv2.0.bn.running_var' in sd
    assert 'layer1.0.conv2.1.conv.weight' not in sd
    assert sd['layer1.0.conv1.conv.weight'].shape == (64, 64, 1, 1, 1)
    assert sd['layer3.5.conv3.conv.weight'].shape == (1024, 256, 1, 1, 1)
    assert model.layer2[0].conv2[0].conv.stride == (2, 2, 2)  # temporal_strides (1, 2, 2, 2)
    assert model.layer2[0].conv2[0].with_activation
    assert model.conv1.bn.eps == 1e-3  # default norm_cfg of CSN
    # T: 4 -> 4 -> 4 (no pool2) -> 2 -> 1 -> 1; space: 16 -> 4 -> 4 -> 2 -> 1 -> 1
    assert model(torch.randn(1, 3, 4, 16, 16)).shape == (1, 2048, 1, 1, 1)


def test_ip_csn_adds_a_pointwise_conv_first():
    model = ResNet3dCSN(**dict(IR_CSN, bottleneck_mode='ip')).eval()
    sd = model.state_dict()
    assert sd['layer1.0.conv2.0.conv.weight'].shape == (64, 64, 1, 1, 1)
    assert not model.layer1[0].conv2[0].with_activation
    assert sd['layer1.0.conv2.1.conv.weight'].shape == (64, 1, 3, 3, 3)
    assert model.layer4[0].conv2[1].conv.groups == 512
    assert model(torch.randn(1, 3, 4, 16, 16)).shape == (1, 2048, 1, 1, 1)


def test_bn_frozen_needs_norm_eval():
    model = ResNet3dCSN(**dict(IR_CSN, norm_eval=True, bn_frozen=True)).train()
    assert all(not bn.training for bn in _bns(model))
    assert all(not p.requires_grad for bn in _bns(model) for p in bn.parameters())
    assert model.layer2[0].conv2[0].conv.weight.requires_grad
    only_frozen = ResNet3dCSN(**dict(IR_CSN, bn_frozen=True)).train()  # no norm_eval: no effect
    assert all(bn.training and bn.weight.requires_grad for bn in _bns(only_frozen))


def test_frozen_stages():
    model = ResNet3dCSN(**dict(IR_CSN, frozen_stages=2)).train()
    assert not model.layer2[3].conv2[0].conv.weight.requires_grad
    assert not model.layer2[3].conv2[0].bn.training
    assert model.layer3[0].conv2[0].conv.weight.requires_grad


def test_argument_validation():
    with pytest.raises(ValueError, match="bottleneck_mode must be one of \\('ip', 'ir'\\)"):
        ResNet3dCSN(**dict(IR_CSN, bottleneck_mode='ic'))
    with pytest.raises(KeyError, match='depth must be one of \\[50, 101, 152\\]'):
        ResNet3dCSN(**dict(IR_CSN, depth=18))


def test_pretrained_round_trip(tmp_path):
    torch.manual_seed(0)
    source = ResNet3dCSN(**IR_CSN)
    source.init_weights()
    state = {f'backbone.{k}': v for k, v in source.state_dict().items()}
    path = tmp_path / 'ircsn.pth'
    torch.save({'state_dict': state}, path)
    model = ResNet3dCSN(**dict(IR_CSN, pretrained=str(path)))
    model.init_weights()
    for key, value in source.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key
    # ir weights do not fit ip-CSN: every pointwise conv is reported, nothing is skipped.
    ip = ResNet3dCSN(**dict(IR_CSN, pretrained=str(path), bottleneck_mode='ip'))
    with pytest.raises(CheckpointMismatchError, match=r'layer1\.0\.conv2\.0\.conv\.weight'):
        ip.init_weights()
