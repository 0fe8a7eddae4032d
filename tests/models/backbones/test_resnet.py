import logging

import pytest
import torch
import torchvision
from mmcv.cnn import ConvModule
from mmengine.logging import MMLogger
from torch.nn.modules.batchnorm import _BatchNorm

from mmaction_ft.engine import CheckpointMismatchError
from mmaction_ft.models.backbones import ResNet
from mmaction_ft.models.backbones.resnet import (
    BasicBlock,
    Bottleneck,
    _torchvision_to_ours,
    add_identity,
)
from mmaction_ft.models.backbones.resnet3d_blocks import BasicBlock3d, Bottleneck3d


class _Records(logging.Handler):
    def __init__(self):
        super().__init__()
        self.messages = []

    def emit(self, record):
        self.messages.append(record.getMessage())


@pytest.fixture
def log_messages():
    logger = MMLogger.get_current_instance()
    handler = _Records()
    logger.addHandler(handler)
    yield handler.messages
    logger.removeHandler(handler)


def _bns(module):
    return [m for m in module.modules() if isinstance(m, _BatchNorm)]


@pytest.mark.parametrize(
    'depth, stage_blocks, feat_dim', [(18, (2, 2, 2, 2), 512), (50, (3, 4, 6, 3), 2048)]
)
def test_resnet_structure_and_output_shape(depth, stage_blocks, feat_dim):
    model = ResNet(depth)
    model.init_weights()
    for i, num_blocks in enumerate(stage_blocks):
        assert len(getattr(model, f'layer{i + 1}')) == num_blocks
    assert model.feat_dim == feat_dim
    out = model(torch.randn(1, 3, 64, 64))
    assert out.shape == (1, feat_dim, 2, 2)  # stride 32


def test_resnet50_keys_follow_mmaction2_layout():
    keys = set(ResNet(50).state_dict())
    assert len(keys) == 318  # + cls_head.fc_cls.{weight,bias} = the 320 of a TSN checkpoint
    for key in [
        'conv1.conv.weight',
        'conv1.bn.running_var',
        'layer1.0.conv3.conv.weight',
        'layer3.5.conv2.bn.num_batches_tracked',
        'layer4.0.downsample.conv.weight',
        'layer4.0.downsample.bn.bias',
    ]:
        assert key in keys
    assert {k.split('.')[1] for k in keys if 'downsample' in k} == {'0'}  # first block only
    model = ResNet(50)
    # pytorch style: the stride of a stage sits on the 3x3 conv of its first bottleneck.
    assert model.layer2[0].conv1.conv.stride == (1, 1)
    assert model.layer2[0].conv2.conv.stride == (2, 2)
    assert not model.layer2[0].conv3.with_activation  # ReLU comes after the residual add
    caffe = ResNet(50, style='caffe')
    assert caffe.layer2[0].conv1.conv.stride == (2, 2)


def test_resnet18_keys_follow_mmaction2_layout():
    keys = set(ResNet(18).state_dict())
    assert 'layer1.0.conv2.bn.weight' in keys
    assert 'layer2.0.downsample.conv.weight' in keys
    assert 'layer1.0.downsample.conv.weight' not in keys  # 64 -> 64, stride 1: no projection
    assert 'layer1.0.conv3.conv.weight' not in keys


def test_out_indices_tuple_and_validation():
    model = ResNet(18, out_indices=(0, 1, 2, 3))
    outs = model(torch.randn(1, 3, 64, 64))
    assert [o.shape[1] for o in outs] == [64, 128, 256, 512]
    assert [o.shape[-1] for o in outs] == [16, 8, 4, 2]
    with pytest.raises(KeyError, match='depth'):
        ResNet(20)
    with pytest.raises(ValueError, match='out_indices'):
        ResNet(18, out_indices=(4,))


def test_torchvision_weights_land_on_mapped_keys(tmp_path, log_messages):
    torch.manual_seed(0)
    tv = torchvision.models.resnet50(weights=None)
    path = tmp_path / 'resnet50_tv.pth'
    torch.save(tv.state_dict(), path)

    model = ResNet(50, pretrained=str(path))
    model.init_weights()
    ours = model.state_dict()
    tv_sd = tv.state_dict()
    for tv_key, tensor in tv_sd.items():
        if tv_key.startswith('fc.'):
            continue
        assert torch.equal(ours[_torchvision_to_ours(tv_key)], tensor), tv_key
    assert torch.equal(ours['layer1.0.conv2.bn.running_mean'], tv_sd['layer1.0.bn2.running_mean'])
    assert torch.equal(ours['layer3.0.downsample.bn.weight'], tv_sd['layer3.0.downsample.1.weight'])
    # One report format with load_from: each unused file tensor, then the count.
    unused = [m for m in log_messages if 'not used' in m]
    assert unused == [
        'skipped fc.weight: in the checkpoint but not in the model (not used)',
        'skipped fc.bias: in the checkpoint but not in the model (not used)',
    ]
    assert f'ResNet: loaded {len(ours)}/{len(ours)} tensors from {path}' in log_messages


