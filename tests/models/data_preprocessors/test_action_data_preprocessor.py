import pytest
import torch

from mmaction_ft.models.data_preprocessors import ActionDataPreprocessor
from mmaction_ft.structures import ActionDataSample

MEAN, STD = [123.675, 116.28, 103.53], [58.395, 57.12, 57.375]


def _data(shape, n=2):
    inputs = [torch.randint(0, 256, shape, dtype=torch.uint8) for _ in range(n)]
    return {'inputs': inputs, 'data_samples': [ActionDataSample() for _ in range(n)]}


def test_nchw_stack_and_normalise():
    pre = ActionDataPreprocessor(mean=MEAN, std=STD, format_shape='NCHW')
    data = _data((3, 3, 8, 8))  # 3 views each
    out = pre(data)
    assert out['inputs'].shape == (2, 3, 3, 8, 8)
    assert out['inputs'].dtype == torch.float32
    raw = data['inputs'][1][2, 1].float()  # video 1, view 2, channel G
    assert torch.allclose(out['inputs'][1, 2, 1], (raw - MEAN[1]) / STD[1])
    assert out['data_samples'] is data['data_samples'] or len(out['data_samples']) == 2


def test_ncthw_stack_and_normalise():
    pre = ActionDataPreprocessor(mean=MEAN, std=STD, format_shape='NCTHW')
    data = _data((2, 3, 4, 8, 8))  # 2 clips x C x T x H x W
    out = pre(data)
    assert out['inputs'].shape == (2, 2, 3, 4, 8, 8)
    raw = data['inputs'][0][1, 2, 3].float()
    assert torch.allclose(out['inputs'][0, 1, 2, 3], (raw - MEAN[2]) / STD[2])


def test_stacked_tensor_input_is_accepted():
    pre = ActionDataPreprocessor(format_shape='NCHW')
    stacked = torch.randint(0, 256, (2, 1, 3, 4, 4), dtype=torch.uint8)
    out = pre({'inputs': stacked, 'data_samples': None})
    assert torch.equal(out['inputs'], stacked.float())


def test_to_rgb_reverses_channels_before_normalising():
    pre = ActionDataPreprocessor(mean=MEAN, std=STD, to_rgb=True)
    data = _data((1, 3, 4, 4), n=1)
    out = pre(data)
    bgr = data['inputs'][0][0].float()
    assert torch.allclose(out['inputs'][0, 0, 0], (bgr[2] - MEAN[0]) / STD[0])


def test_no_mean_means_no_normalisation():
    pre = ActionDataPreprocessor()
    data = _data((1, 3, 4, 4))
    out = pre(data)
    assert torch.equal(out['inputs'], torch.stack(data['inputs']).float())
    keep = ActionDataPreprocessor(to_float32=False)(data)
    assert keep['inputs'].dtype == torch.uint8


def test_mean_std_are_not_in_the_state_dict():
    pre = ActionDataPreprocessor(mean=MEAN, std=STD)
    assert dict(pre.named_buffers()).keys() == {'mean', 'std'}
    assert len(pre.state_dict()) == 0


def test_errors():
    with pytest.raises(ValueError, match='format_shape'):
        ActionDataPreprocessor(format_shape='NTCHW')
    with pytest.raises(ValueError, match='both mean and std'):
        ActionDataPreprocessor(mean=MEAN)
    pre = ActionDataPreprocessor(format_shape='NCTHW')
    with pytest.raises(ValueError, match='NCTHW'):
        pre(_data((3, 3, 8, 8)))
    data = _data((3, 3, 8, 8))
    data['inputs'][1] = data['inputs'][1][:2]
    with pytest.raises(ValueError, match='different shapes'):
        ActionDataPreprocessor()(data)


def test_blending_mixes_normalised_inputs_in_training_only():
    # MMAction2's MViT recipe: one of MixUp / CutMix per training batch.
    pre = ActionDataPreprocessor(
        mean=[100.0] * 3,
        std=[10.0] * 3,
        format_shape='NCTHW',
        blending=dict(
            type='RandomBatchAugment',
            augments=[dict(type='MixupBlending', alpha=0.8, num_classes=3)],
        ),
    )

    def data():  # video 0 all 0 (normalised: -10), video 1 all 255 (15.5); labels 0 and 1
        inputs = [torch.full((1, 3, 2, 4, 4), v, dtype=torch.uint8) for v in (0, 255)]
        return {
            'inputs': inputs,
            'data_samples': [ActionDataSample().set_gt_label(i) for i in (0, 1)],
        }

    out = pre(data(), training=False)
    assert [int(s.gt_label) for s in out['data_samples']] == [0, 1]
    assert out['inputs'][0].eq(-10).all()

    torch.manual_seed(2)  # lam 0.55, the two videos swapped
    out = pre(data(), training=True)
    assert -10 < float(out['inputs'][0].mean()) < 15.5  # really mixed
    for clip, sample in zip(out['inputs'], out['data_samples']):
        weights = sample.gt_label  # soft target: the share of each video in the clip
        assert weights.shape == (3,) and torch.isclose(weights.sum(), torch.tensor(1.0))
        assert torch.allclose(clip, weights[0] * -10.0 + weights[1] * 15.5)
