import logging

import pytest
import torch
import torchvision
from mmengine.logging import MMLogger
from torch.nn.modules.batchnorm import _BatchNorm

from mmaction_ft.engine.weight_loading import CheckpointMismatchError
from mmaction_ft.models.backbones import ResNet, ResNetTSM
from mmaction_ft.models.backbones.non_local import NonLocal3d
from mmaction_ft.models.backbones.resnet_tsm import TemporalShift, resnet_to_tsm

NL_CFG = dict(sub_sample=True, use_scale=False, norm_cfg=dict(type='BN3d', requires_grad=True))


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


def test_shift_moves_one_fold_each_way_with_zero_padding():
    t, c = 4, 8  # shift_div=4: fold of 2 channels
    x = torch.zeros(1, t, c, 1, 1)
    for i in range(t):
        for j in range(c):
            x[0, i, j] = 100 * (i + 1) + j  # never 0, so padding zeros are visible
    out = TemporalShift.shift(x.view(t, c, 1, 1), num_segments=t, shift_div=4).view(t, c)
    x = x.view(t, c)
    # channels 0-1 of frame i come from frame i + 1; the last frame gets zeros
    assert torch.equal(out[:-1, :2], x[1:, :2])
    assert torch.equal(out[-1, :2], torch.zeros(2))
    # channels 2-3 of frame i come from frame i - 1; the first frame gets zeros
    assert torch.equal(out[1:, 2:4], x[:-1, 2:4])
    assert torch.equal(out[0, 2:4], torch.zeros(2))
    assert torch.equal(out[:, 4:], x[:, 4:])


def test_shift_keeps_clips_apart_and_rejects_partial_clips():
    x = torch.ones(4, 4, 1, 1)  # 2 clips of 2 frames, 4 channels, shift_div=4 -> fold 1
    x[2:] = 2.0  # second clip
    out = TemporalShift.shift(x, num_segments=2, shift_div=4)
    assert out[1, 0].item() == 0  # last frame of clip 1 does not see clip 2's first frame
    assert out[2, 1].item() == 0  # first frame of clip 2 does not see clip 1's last frame
    with pytest.raises(ValueError, match='num_segments=3'):
        TemporalShift.shift(x, num_segments=3)


def test_output_shape_and_blockres_keys():
    model = ResNetTSM(18, num_segments=4)
    out = model(torch.randn(8, 3, 32, 32))  # 2 clips x 4 frames
    assert out.shape == (8, 512, 1, 1)
    keys = set(ResNetTSM(50).state_dict())
    assert len(keys) == 318  # wrapping adds no tensor: same count as ResNet-50
    assert 'layer1.0.conv1.conv.net.weight' in keys
    assert 'layer4.2.conv1.conv.net.weight' in keys
    assert 'layer1.0.conv1.conv.weight' not in keys
    assert 'layer1.0.conv1.bn.weight' in keys  # BN sits after the shifted conv
    assert 'layer1.0.conv2.conv.weight' in keys  # only conv1 is shifted


def test_block_place_temporal_pool_and_deep_net_keys():
    keys = set(ResNetTSM(18, shift_place='block').state_dict())
    assert 'layer1.0.net.conv1.conv.weight' in keys
    assert 'layer2.0.net.downsample.conv.weight' in keys
    keys = set(ResNetTSM(18, temporal_pool=True).state_dict())
    assert 'layer2.net.0.conv1.conv.net.weight' in keys
    assert 'layer3.0.conv1.conv.net.weight' in keys
    # ResNet-101: every other block is shifted with 'blockres'.
    keys = set(ResNetTSM(101).state_dict())
    assert 'layer3.0.conv1.conv.net.weight' in keys
    assert 'layer3.1.conv1.conv.weight' in keys
    assert 'layer1.1.conv1.conv.weight' in keys


def test_shift_mixes_neighbouring_frames_only_when_on():
    torch.manual_seed(0)
    stage1 = dict(num_segments=8, num_stages=1, out_indices=(0,))
    shifted = ResNetTSM(18, **stage1).eval()
    plain = ResNetTSM(18, is_shift=False, **stage1).eval()
    plain.load_state_dict(ResNet(18, num_stages=1, out_indices=(0,)).state_dict())
    shifted.load_state_dict(resnet_to_tsm(plain.state_dict(), shifted))
    x = torch.randn(8, 3, 16, 16)
    y = x.clone()
    y[1] += 1.0  # change frame 1 only
    with torch.no_grad():
        changed_shifted = (shifted(x) - shifted(y)).flatten(1).abs().amax(1) > 0
        changed_plain = (plain(x) - plain(y)).flatten(1).abs().amax(1) > 0
    assert changed_plain.tolist() == [False, True] + [False] * 6
    # Two shifted blocks in stage 1: frame 1 reaches frames up to two steps away.
    assert changed_shifted.tolist() == [True] * 4 + [False] * 4


def test_temporal_pool_halves_the_frames():
    model = ResNetTSM(18, num_segments=4, temporal_pool=True)
    assert model(torch.randn(8, 3, 32, 32)).shape == (4, 512, 1, 1)
    assert model.layer3[0].conv1.conv.num_segments == 2
    assert model.layer1[0].conv1.conv.num_segments == 4