def test_torchvision_key_mapping():
    assert _torchvision_to_ours('conv1.weight') == 'conv1.conv.weight'
    assert _torchvision_to_ours('bn1.running_var') == 'conv1.bn.running_var'
    assert _torchvision_to_ours('layer2.3.conv3.weight') == 'layer2.3.conv3.conv.weight'
    assert _torchvision_to_ours('layer2.3.bn3.bias') == 'layer2.3.conv3.bn.bias'
    assert _torchvision_to_ours('layer4.0.downsample.0.weight') == 'layer4.0.downsample.conv.weight'
    assert _torchvision_to_ours('layer4.0.downsample.1.weight') == 'layer4.0.downsample.bn.weight'
    assert _torchvision_to_ours('fc.weight') == 'fc.weight'


def test_missing_source_key_is_an_error_naming_it(tmp_path):
    state_dict = torchvision.models.resnet18(weights=None).state_dict()
    del state_dict['layer2.1.bn1.weight']
    path = tmp_path / 'broken.pth'
    torch.save(state_dict, path)
    model = ResNet(18, pretrained=str(path))
    with pytest.raises(CheckpointMismatchError, match=r'layer2\.1\.bn1\.weight') as err:
        model.init_weights()
    assert 'missing from checkpoint layer2.1.bn1.weight (for layer2.1.conv1.bn.weight)' in str(
        err.value
    )
    assert str(err.value).count('missing from checkpoint') == 1


def test_shape_mismatch_is_an_error(tmp_path):
    state_dict = torchvision.models.resnet18(weights=None).state_dict()
    path = tmp_path / 'tv18.pth'
    torch.save(state_dict, path)
    model = ResNet(18, pretrained=str(path), in_channels=2)
    with pytest.raises(
        CheckpointMismatchError,
        match=r'shape mismatch conv1\.conv\.weight: checkpoint \[64, 3, 7, 7\]',
    ):
        model.init_weights()


def test_mmaction_layout_pretrained_with_backbone_prefix(tmp_path, log_messages):
    torch.manual_seed(1)
    source = ResNet(18)
    source.init_weights()
    checkpoint = {'state_dict': {f'backbone.{k}': v for k, v in source.state_dict().items()}}
    checkpoint['state_dict']['cls_head.fc_cls.weight'] = torch.zeros(5, 512)
    path = tmp_path / 'tsn_r18.pth'
    torch.save(checkpoint, path)

    model = ResNet(18, pretrained=str(path), torchvision_pretrain=False)
    model.init_weights()
    for key, value in source.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key
    assert any('cls_head.fc_cls.weight' in m and 'not used' in m for m in log_messages)

    wrong = ResNet(18, pretrained=str(path), torchvision_pretrain=True)
    with pytest.raises(CheckpointMismatchError, match='torchvision_pretrain=False'):
        wrong.init_weights()


def test_frozen_stages_survive_train():
    model = ResNet(18, frozen_stages=1)
    model.train()
    for module in (model.conv1, model.layer1):
        assert all(not p.requires_grad for p in module.parameters())
        assert all(not bn.training for bn in _bns(module))
    for module in (model.layer2, model.layer4):
        assert all(p.requires_grad for p in module.parameters())
        assert all(bn.training for bn in _bns(module))
    model.eval()
    model.train()
    assert not model.layer1[0].conv1.bn.training


def test_frozen_stem_only():
    model = ResNet(18, frozen_stages=0).train()
    assert not model.conv1.conv.weight.requires_grad
    assert model.layer1[0].conv1.conv.weight.requires_grad


def test_norm_eval_keeps_all_bn_in_eval_but_trainable():
    model = ResNet(18, norm_eval=True).train()
    assert all(not bn.training for bn in _bns(model))
    assert all(p.requires_grad for p in model.parameters())
    before = model.conv1.bn.running_mean.clone()
    model(torch.randn(2, 3, 32, 32))
    assert torch.equal(model.conv1.bn.running_mean, before)


def test_partial_bn_freezes_all_bn_but_the_first():
    model = ResNet(18, partial_bn=True).train()
    bns = _bns(model)
    assert bns[0] is model.conv1.bn
    assert bns[0].training and bns[0].weight.requires_grad
    for bn in bns[1:]:
        assert not bn.training
        assert not bn.weight.requires_grad and not bn.bias.requires_grad
    assert model.layer1[0].conv1.conv.weight.requires_grad


