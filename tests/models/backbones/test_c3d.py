import pytest
import torch

from mmaction_ft.engine.weight_loading import CheckpointMismatchError
from mmaction_ft.models.backbones import C3D

# 16 x 32 x 32 clips: pool5 gives 512 x 1 x 2 x 2 = 2048 features (8192 for 16 x 112 x 112).
SMALL_OUT_DIM = 2048


@pytest.fixture(scope='module')
def small_c3d():
    torch.manual_seed(0)
    model = C3D(out_dim=SMALL_OUT_DIM)
    model.init_weights()
    return model.eval()


def test_forward_shape_keys_and_init(small_c3d):
    with torch.no_grad():
        out = small_c3d(torch.randn(2, 3, 16, 32, 32))
    assert out.shape == (2, 4096)
    assert torch.all(out >= 0)  # fc7 is followed by ReLU
    sd = small_c3d.state_dict()
    assert len(sd) == 20  # 8 convs + fc6 + fc7, weight and bias each; no norm by default
    assert sd['conv1a.conv.weight'].shape == (64, 3, 3, 3, 3)
    assert sd['conv1a.conv.bias'].shape == (64,)  # no norm -> conv bias
    assert sd['conv5b.conv.weight'].shape == (512, 512, 3, 3, 3)
    assert sd['fc6.weight'].shape == (4096, SMALL_OUT_DIM)
    assert sd['fc7.bias'].shape == (4096,)
    assert abs(small_c3d.fc7.weight.std().item() - 0.005) < 0.0005  # init_std
    assert torch.all(small_c3d.fc7.bias == 0)


def test_wrong_clip_size_names_out_dim(small_c3d):
    with pytest.raises(ValueError, match='out_dim=2048'):
        small_c3d(torch.randn(1, 3, 16, 64, 64))


def test_default_is_the_sports1m_layout_and_norm_is_optional():
    # Building only (a full 16 x 112 x 112 forward is the parity check's job).
    model = C3D()
    assert model.fc6.in_features == 8192
    assert model.conv1a.conv.kernel_size == (3, 3, 3)
    assert model.pool1.kernel_size == (1, 2, 2)  # the first pool keeps time
    assert model.pool5.padding == (0, 1, 1)
    with_bn = C3D(out_dim=SMALL_OUT_DIM, norm_cfg=dict(type='BN3d'))
    assert 'conv3b.bn.running_var' in with_bn.state_dict()
    assert 'conv3b.conv.bias' not in with_bn.state_dict()


def test_argument_validation():
    with pytest.raises(ValueError, match='dropout_ratio'):
        C3D(dropout_ratio=1.0)
    with pytest.raises(ValueError, match="style must be 'pytorch' or 'caffe'"):
        C3D(style='tf')
    with pytest.raises(ValueError, match='out_dim'):
        C3D(out_dim=0)


def test_pretrained_round_trip_and_mismatch(tmp_path, small_c3d):
    path = tmp_path / 'c3d.pth'
    state = {f'backbone.{k}': v for k, v in small_c3d.state_dict().items()}
    torch.save({'state_dict': state}, path)
    model = C3D(pretrained=str(path), out_dim=SMALL_OUT_DIM)
    model.init_weights()
    assert torch.equal(model.fc6.weight, small_c3d.fc6.weight)
    assert torch.equal(model.conv4b.conv.bias, small_c3d.conv4b.conv.bias)
    # A Sports-1M-size fc6 does not fit a small-clip C3D: an error, not a silent skip.
    wrong = C3D(pretrained=str(path), out_dim=4096)
    with pytest.raises(CheckpointMismatchError, match=r'fc6\.weight'):
        wrong.init_weights()
