import logging

import pytest
import torch
import torchvision
from mmengine.logging import MMLogger
from torch.nn.modules.batchnorm import _BatchNorm

from mmaction_ft.engine import CheckpointMismatchError
from mmaction_ft.models.backbones import ResNet, ResNet3d
from mmaction_ft.models.backbones.non_local import NonLocal3d
from mmaction_ft.models.backbones.resnet3d import inflate_2d_state_dict
from mmaction_ft.registry import MODELS

# The backbone of MMAction2's i3d_imagenet-pretrained-r50_8xb8-32x2x1-100e_kinetics400-rgb.py.
I3D_R50 = dict(
    type='ResNet3d',
    pretrained2d=True,
    pretrained=None,
    depth=50,
    conv1_kernel=(5, 7, 7),
    conv1_stride_t=2,
    pool1_stride_t=2,
    conv_cfg=dict(type='Conv3d'),
    norm_eval=False,
    inflate=((1, 1, 1), (1, 0, 1, 0), (1, 0, 1, 0, 1, 0), (0, 1, 0)),
    zero_init_residual=False,
)
# ... and the non-local part of its -nl-embedded-gaussian variant.
NON_LOCAL = dict(
    non_local=((0, 0, 0), (0, 1, 0, 1), (0, 1, 0, 1, 0, 1), (0, 0, 0)),
    non_local_cfg=dict(
        sub_sample=True,
        use_scale=False,
        norm_cfg=dict(type='BN3d', requires_grad=True),
        mode='embedded_gaussian',
    ),
)


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


def _randomise(module, seed=0):
    """Random weights and BN statistics, so that copied tensors can be told apart."""
    torch.manual_seed(seed)
    with torch.no_grad():
        for key, value in module.state_dict().items():
            if 'running_var' in key:
                value.copy_(torch.rand_like(value) + 0.5)
            elif value.dtype.is_floating_point:
                value.copy_(torch.randn_like(value) * 0.1)
    return module


def test_i3d_r50_shapes_and_mmaction2_key_layout():
    model = MODELS.build(dict(I3D_R50, **NON_LOCAL))
    model.init_weights()
    state = model.state_dict()
    assert len(state) == 378  # MMAction2's I3D-NL r50 backbone: 318 + 10 blocks x 6 tensors
    expected_shapes = {
        'conv1.conv.weight': (64, 3, 5, 7, 7),
        'layer1.0.conv1.conv.weight': (64, 64, 3, 1, 1),  # inflated, '3x1x1'
        'layer1.0.conv2.conv.weight': (64, 64, 1, 3, 3),
        'layer2.1.conv1.conv.weight': (128, 512, 1, 1, 1),  # inflate 0 in this block
        'layer4.0.downsample.conv.weight': (2048, 1024, 1, 1, 1),
        'layer3.5.conv3.bn.running_var': (1024,),
        'layer2.1.non_local_block.g.0.conv.weight': (256, 512, 1, 1, 1),
        'layer2.1.non_local_block.theta.conv.bias': (256,),
        'layer2.1.non_local_block.phi.0.conv.weight': (256, 512, 1, 1, 1),
        'layer2.1.non_local_block.conv_out.bn.weight': (512,),
    }
    for key, shape in expected_shapes.items():
        assert tuple(state[key].shape) == shape, key
    assert 'layer2.0.non_local_block.g.0.conv.weight' not in state
    assert 'layer2.1.non_local_block.conv_out.conv.bias' not in state  # BN follows: no bias
    # T: 8 -conv1 stride 2-> 4 -pool1 stride 2-> 2 -pool2-> 1; H: 64 / 32 = 2.
    out = model(torch.randn(1, 3, 8, 64, 64))
    assert out.shape == (1, 2048, 1, 2, 2)
    assert model.feat_dim == 2048


def test_resnet3d18_stage_shapes():
    model = ResNet3d(18, pretrained2d=False, out_indices=(0, 1, 2, 3))
    model.init_weights()
    outs = model(torch.randn(1, 3, 8, 32, 32))
    # pool2 halves T after stage 1 (before its output is taken, as in MMAction2); spatial
    # strides 2 from stage 2 on.
    assert [tuple(o.shape) for o in outs] == [
        (1, 64, 4, 8, 8),
        (1, 128, 4, 4, 4),
        (1, 256, 4, 2, 2),
        (1, 512, 4, 1, 1),
    ]
    assert 'layer1.0.downsample.conv.weight' not in model.state_dict()
    assert model.layer1[0].conv1.conv.weight.shape == (64, 64, 3, 3, 3)


def test_inflate_style_3x3x3_and_caffe_style():
    model = ResNet3d(50, inflate_style='3x3x3', style='caffe', num_stages=2, out_indices=(1,))
    block = model.layer2[0]
    assert block.conv1.conv.weight.shape[2:] == (1, 1, 1)
    assert block.conv2.conv.weight.shape[2:] == (3, 3, 3)
    assert block.conv1.conv.stride == (1, 2, 2)  # caffe: stride on the first conv
    assert block.conv2.conv.stride == (1, 1, 1)
    assert model(torch.randn(1, 3, 4, 32, 32)).shape == (1, 512, 2, 4, 4)


