"""Parameters and FLOPs of a recognizer, the numbers of MMAction2's model-zoo tables.

FLOPs are counted by ``torch.utils.flop_counter`` (convolutions, matrix products, attention) on
one forward in ``mode='tensor'`` and reported as multiply-adds: MMAction2's convention (fvcore's,
one multiply-add = one FLOP). Element-wise ops, norms and pooling are not counted, as in fvcore.
A model built on the meta device is counted without computing anything, so even ir-CSN-152
takes a blink; ``tools/analysis/get_flops.py`` and ``tools/analysis/model_table.py`` use it.
"""

from typing import Dict, Sequence, Tuple, Union

import torch
from mmengine.registry import DefaultScope
from torch import nn
from torch.utils.flop_counter import FlopCounterMode

from mmaction_ft.registry import MODELS, SCOPE

__all__ = ['count_flops', 'count_parameters', 'model_complexity']


def count_parameters(model: nn.Module) -> int:
    """Number of parameters of ``model`` (shared tensors once), trainable or not."""
    return sum(p.numel() for p in model.parameters())


def count_flops(model: nn.Module, inputs_shape: Sequence[int]) -> int:
    """Multiply-adds of one ``model(inputs, mode='tensor')`` on an input of ``inputs_shape``.

    Args:
        model: A recognizer, on the meta device (shapes only) or a real one.
        inputs_shape: The batch, ``[N, num_views, C, (T,) H, W]``.
    """
    device = next(model.parameters()).device
    inputs = torch.empty(tuple(inputs_shape), device=device)
    counter = FlopCounterMode(display=False)
    with counter, torch.no_grad():
        model(inputs, mode='tensor')
    return counter.get_total_flops() // 2  # the counter counts a multiply-add as 2 FLOPs


def model_complexity(
    model_cfg: Union[Dict, nn.Module], inputs_shape: Sequence[int]
) -> Tuple[int, int]:
    """(parameters, multiply-adds) of a recognizer config at ``inputs_shape``.

    The model is built on the meta device: no weights are allocated, initialised or loaded
    (``pretrained`` is read only by ``init_weights``, which is not called).

    Args:
        model_cfg: ``cfg.model``, or an already built model (counted where it is).
        inputs_shape: The batch, ``[N, num_views, C, (T,) H, W]``.
    """
    model = model_cfg
    if not isinstance(model, nn.Module):
        with DefaultScope.overwrite_default_scope(SCOPE), torch.device('meta'):
            model = MODELS.build(model_cfg)
    model.eval()
    return count_parameters(model), count_flops(model, inputs_shape)
