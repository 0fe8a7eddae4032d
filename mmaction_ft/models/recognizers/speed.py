"""Speed settings of the recognizers on CPUs (docs/benchmarks.md): the weights' memory format,
BatchNorms folded into their convs in eval mode, and how many test views a CPU runs at once.
Each is exact up to float rounding."""

import math
from typing import Sequence, Tuple

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from torch.nn.modules.batchnorm import _BatchNorm


def preferred_memory_format(backbone: nn.Module) -> torch.memory_format:
    """``channels_last`` for a 2D convnet (more than one ``Conv2d``, no ``Conv3d``), else
    contiguous.

    Measured with torch 2.14 on a 2-core AVX2 CPU (docs/benchmarks.md): a ResNet-50 in
    channels-last evaluates 30 views 1.2-1.4x faster than in the contiguous layout and trains
    up to 15 % faster; 3D convnets gained nothing in training from ``channels_last_3d``, and
    transformers (at most a patch-embedding conv) have no use for it.
    """
    convs_2d = 0
    for module in backbone.modules():
        if isinstance(module, nn.Conv3d):
            return torch.contiguous_format
        convs_2d += isinstance(module, nn.Conv2d)
    return torch.channels_last if convs_2d > 1 else torch.contiguous_format


def _folded_weight_and_bias(bn: nn.Module, conv: nn.Module) -> Tuple[torch.Tensor, torch.Tensor]:
    """The weight and bias of the one conv that computes ``bn(conv(x))`` for ``bn`` in eval mode
    (differentiable in every tensor it comes from)."""
    scale = torch.rsqrt(bn.running_var + bn.eps)
    if bn.weight is not None:
        scale = scale * bn.weight
    bias = -bn.running_mean if conv.bias is None else conv.bias - bn.running_mean
    bias = bias * scale
    if bn.bias is not None:
        bias = bias + bn.bias
    weight = conv.weight * scale.reshape([-1] + [1] * (conv.weight.ndim - 1))
    return weight, bias


def _folded_conv_forward(bn: nn.Module, conv: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """``bn(conv(x))`` as one conv, for a BatchNorm in eval mode (called by mmcv's
    ``ConvModule`` in place of ``conv`` and ``bn``).

    Where gradients flow (frozen ``norm_eval`` BatchNorms in training) the weight is folded on
    every call, differentiably. Without gradients the folded weight is kept on ``conv`` until
    one of the six tensors it comes from changes (an optimizer step, a loaded checkpoint, a
    move to another device), so evaluation folds once."""
    sources = (conv.weight, conv.bias, bn.weight, bn.bias, bn.running_mean, bn.running_var)
    if torch.is_grad_enabled() or any(t is not None and t.is_inference() for t in sources):
        # Inference tensors (weights made under inference_mode) have no version to key on.
        return conv._conv_forward(x, *_folded_weight_and_bias(bn, conv))
    key = tuple((t.data_ptr(), t._version) if t is not None else None for t in sources)
    cached = conv.__dict__.get('_folded')
    if cached is None or cached[0] != key:
        cached = conv.__dict__['_folded'] = (key, *_folded_weight_and_bias(bn, conv))
    return conv._conv_forward(x, cached[1], cached[2])


def drop_folded_weights(module: nn.Module) -> None:
    """Forget the folded weights kept by :func:`_folded_conv_forward` (their memory)."""
    for child in module.modules():
        child.__dict__.pop('_folded', None)


def fold_batch_norms_in_eval(module: nn.Module) -> int:
    """Let every mmcv ``ConvModule`` of ``module`` whose conv is followed by a BatchNorm run
    the pair as one conv while the BatchNorm is in eval mode: the BatchNorm's scale and shift
    are folded into the conv's weight and bias (:func:`_folded_conv_forward`), so evaluation
    skips a pass over every feature map. Exact up to float rounding; weights and checkpoints
    do not change. Returns the number of pairs."""
    folded = 0
    for child in module.modules():
        if (
            isinstance(child, ConvModule)
            and isinstance(child.conv, nn.modules.conv._ConvNd)  # not a temporal-shift wrapper
            and isinstance(child.norm, _BatchNorm)
            and child.norm.track_running_stats
            and list(child.order[:2]) == ['conv', 'norm']
        ):
            child.efficient_conv_bn_eval_forward = _folded_conv_forward
            folded += 1
    return folded


# Pixels (frames x height x width) a CPU test runs through the backbone at once: 8 frames of
# 224 x 224. Measured on a 2-core CPU with torch 2.14 (docs/benchmarks.md): TSN-R50 tests its
# 250 views in 16-18 s in chunks of 4-10 views, 24-28 s all at once (the activations of a big
# batch do not stay in the caches), and with a fraction of the memory.
CPU_PIXELS_PER_CHUNK = 8 * 224 * 224


def cpu_views_per_chunk(view_shape: Sequence[int], num_segments: int = 1) -> int:
    """Views per backbone call when a CPU tests without ``test_cfg.max_testing_views``: as many
    as fit :data:`CPU_PIXELS_PER_CHUNK`, at least one, rounded up to whole clips of
    ``num_segments`` frames (temporal-shift backbones).

    Args:
        view_shape: ``[C, H, W]`` or ``[C, T, H, W]`` of one view.
        num_segments: Frames the backbone mixes (TSM); 1 for the others.
    """
    pixels = math.prod(int(size) for size in view_shape[1:])  # (T x) H x W
    views = max(1, CPU_PIXELS_PER_CHUNK // max(pixels, 1))
    return -(-views // num_segments) * num_segments
