"""The Video Swin finetuning recipe's per-parameter learning rates and weight decays (Liu et al.,
Video Swin Transformer, CVPR 2022, sec. 4.1: the ImageNet-pretrained backbone at 0.1x the
head's learning rate, no weight decay on position-bias tables and norms)."""

import math
from typing import Dict, List, Optional

import torch.nn as nn
from mmengine.logging import print_log
from mmengine.optim import DefaultOptimWrapperConstructor

from mmaction_ft.registry import OPTIM_WRAPPER_CONSTRUCTORS

_MULTS = ('lr_mult', 'decay_mult')


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class SwinOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """One parameter group per parameter, with multipliers chosen by name.

    ``paramwise_cfg`` maps a substring of parameter names to ``dict(lr_mult=..., decay_mult=...)``;
    a parameter's learning rate and weight decay are the base ones times the product of the
    multipliers of every key its name contains. MMAction2's Swin configs use::

        paramwise_cfg=dict(
            absolute_pos_embed=dict(decay_mult=0.),
            relative_position_bias_table=dict(decay_mult=0.),
            norm=dict(decay_mult=0.),  # every LayerNorm: norm1, norm2, patch_embed.norm ...
            backbone=dict(lr_mult=0.1))

    Frozen parameters get a group without settings (the optimizer's defaults), so the groups line
    up one to one with the model's parameters, as in MMAction2 1.2.0, whose optimizer states
    therefore resume here. (MMAction2 matches keys against ``'base.' + name``; a key that only
    matches across that prefix, such as ``'base'``, is the one difference.)

    Args:
        optim_wrapper_cfg: The ``optim_wrapper`` config (``optimizer.lr`` and
            ``optimizer.weight_decay`` are the base values).
        paramwise_cfg: ``{name substring: dict(lr_mult=1.0, decay_mult=1.0)}``.
    """

    def __init__(self, optim_wrapper_cfg: dict, paramwise_cfg: Optional[dict] = None):
        paramwise_cfg = dict(paramwise_cfg or {})
        for key, mults in paramwise_cfg.items():
            if not isinstance(mults, dict) or set(mults) - set(_MULTS):
                raise ValueError(
                    f'SwinOptimWrapperConstructor: paramwise_cfg.{key} must be a dict with '
                    f'lr_mult and/or decay_mult (paramwise_cfg maps a name substring to '
                    f'multipliers), got {mults!r}; for norm_decay_mult, custom_keys and the '
                    f'like use the DefaultOptimWrapperConstructor'
                )
        super().__init__(optim_wrapper_cfg, paramwise_cfg)

    def add_params(self, params: List[Dict], module: nn.Module, **kwargs) -> None:
        """Append one group per parameter of ``module`` (the recognizer) to ``params``."""
        matched = {key: 0 for key in self.paramwise_cfg}
        for name, param in module.named_parameters():
            group = dict(params=[param])
            if param.requires_grad:
                keys = [key for key in self.paramwise_cfg if key in name]
                for key in keys:
                    matched[key] += 1
                mults = [self.paramwise_cfg[key] for key in keys]
                group['lr'] = self.base_lr * math.prod(m.get('lr_mult', 1.0) for m in mults)
                if self.base_wd is not None:  # None: the optimizer's own default
                    group['weight_decay'] = self.base_wd * math.prod(
                        m.get('decay_mult', 1.0) for m in mults
                    )
            params.append(group)
        print_log(
            'SwinOptimWrapperConstructor: '
            + ', '.join(f'{k} {self.paramwise_cfg[k]} on {n} params' for k, n in matched.items()),
            'current',
        )
