import logging

import pytest
import torch
import torchvision
from mmengine.logging import MMLogger

from mmaction_ft.engine import CheckpointMismatchError
from mmaction_ft.models.backbones import ResNet3dPathway, ResNet3dSlowFast
from mmaction_ft.models.backbones.resnet3d_slowfast import DeConvModule
from mmaction_ft.registry import MODELS


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


def _tiny(**slow):
    """SlowFast with ResNet-18 pathways (the r50 recipe otherwise), for speed."""
    return ResNet3dSlowFast(
        slow_pathway=dict(
            type='resnet3d',
            depth=18,
            lateral=True,
            conv1_kernel=(1, 7, 7),
            inflate=(0, 0, 1, 1),
            **slow,
        ),
        fast_pathway=dict(
            type='resnet3d', depth=18, lateral=False, base_channels=8, conv1_kernel=(5, 7, 7)
        ),
    )


def test_slowfast_r50_key_layout_and_shapes():
    model = MODELS.build(dict(type='ResNet3dSlowFast'))  # MMAction2's slowfast_r50 defaults
    state = model.state_dict()
    assert len(state) == 640
    expected_shapes = {
        'slow_path.conv1.conv.weight': (64, 3, 1, 7, 7),
        'fast_path.conv1.conv.weight': (8, 3, 5, 7, 7),
        # fast stem 8 channels -> 16 at the slow frame rate (stride alpha = 8)
        'slow_path.conv1_lateral.conv.weight': (16, 8, 5, 1, 1),
        'slow_path.layer1_lateral.conv.weight': (64, 32, 5, 1, 1),
        'slow_path.layer3_lateral.conv.weight': (256, 128, 5, 1, 1),
        # 64 slow + 16 lateral input channels
        'slow_path.layer1.0.conv1.conv.weight': (64, 80, 1, 1, 1),
        'slow_path.layer2.0.downsample.conv.weight': (512, 320, 1, 1, 1),
        'fast_path.layer4.2.conv3.bn.running_var': (256,),
    }
    for key, shape in expected_shapes.items():
        assert tuple(state[key].shape) == shape, key
    assert 'slow_path.layer4_lateral.conv.weight' not in state  # the last stage feeds none
    assert 'slow_path.conv1_lateral.bn.weight' not in state  # lateral_norm=False
    model.init_weights()
    slow, fast = model(torch.randn(1, 3, 16, 32, 32))
    assert slow.shape == (1, 2048, 2, 1, 1)  # 16 / tau
    assert fast.shape == (1, 256, 16, 1, 1)  # 16 / (tau / alpha)


def test_lateral_norm_adds_bn_to_laterals():
    model = _tiny(lateral_norm=True)
    state = model.state_dict()
    assert 'slow_path.conv1_lateral.bn.weight' in state
    assert 'slow_path.layer2_lateral.bn.running_mean' in state
    assert model.slow_path.layer1_lateral.with_activation


def test_tiny_slowfast_forward_and_backward():
    model = _tiny()
    model.init_weights()
    slow, fast = model(torch.randn(1, 3, 16, 32, 32))
    assert slow.shape == (1, 512, 2, 1, 1)
    assert fast.shape == (1, 512 // 8, 16, 1, 1)
    (slow.sum() + fast.sum()).backward()
    assert model.slow_path.layer1_lateral.conv.weight.grad.abs().sum() > 0


def test_frozen_stages_freeze_the_lateral_leaving_each_stage():
    model = _tiny(frozen_stages=1)
    model.train()
    slow = model.slow_path
    for module in (slow.conv1, slow.layer1, slow.layer1_lateral):
        assert all(not p.requires_grad for p in module.parameters())
    assert all(p.requires_grad for p in slow.layer2_lateral.parameters())
    assert all(p.requires_grad for p in slow.layer2.parameters())


@pytest.mark.parametrize(
    'kwargs, error, match',
    [
        (dict(slow_pathway=dict(type='resnet2d', depth=18)), KeyError, 'unknown pathway type'),
        (dict(resample_rate=4, speed_ratio=8), ValueError, 'speed_ratio <= resample_rate'),
        (dict(pretrained=1), TypeError, 'pretrained'),
    ],
)
def test_argument_validation(kwargs, error, match):
    with pytest.raises(error, match=match):
        ResNet3dSlowFast(**kwargs)


def test_pathway_validation():
    with pytest.raises(ValueError, match='fusion_kernel must be odd'):
        ResNet3dPathway(depth=18, lateral=True, fusion_kernel=4)
    with pytest.raises(ValueError, match='lateral_activate needs one flag per stage'):
        ResNet3dPathway(depth=18, lateral=True, lateral_activate=(1, 1))


def test_deconv_lateral_upsamples_time_exactly():
    deconv = DeConvModule(8, 4, (5, 1, 1), stride=(4, 1, 1), padding=(2, 0, 0))
    assert deconv(torch.randn(1, 8, 3, 5, 5)).shape == (1, 4, 12, 5, 5)


def test_slow_pathway_from_2d_weights_zero_pads_lateral_inputs(tmp_path, log_messages):
    torch.manual_seed(0)
    state = torchvision.models.resnet18(weights=None).state_dict()
    torch.save(state, tmp_path / 'r18.pth')
    pathway = ResNet3dPathway(
        depth=18, lateral=True, pretrained=str(tmp_path / 'r18.pth'), inflate=(0, 0, 1, 1)
    )
    pathway.init_weights()
    weight = pathway.layer2[0].conv1.conv.weight  # [128, 64 + 16 lateral, 1, 3, 3]
    assert weight.shape == (128, 80, 1, 3, 3)
    assert torch.equal(weight[:, :64, 0], state['layer2.0.conv1.weight'])
    assert torch.count_nonzero(weight[:, 64:]) == 0  # as MMAction2's ResNet3dPathway
    # Laterals have no 2D counterpart: Kaiming init, not zeros. Nor has the projection that
    # ResNet-18's stage 1 needs only for its 64 + 16 input channels; the log names them all.
    assert pathway.layer1_lateral.conv.weight.std() > 0
    kept = [m for m in log_messages if 'fresh init' in m]
    assert len(kept) == 1
    for name in ('conv1_lateral', 'layer3_lateral', 'layer1.0.downsample'):
        assert name in kept[0]
    assert 'layer2.0.downsample' not in kept[0]  # 2D ResNet-18 has that one: loaded
    assert torch.equal(
        pathway.layer2[0].downsample.bn.running_var, state['layer2.0.downsample.1.running_var']
    )


def test_whole_slowfast_pretrained_loads_or_names_the_missing_key(tmp_path):
    torch.manual_seed(0)
    source = _tiny()
    source.init_weights()
    state = {f'backbone.{k}': v for k, v in source.state_dict().items()}
    torch.save({'state_dict': state}, tmp_path / 'sf.pth')
    model = _tiny()
    model.pretrained = str(tmp_path / 'sf.pth')
    model.init_weights()
    for key, value in source.state_dict().items():
        assert torch.equal(model.state_dict()[key], value), key

    del state['backbone.slow_path.layer2_lateral.conv.weight']
    torch.save({'state_dict': state}, tmp_path / 'broken.pth')
    model.pretrained = str(tmp_path / 'broken.pth')
    with pytest.raises(CheckpointMismatchError, match=r'slow_path\.layer2_lateral\.conv\.weight'):
        model.init_weights()