def test_non_local_blocks_wrap_the_flagged_blocks():
    model = ResNetTSM(
        18, num_segments=4, non_local=((0, 0), (1, 0), (0, 1), 0), non_local_cfg=NL_CFG
    )
    keys = set(model.state_dict())
    assert 'layer2.0.block.conv1.conv.net.weight' in keys
    assert 'layer2.0.non_local_block.g.0.conv.weight' in keys
    assert 'layer3.1.non_local_block.conv_out.bn.weight' in keys
    assert 'layer2.1.conv1.conv.net.weight' in keys
    assert sum(isinstance(m, NonLocal3d) for m in model.modules()) == 2
    assert model(torch.randn(4, 3, 32, 32)).shape == (4, 512, 1, 1)
    # Without non_local_cfg the flags are ignored, as in MMAction2.
    plain = ResNetTSM(18, non_local=((0, 0), (1, 0), (0, 1), 0))
    assert not any(isinstance(m, NonLocal3d) for m in plain.modules())


def test_init_from_scratch_keeps_non_local_identity_init():
    model = ResNetTSM(18, non_local=(0, (1, 0), 0, 0), non_local_cfg=NL_CFG)
    model.init_weights()
    assert torch.all(model.layer2[0].non_local_block.conv_out.bn.weight == 0)
    assert torch.all(model.layer2[0].block.conv1.bn.weight == 1)


def test_argument_validation():
    with pytest.raises(ValueError, match="shift_place must be 'block' or 'blockres'"):
        ResNetTSM(18, shift_place='blockres2')
    with pytest.raises(ValueError, match='num_segments must be even'):
        ResNetTSM(18, num_segments=3, temporal_pool=True)
    with pytest.raises(ValueError, match='shift_div'):
        ResNetTSM(18, shift_div=0)
    with pytest.raises(ValueError, match=r'non_local\[1\] needs one flag per block'):
        ResNetTSM(18, non_local=(0, (1, 0, 1), 0, 0), non_local_cfg=NL_CFG)
    with pytest.raises(ValueError, match='whole number of clips'):
        ResNetTSM(18, num_segments=4)(torch.randn(6, 3, 32, 32))


def test_frozen_stages_and_norm_eval_reach_wrapped_blocks():
    model = ResNetTSM(18, frozen_stages=1).train()
    assert not model.layer1[0].conv1.conv.net.weight.requires_grad
    assert not model.layer1[0].conv1.bn.training
    assert model.layer2[0].conv1.conv.net.weight.requires_grad
    model = ResNetTSM(18, norm_eval=True).train()
    assert all(not m.training for m in model.modules() if isinstance(m, _BatchNorm))


def test_torchvision_pretrained_lands_on_shifted_convs(tmp_path, log_messages):
    torch.manual_seed(0)
    tv = torchvision.models.resnet18(weights=None).state_dict()
    path = tmp_path / 'tv18.pth'
    torch.save(tv, path)
    model = ResNetTSM(18, pretrained=str(path))
    model.init_weights()
    ours = model.state_dict()
    assert torch.equal(ours['layer1.0.conv1.conv.net.weight'], tv['layer1.0.conv1.weight'])
    assert torch.equal(ours['layer1.0.conv1.bn.running_var'], tv['layer1.0.bn1.running_var'])
    assert torch.equal(ours['layer2.0.downsample.conv.weight'], tv['layer2.0.downsample.0.weight'])
    assert any('fc.weight' in m and 'not used' in m for m in log_messages)

    del tv['layer3.1.conv1.weight']
    torch.save(tv, path)
    with pytest.raises(CheckpointMismatchError, match=r'layer3\.1\.conv1\.weight'):
        ResNetTSM(18, pretrained=str(path)).init_weights()


def test_2d_mmaction_checkpoint_into_tsm_with_non_local(tmp_path, log_messages):
    torch.manual_seed(1)
    tsn = ResNet(18)
    tsn.init_weights()
    path = tmp_path / 'tsn_r18.pth'
    torch.save({'state_dict': {f'backbone.{k}': v for k, v in tsn.state_dict().items()}}, path)
    model = ResNetTSM(
        18,
        pretrained=str(path),
        pretrained2d=False,
        non_local=(0, (1, 0), 0, 0),
        non_local_cfg=NL_CFG,
    )
    model.init_weights()
    ours = model.state_dict()
    assert torch.equal(
        ours['layer2.0.block.conv1.conv.net.weight'], tsn.layer2[0].conv1.conv.weight
    )
    assert torch.all(model.layer2[0].non_local_block.conv_out.bn.weight == 0)  # fresh init
    assert any('layer2.0.non_local_block' in m and 'fresh init' in m for m in log_messages)


def test_converter_is_pure_and_idempotent_on_wrapped_keys():
    model = ResNetTSM(18)
    flat = ResNet(18).state_dict()
    before = list(flat)
    converted = resnet_to_tsm(flat, model)
    assert list(flat) == before  # input untouched
    assert 'layer1.0.conv1.conv.net.weight' in converted
    assert list(resnet_to_tsm(converted, model)) == list(converted)
