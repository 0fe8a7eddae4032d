import pytest
import torch
import torchvision
from torch.nn.modules.batchnorm import _BatchNorm

from mmaction_ft.engine import CheckpointMismatchError
from mmaction_ft.models.backbones import ResNet3dSlowOnly
from mmaction_ft.registry import MODELS

# The backbone of MMAction2's skeleton/posec3d/slowonly_r50_8xb16-u48-240e_ntu60-xsub-keypoint.py.
POSEC3D = dict(
    type='ResNet3dSlowOnly',
    depth=50,
    pretrained=None,
    in_channels=17,
    base_channels=32,
    num_stages=3,
    out_indices=(2,),
    stage_blocks=(4, 6, 3),
    conv1_stride_s=1,
    pool1_stride_s=1,
    inflate=(0, 1, 1),
    spatial_strides=(2, 2, 2),
    temporal_strides=(1, 1, 2),
    dilations=(1, 1, 1),
)


def test_slowonly_keeps_time_and_inflates_only_late_stages():
    model = ResNet3dSlowOnly(depth=18)
    model.init_weights()
    assert model(torch.randn(1, 3, 4, 32, 32)).shape == (1, 512, 4, 1, 1)  # no pool2
    assert model.conv1.conv.weight.shape == (64, 3, 1, 7, 7)
    assert model.layer2[0].conv1.conv.weight.shape[2] == 1
    assert model.layer3[0].conv1.conv.weight.shape[2] == 3


def test_slowonly_r50_key_layout():
    state = ResNet3dSlowOnly(depth=50).state_dict()
    assert len(state) == 318  # as MMAction2's slowonly_r50 backbone
    assert state['layer1.0.conv1.conv.weight'].shape == (64, 64, 1, 1, 1)
    assert state['layer3.0.conv1.conv.weight'].shape == (256, 512, 3, 1, 1)
    assert 'layer4.2.conv3.bn.num_batches_tracked' in state
    assert not any('lateral' in key for key in state)


def test_posec3d_config_builds_with_three_stages():
    model = MODELS.build(POSEC3D)
    model.init_weights()
    assert [len(getattr(model, f'layer{i}')) for i in (1, 2, 3)] == [4, 6, 3]
    assert not hasattr(model, 'layer4')
    out = model(torch.randn(1, 17, 8, 32, 32))
    assert out.shape == (1, 512, 4, 4, 4)  # stem keeps 32x32; T halved by stage 3 only
    assert model.feat_dim == 512


def test_lateral_is_refused():
    with pytest.raises(ValueError, match='use ResNet3dSlowFast'):
        ResNet3dSlowOnly(depth=18, lateral=True)


def test_frozen_stages_and_norm_eval():
    model = ResNet3dSlowOnly(depth=18, frozen_stages=2, norm_eval=True)
    model.train()
    for module in (model.conv1, model.layer1, model.layer2):
        assert all(not p.requires_grad for p in module.parameters())
    assert all(p.requires_grad for p in model.layer3.parameters())
    assert all(not m.training for m in model.modules() if isinstance(m, _BatchNorm))


def test_inflated_2d_weights_land_in_2d_and_3d_blocks(tmp_path):
    torch.manual_seed(0)
    state = torchvision.models.resnet18(weights=None).state_dict()
    torch.save(state, tmp_path / 'r18.pth')
    model = ResNet3dSlowOnly(depth=18, pretrained=str(tmp_path / 'r18.pth'))
    model.init_weights()
    # A 2D block takes the kernel as is; an inflated one spreads it over 3 frames.
    assert torch.equal(model.layer2[1].conv1.conv.weight[:, :, 0], state['layer2.1.conv1.weight'])
    torch.testing.assert_close(
        model.layer3[1].conv1.conv.weight.sum(2), state['layer3.1.conv1.weight']
    )

    del state['layer3.0.downsample.1.running_mean']
    torch.save(state, tmp_path / 'broken.pth')
    model = ResNet3dSlowOnly(depth=18, pretrained=str(tmp_path / 'broken.pth'))
    with pytest.raises(CheckpointMismatchError, match=r'layer3\.0\.downsample\.bn\.running_mean'):
        model.init_weights()
