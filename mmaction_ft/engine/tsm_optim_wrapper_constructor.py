"""The TSM training recipe's parameter groups (Lin et al., TSM, ICCV 2019; the learning-rate
policy follows the TSN / TSM reference code, ``get_optim_policies``)."""

from typing import Dict, List, Optional

import torch.nn as nn
from mmengine.optim import DefaultOptimWrapperConstructor

from mmaction_ft.registry import OPTIM_WRAPPER_CONSTRUCTORS

_PARAMWISE_KEYS = ('fc_lr5',)
_NORMS = (nn.modules.batchnorm._BatchNorm, nn.GroupNorm)  # SyncBatchNorm is a _BatchNorm


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class TSMOptimWrapperConstructor(DefaultOptimWrapperConstructor):
    """Seven parameter groups, in MMAction2's order (so its optimizer states resume here):

    ========================  ==========  ============
    group                     lr          weight decay
    ========================  ==========  ============
    first conv weight         lr          wd
    first conv bias           2 x lr      0
    other conv/linear weights lr          wd
    other conv/linear biases  2 x lr      0
    norm layers (BN, GN)      lr          0
    last linear weight        5 x lr      wd           (``fc_lr5=True``; else a normal weight)
    last linear bias          10 x lr     0            (``fc_lr5=True``; else a normal bias)
    ========================  ==========  ============

    "First" and "last" follow ``model.modules()`` order: the first convolution of the backbone
    and the classifier of the head. (MMAction2 takes the last conv *or* linear layer, and the
    last bias of any layer; they differ only for a model ending in a convolution or in a
    bias-free linear layer, where MMAction2 picks a wrong tensor.) A learnable module of any
    other type is an error, so no parameter is silently left out of the optimizer. Without
    ``paramwise_cfg`` all parameters form one group, as with mmengine's default constructor.

    Args:
        optim_wrapper_cfg: The ``optim_wrapper`` config (``optimizer.lr`` and
            ``optimizer.weight_decay`` are the base values).
        paramwise_cfg: ``dict(fc_lr5=True)`` for the 5x / 10x classifier learning rates;
            ``fc_lr5`` is the only key.
    """

    def __init__(self, optim_wrapper_cfg: dict, paramwise_cfg: Optional[dict] = None):
        paramwise_cfg = dict(paramwise_cfg or {})
        unknown = sorted(set(paramwise_cfg) - set(_PARAMWISE_KEYS))
        if unknown:
            raise KeyError(
                f'TSMOptimWrapperConstructor: unknown paramwise_cfg keys {unknown}; the only '
                f'key is fc_lr5 (set constructor=DefaultOptimWrapperConstructor for '
                f'custom_keys and decay multipliers)'
            )
        if not isinstance(paramwise_cfg.get('fc_lr5', False), bool):
            raise TypeError(f'paramwise_cfg.fc_lr5 must be True or False, got {paramwise_cfg}')
        super().__init__(optim_wrapper_cfg, paramwise_cfg)

    def add_params(self, params: List[Dict], module: nn.Module, **kwargs) -> None:
        """Append the seven parameter groups of ``module`` (the model) to ``params``."""
        weights, biases, norms = [], [], []
        first_conv = None
        linears = []
        for name, m in module.named_modules():
            if isinstance(m, nn.modules.conv._ConvNd):
                if first_conv is None:
                    first_conv = m
                    continue
                weights.append(m.weight)
                if m.bias is not None:
                    biases.append(m.bias)
            elif isinstance(m, nn.Linear):
                linears.append(m)
                weights.append(m.weight)
                if m.bias is not None:
                    biases.append(m.bias)
            elif isinstance(m, _NORMS):
                norms += [p for p in m.parameters() if p.requires_grad]
            elif not m._modules and any(True for _ in m.parameters(recurse=False)):
                raise ValueError(
                    f'TSMOptimWrapperConstructor has no learning-rate rule for {name} '
                    f'({type(m).__name__}); use another optim_wrapper.constructor'
                )
        if not linears:
            raise ValueError('TSMOptimWrapperConstructor needs a linear classifier; found none')

        lr5_weight, lr10_bias = [], []
        classifier = linears[-1]
        if self.paramwise_cfg.get('fc_lr5', False):
            lr5_weight.append(classifier.weight)
            weights = [p for p in weights if p is not classifier.weight]
            if classifier.bias is not None:
                lr10_bias.append(classifier.bias)
                biases = [p for p in biases if p is not classifier.bias]
        first_weight = [first_conv.weight] if first_conv is not None else []
        first_bias = (
            [first_conv.bias] if first_conv is not None and first_conv.bias is not None else []
        )

        lr, wd = self.base_lr, self.base_wd
        params += [
            self._group(first_weight, lr, wd),
            self._group(first_bias, lr * 2, 0),
            self._group(weights, lr, wd),
            self._group(biases, lr * 2, 0),
            self._group(norms, lr, 0),
            self._group(lr5_weight, lr * 5, wd),
            self._group(lr10_bias, lr * 10, 0),
        ]

    @staticmethod
    def _group(group_params: List[nn.Parameter], lr: float, weight_decay: Optional[float]) -> Dict:
        group = dict(params=group_params, lr=lr)
        if weight_decay is not None:  # None: the optimizer's own default
            group['weight_decay'] = weight_decay
        return group