def test_with_cp_gives_the_same_output_and_gradients():
    torch.manual_seed(0)
    plain = ResNet(18, num_stages=2, out_indices=(1,)).train()
    checkpointed = ResNet(18, num_stages=2, out_indices=(1,), with_cp=True).train()
    checkpointed.load_state_dict(plain.state_dict())
    x = torch.randn(2, 3, 32, 32, requires_grad=True)
    out_plain = plain(x)
    out_cp = checkpointed(x)
    assert torch.allclose(out_plain, out_cp)
    out_plain.sum().backward()
    out_cp.sum().backward()
    assert torch.allclose(
        plain.layer2[0].conv1.conv.weight.grad,
        checkpointed.layer2[0].conv1.conv.weight.grad,
        atol=1e-5,
    )


def test_add_identity_adds_in_place_only_for_one_dtype():
    out, identity = torch.ones(2, 3), torch.full((2, 3), 2.0)
    assert add_identity(out, identity) is out
    assert torch.equal(out, torch.full((2, 3), 3.0))
    low = torch.ones(2, 3, dtype=torch.bfloat16)
    mixed = add_identity(low, identity)  # as `+`: float32, and the bfloat16 input untouched
    assert mixed.dtype == torch.float32 and torch.equal(mixed, torch.full((2, 3), 3.0))
    assert torch.equal(low, torch.ones(2, 3, dtype=torch.bfloat16))


def _projection(inplanes, outplanes, stride, dims=2):
    suffix, strides = ('', stride) if dims == 2 else ('3d', (1, stride, stride))
    conv, norm = dict(type=f'Conv{suffix}'), dict(type=f'BN{suffix}')
    return ConvModule(
        inplanes, outplanes, 1, strides, bias=False, conv_cfg=conv, norm_cfg=norm, act_cfg=None
    )


@pytest.mark.parametrize(
    'block, size',
    [
        (lambda: BasicBlock(8, 16, stride=2, downsample=_projection(8, 16, 2)), (8, 8)),
        (lambda: Bottleneck(16, 4), (8, 8)),
        (lambda: Bottleneck(8, 4, stride=2, downsample=_projection(8, 16, 2)), (8, 8)),
        (lambda: BasicBlock3d(8, 16, 2, downsample=_projection(8, 16, 2, dims=3)), (4, 8, 8)),
        (lambda: Bottleneck3d(16, 4), (4, 8, 8)),
        (lambda: Bottleneck3d(8, 4, 2, downsample=_projection(8, 16, 2, dims=3)), (4, 8, 8)),
    ],
)
def test_residual_add_in_place_keeps_output_and_gradients(
    block, size, residual_block_check, resnet_branch
):
    # The sum overwrites the branch's last norm output (add_identity, also in the 3D blocks);
    # the block must still compute relu(branch(x) + identity(x)) and the same gradients.
    torch.manual_seed(0)
    block = block().train()
    x = torch.randn(2, block.conv1.conv.in_channels, *size, requires_grad=True)
    residual_block_check(block, x, resnet_branch(block))


@pytest.mark.parametrize('pretrained', [True, False, 0, 1.0, dict(path='x.pth')])
def test_pretrained_that_is_not_a_string_is_a_type_error(pretrained):
    # MMAction2's unit tests expect a TypeError for ResNet(50, pretrained=0); True used to fail
    # later with an AttributeError, 0 used to be ignored.
    with pytest.raises(TypeError, match=r'pretrained must be a path, URL .* or None'):
        ResNet(18, pretrained=pretrained)


def test_init_weights_without_pretrained_is_kaiming_and_unit_bn():
    model = ResNet(18)
    with torch.no_grad():
        model.conv1.bn.weight.fill_(3.0)
    model.init_weights()
    assert torch.all(model.conv1.bn.weight == 1) and torch.all(model.conv1.bn.bias == 0)
    # kaiming normal, fan_out, relu: std = sqrt(2 / (64 * 7 * 7))
    std = model.conv1.conv.weight.std().item()
    assert abs(std - (2 / (64 * 49)) ** 0.5) < 0.01


def test_torchvision_file_without_bn_step_counters_loads(tmp_path, log_messages):
    # torchvision's first ResNet weights predate BatchNorm's num_batches_tracked.
    state_dict = torchvision.models.resnet18(weights=None).state_dict()
    state_dict = {k: v for k, v in state_dict.items() if not k.endswith('num_batches_tracked')}
    torch.save(state_dict, tmp_path / 'old_tv18.pth')
    model = ResNet(18, pretrained=str(tmp_path / 'old_tv18.pth'))
    model.init_weights()
    assert torch.equal(model.state_dict()['conv1.conv.weight'], state_dict['conv1.weight'])
    assert any('20 BN step counters not in the file kept' in m for m in log_messages)
