"""Deterministic weights and inputs that MMAction2 and mmaction_ft can both regenerate.

Imported by the parity test and by ``make_fixtures.py`` (run with the real MMAction2 1.2.0), so
neither side ships tensors: a tensor's values depend only on its key name and shape. Needs only
torch.
"""

import math
import zlib
from typing import Sequence

import torch


def _generator(name: str) -> torch.Generator:
    return torch.Generator().manual_seed(zlib.crc32(name.encode()))


def fill_deterministic(module: torch.nn.Module) -> None:
    """Overwrite every floating tensor of ``module``'s state dict with values seeded by its key.

    He-scaled conv / linear weights and BN statistics near identity keep deep networks' outputs
    in a range where a relative comparison means something.
    """
    with torch.no_grad():
        for name, tensor in module.state_dict().items():
            if not tensor.is_floating_point():
                continue
            gen = _generator(name)
            if name.endswith('running_var'):
                values = torch.rand(tensor.shape, generator=gen) + 0.5
            elif name.endswith('running_mean'):
                values = torch.randn(tensor.shape, generator=gen) * 0.1
            elif tensor.ndim >= 2:
                fan_in = tensor[0].numel()
                values = torch.randn(tensor.shape, generator=gen) * math.sqrt(1.0 / fan_in)
            elif name.endswith('weight'):  # norm scales
                values = torch.rand(tensor.shape, generator=gen) * 0.5 + 0.5
            else:  # biases
                values = torch.randn(tensor.shape, generator=gen) * 0.1
            tensor.copy_(values)


def make_input(shape: Sequence[int]) -> torch.Tensor:
    """A normalised-looking input batch of ``shape``."""
    return torch.randn(tuple(shape), generator=_generator('input'))


def sample_values(tensor: torch.Tensor, count: int = 64) -> list:
    """``count`` evenly spaced entries of the flattened tensor (a fingerprint of a big output)."""
    flat = tensor.detach().flatten().double()
    index = torch.linspace(0, flat.numel() - 1, count).round().long()
    return flat[index].tolist()