def test_zero_init_residual_from_scratch():
    model = ResNet3d(18, pretrained2d=False, num_stages=1, out_indices=(0,))
    model.init_weights()
    assert torch.count_nonzero(model.layer1[0].conv2.bn.weight) == 0
    assert torch.all(model.layer1[0].conv1.bn.weight == 1)
    plain = ResNet3d(18, num_stages=1, out_indices=(0,), zero_init_residual=False)
    plain.init_weights()
    assert torch.all(plain.layer1[0].conv2.bn.weight == 1)


@pytest.mark.parametrize(
    'kwargs, error, match',
    [
        (dict(depth=20), KeyError, 'depth must be one of'),
        (dict(depth=18, num_stages=5), ValueError, 'num_stages must be 1 to 4'),
        (dict(depth=18, out_indices=(4,)), ValueError, 'out_indices'),
        (dict(depth=18, spatial_strides=(1, 2)), ValueError, 'spatial_strides needs one entry'),
        (dict(depth=18, inflate_style='3x3x1'), ValueError, 'inflate_style'),
        (dict(depth=18, style='tf'), ValueError, 'style'),
        (dict(depth=18, frozen_stages=5), ValueError, 'frozen_stages'),
        (dict(depth=18, pretrained=3), TypeError, 'pretrained'),
        (dict(depth=18, inflate=((1, 1, 1), 1, 1, 1)), ValueError, r'inflate\[0\].*2 blocks'),
        (dict(depth=18, inflate=(1, 1)), ValueError, 'inflate needs one entry per stage'),
        (dict(depth=18, stage_blocks=(2, 2)), ValueError, 'stage_blocks'),
        (
            dict(depth=18, non_local=(0, 1, 0, 0), non_local_cfg=dict(mode='concat')),
            ValueError,
            'NonLocal3d mode',
        ),
    ],
)
def test_argument_validation(kwargs, error, match):
    with pytest.raises(error, match=match):
        ResNet3d(**kwargs)


def test_frozen_stages_survive_train():
    model = ResNet3d(18, frozen_stages=1)
    model.train()
    for module in (model.conv1, model.layer1):
        assert all(not p.requires_grad for p in module.parameters())
        assert all(not m.training for m in module.modules() if isinstance(m, _BatchNorm))
    assert all(p.requires_grad for p in model.layer2.parameters())
    assert model.layer2[0].conv1.bn.training


def test_norm_eval_keeps_bn_in_eval_but_trainable():
    model = ResNet3d(18, norm_eval=True)
    model.train()
    bns = [m for m in model.modules() if isinstance(m, _BatchNorm)]
    assert bns and all(not m.training for m in bns)
    assert all(p.requires_grad for p in model.parameters())
    assert model.layer1.training  # only the BNs are switched


@pytest.mark.parametrize('mode', ['embedded_gaussian', 'gaussian', 'dot_product'])
def test_non_local_starts_as_identity_then_mixes_positions(mode):
    torch.manual_seed(0)
    block = NonLocal3d(8, sub_sample=True, mode=mode, norm_cfg=dict(type='BN3d'))
    x = torch.randn(2, 8, 2, 4, 4)
    assert torch.equal(block.eval()(x), x)  # zero-initialised output BN (paper, sec. 4.1)
    torch.nn.init.normal_(block.conv_out.bn.weight)
    y = block(x)
    assert y.shape == x.shape
    # A change at one position reaches every other position through the affinities.
    x2 = x.clone()
    x2[:, :, 0, 0, 0] += 10  # large enough to win the sub-sampling max-pool of its window
    assert not torch.allclose(block(x2)[:, :, 1, 3, 3], y[:, :, 1, 3, 3])


def _save_2d_resnet18(tmp_path, layout):
    if layout == 'torchvision':
        model2d = _randomise(torchvision.models.resnet18(weights=None)).eval()
        torch.save(model2d.state_dict(), tmp_path / 'r18.pth')
        reference = ResNet(18, pretrained=str(tmp_path / 'r18.pth'))
        reference.init_weights()
    else:  # ours / MMAction2's, as in a whole TSN checkpoint
        reference = _randomise(ResNet(18))
        state = {f'backbone.{k}': v for k, v in reference.state_dict().items()}
        torch.save({'state_dict': state}, tmp_path / 'r18.pth')
    return str(tmp_path / 'r18.pth'), reference.eval()


