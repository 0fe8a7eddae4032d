"""Parameter and FLOP counts: multiply-adds of the real ops, the same on the meta device."""

import pytest
import torch
from torch import nn

from mmaction_ft.utils.complexity import count_flops, count_parameters, model_complexity

TSN = dict(
    type='Recognizer2D',
    backbone=dict(type='ResNet', depth=18, pretrained=None),
    cls_head=dict(type='TSNHead', num_classes=5, in_channels=512),
)


class OneConv(nn.Module):
    """A stand-in recognizer: ``forward(inputs, mode)`` on ``[N, views, C, H, W]``."""

    def __init__(self):
        super().__init__()
        self.conv = nn.Conv2d(3, 8, 3, padding=1, bias=False)

    def forward(self, inputs, mode='tensor'):
        return self.conv(inputs.flatten(0, 1))


def test_flops_are_multiply_adds():
    # 8 x 3 x 3 x 3 multiply-adds per output pixel, 16 x 16 pixels, 2 videos x 3 views.
    assert count_flops(OneConv(), (2, 3, 3, 16, 16)) == 8 * 27 * 16 * 16 * 6
    assert count_parameters(OneConv()) == 8 * 27


def test_meta_device_counts_equal_a_real_model():
    from mmaction_ft.registry import MODELS
    from mmaction_ft.utils import register_all_modules

    register_all_modules()
    real = MODELS.build(TSN).eval()
    params, flops = model_complexity(TSN, (1, 3, 3, 32, 32))
    assert params == sum(p.numel() for p in real.parameters())
    assert flops == count_flops(real, (1, 3, 3, 32, 32))
    # ResNet-18's 1.82 G multiply-adds at 224 px (torchvision's model card), times 3 frames.
    _, flops_224 = model_complexity(TSN, (1, 3, 3, 224, 224))
    assert flops_224 / 3 / 1e9 == pytest.approx(1.82, abs=0.01)


def test_a_built_model_is_counted_where_it_is():
    model = OneConv()
    assert model_complexity(model, (1, 1, 3, 4, 4)) == (216, 8 * 27 * 16)
    assert next(model.parameters()).device == torch.device('cpu')