@pytest.mark.parametrize('layout', ['torchvision', 'mmaction'])
def test_inflated_i3d_on_a_still_clip_equals_the_2d_resnet(tmp_path, layout):
    path, resnet2d = _save_2d_resnet18(tmp_path, layout)
    # Temporal kernels of 3 (stem and the 8 convs of stages 1-2), no temporal stride or pool2:
    # frame t of the output only sees input frames t-9..t+9. On a clip of identical frames,
    # a kernel repeated kt times and divided by kt sums back to the 2D kernel, so every frame
    # whose window avoids the zero temporal padding (only the middle one for T = 19) equals
    # the 2D ResNet on that frame, up to float summation order.
    model = ResNet3d(
        18,
        pretrained=path,
        conv1_kernel=(3, 7, 7),
        with_pool2=False,
        inflate=(1, 1, 0, 0),
        zero_init_residual=False,
    )
    model.init_weights()
    model.eval()
    frame = torch.randn(1, 3, 32, 32)
    clip = frame.unsqueeze(2).expand(-1, -1, 19, -1, -1)  # [1, 3, 19, 32, 32]
    with torch.no_grad():
        out3d = model(clip)  # [1, 512, 19, 1, 1]
        out2d = resnet2d(frame)  # [1, 512, 1, 1]
    torch.testing.assert_close(out3d[:, :, 9], out2d, rtol=1e-4, atol=1e-5)
    # The edge frames see the padding: the equality above is not a property of every frame.
    centre_error = (out3d[:, :, 9] - out2d).abs().max()
    assert (out3d[:, :, 0] - out2d).abs().max() > 100 * centre_error
    w2d = resnet2d.conv1.conv.weight
    torch.testing.assert_close(
        model.conv1.conv.weight, w2d.unsqueeze(2).expand_as(model.conv1.conv.weight) / 3
    )
    assert torch.equal(
        model.layer2[0].conv1.bn.running_var, resnet2d.layer2[0].conv1.bn.running_var
    )


def test_inflate_2d_state_dict_is_pure_and_keeps_non_local_init(tmp_path, log_messages):
    source = _randomise(torchvision.models.resnet18(weights=None)).state_dict()
    before = {k: v.clone() for k, v in source.items()}
    model = ResNet3d(18, non_local=(0, (0, 1), 0, 0))
    converted = inflate_2d_state_dict(source, model)
    assert source.keys() == before.keys()
    assert all(torch.equal(source[k], before[k]) for k in source)
    assert converted['layer1.0.conv1.conv.weight'].shape == (64, 64, 3, 3, 3)
    assert 'fc.weight' in converted  # passed through, so the loader reports it unused
    nl_key = 'layer2.1.non_local_block.conv_out.conv.weight'
    assert torch.equal(converted[nl_key], model.state_dict()[nl_key])

    torch.save(source, tmp_path / 'r18.pth')
    model = ResNet3d(18, pretrained=str(tmp_path / 'r18.pth'), non_local=(0, (0, 1), 0, 0))
    model.init_weights()
    assert torch.count_nonzero(model.state_dict()[nl_key]) == 0  # identity at start
    assert any('layer2.1.non_local_block' in m and 'fresh init' in m for m in log_messages)
    assert any('fc.weight' in m and 'not used' in m for m in log_messages)


def test_missing_2d_tensor_is_an_error_naming_it(tmp_path):
    state = torchvision.models.resnet18(weights=None).state_dict()
    del state['layer2.1.bn1.weight']
    torch.save(state, tmp_path / 'broken.pth')
    model = ResNet3d(18, pretrained=str(tmp_path / 'broken.pth'))
    with pytest.raises(CheckpointMismatchError, match=r'layer2\.1\.conv1\.bn\.weight') as err:
        model.init_weights()
    assert str(err.value).count('missing from checkpoint') == 1


def test_2d_weights_of_another_width_are_a_shape_error(tmp_path):
    torch.save(torchvision.models.resnet18(weights=None).state_dict(), tmp_path / 'r18.pth')
    model = ResNet3d(18, pretrained=str(tmp_path / 'r18.pth'), base_channels=32)
    with pytest.raises(CheckpointMismatchError, match=r'shape mismatch conv1\.conv\.weight'):
        model.init_weights()


def test_3d_pretrained_loads_every_tensor_or_names_the_missing_one(tmp_path):
    source = _randomise(ResNet3d(18, non_local=(0, 1, 0, 0)), seed=3)
    state = {f'backbone.{k}': v for k, v in source.state_dict().items()}
    torch.save({'state_dict': state}, tmp_path / 'i3d.pth')
    model = ResNet3d(
        18, pretrained=str(tmp_path / 'i3d.pth'), pretrained2d=False, non_local=(0, 1, 0, 0)
    )
    model.init_weights()
    for key, value in source.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key

    del state['backbone.layer2.0.non_local_block.g.conv.weight']
    torch.save({'state_dict': state}, tmp_path / 'broken.pth')
    model = ResNet3d(
        18, pretrained=str(tmp_path / 'broken.pth'), pretrained2d=False, non_local=(0, 1, 0, 0)
    )
    with pytest.raises(CheckpointMismatchError, match=r'layer2\.0\.non_local_block\.g\.conv'):
        model.init_weights()
