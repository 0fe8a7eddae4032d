"""Layer-wise learning-rate decay for finetuning ViT-style backbones (BEiT, Bao et al., ICLR
2022, sec. 2.4; used by the MAE, VideoMAE and MaskFeat finetuning recipes): the deeper a block,
the closer its learning rate is to the base one, so the pretrained early layers move least."""

from typing import Dict, List, Optional

import torch.nn as nn
from mmengine.logging import print_log
from mmengine.optim import DefaultOptimWrapperConstructor

from mmaction_ft.registry import OPTIM_WRAPPER_CONSTRUCTORS

_PARAMWISE_KEYS = ('decay_rate', 'decay_type', 'num_layers')
# The embedding of a ViT / MViT: the parameters before the first block (layer 0).
_EMBEDDING_PARAMS = ('backbone.cls_token', 'backbone.mask_token', 'backbone.pos_embed')
_EMBEDDING_PREFIX = 'backbone.patch_embed'
_BLOCK_PREFIX = 'backbone.blocks.'


def get_layer_id(name: str, num_layers: int) -> int:
    """The layer of a parameter of the recognizer, by its name.

    0 for the embedding (``backbone.patch_embed.*``, ``backbone.cls_token``,
    ``backbone.mask_token``, ``backbone.pos_embed``), ``i + 1`` for ``backbone.blocks.<i>.*``,
    ``num_layers + 1`` for everything else (the final norm, the head). This is MMAction2
    1.2.0's rule for both ``VisionTransformer`` and ``MViT``.
    """
    if name in _EMBEDDING_PARAMS or name.startswith(_EMBEDDING_PREFIX):
        return 0
    if name.startswith(_BLOCK_PREFIX):
        return int(name.split('.')[2]) + 1
    return num_layers + 1


@OPTIM_WRAPPER_CONSTRUCTORS.register_module()
class LearningRateDecayOptimizerConstructor(DefaultOptimWrapperConstructor):
    """Layer-wise learning-rate decay over the blocks of a ViT or MViT backbone.

    A parameter of layer ``layer_id`` (see :func:`get_layer_id`) gets
    ``lr = base_lr * decay_rate ** (num_layers + 1 - layer_id)``: the embedding the smallest,
    block ``i`` ``decay_rate ** (num_layers - i)``, the head and final norm the base LR. 1-D
    parameters (norms, biases, the q/v biases) and every ``.bias`` get no weight decay; the
    others, position embeddings and the class token included, get the optimizer's. Groups are
    ``layer_<id>_decay`` / ``layer_<id>_no_decay`` in the order their first parameter appears in
    the model, and frozen parameters are left out, all as in MMAction2 1.2.0, so its optimizer
    states resume here. (MMAction2's docs describe no ``stage_wise`` decay for these backbones
    and its code refuses it; so does this class.)

    Args:
        optim_wrapper_cfg: The ``optim_wrapper`` config (``optimizer.lr`` and
            ``optimizer.weight_decay`` are the base values).
        paramwise_cfg: ``decay_rate`` (e.g. 0.75), ``num_layers`` (the number of backbone
            blocks) and ``decay_type`` (``'layer_wise'``, the default and only choice).
    """

    def __init__(self, optim_wrapper_cfg: dict, paramwise_cfg: Optional[dict] = None):
        paramwise_cfg = dict(paramwise_cfg or {})
        unknown = sorted(set(paramwise_cfg) - set(_PARAMWISE_KEYS))
        missing = [key for key in ('decay_rate', 'num_layers') if key not in paramwise_cfg]
        if unknown or missing:
            raise KeyError(
                f'LearningRateDecayOptimizerConstructor: paramwise_cfg takes decay_rate, '
                f'num_layers and decay_type; got unknown keys {unknown}, missing {missing}'
            )
        decay_type = paramwise_cfg.setdefault('decay_type', 'layer_wise')
        if decay_type != 'layer_wise':
            raise ValueError(
                f"LearningRateDecayOptimizerConstructor supports decay_type='layer_wise' only "
                f'(as MMAction2 1.2.0), got {decay_type!r}'
            )
        if not 0 < paramwise_cfg['decay_rate'] <= 1:
            raise ValueError(f'paramwise_cfg.decay_rate must be in (0, 1], got {paramwise_cfg}')
        num_layers = paramwise_cfg['num_layers']
        if not isinstance(num_layers, int) or num_layers < 1:
            raise ValueError(f'paramwise_cfg.num_layers must be a positive int, got {num_layers}')
        super().__init__(optim_wrapper_cfg, paramwise_cfg)

    def add_params(self, params: List[Dict], module: nn.Module, **kwargs) -> None:
        """Append the layer groups of ``module`` (the recognizer) to ``params``."""
        num_layers = self.paramwise_cfg['num_layers']
        decay_rate = self.paramwise_cfg['decay_rate']
        for name, m in module.named_modules():
            # The decay recipe comes from LayerNorm transformers; MMAction2 refuses BN too.
            if isinstance(m, nn.modules.batchnorm._NormBase):
                raise ValueError(
                    f'LearningRateDecayOptimizerConstructor does not support batch / instance '
                    f'norm layers; found {name} ({type(m).__name__})'
                )
        named = [(n, p) for n, p in module.named_parameters() if p.requires_grad]
        if not any(n.startswith(_BLOCK_PREFIX) for n, _ in named):
            backbone = type(getattr(module, 'backbone', module)).__name__
            raise ValueError(
                f'LearningRateDecayOptimizerConstructor numbers layers by the parameter names '
                f'of ViT / MViT backbones ({_BLOCK_PREFIX}<i>...); {backbone} has none'
            )

        groups: Dict[str, Dict] = {}
        for name, param in named:
            layer_id = get_layer_id(name, num_layers)
            if name.startswith(_BLOCK_PREFIX) and layer_id > num_layers:
                raise ValueError(
                    f'{name} is block {layer_id - 1} but paramwise_cfg.num_layers={num_layers}; '
                    f'set num_layers to the number of backbone blocks'
                )
            no_decay = param.ndim == 1 or name.endswith('.bias')
            group_name = f'layer_{layer_id}_{"no_decay" if no_decay else "decay"}'
            if group_name not in groups:
                scale = decay_rate ** (num_layers + 1 - layer_id)
                groups[group_name] = dict(
                    params=[], lr=self.base_lr * scale, lr_scale=scale, group_name=group_name
                )
                if no_decay:
                    groups[group_name]['weight_decay'] = 0.0
                elif self.base_wd is not None:  # None: the optimizer's own default
                    groups[group_name]['weight_decay'] = self.base_wd
            groups[group_name]['params'].append(param)

        summary = ', '.join(
            f'{g["group_name"]}: lr {g["lr"]:.3g} ({len(g["params"])} params)'
            for g in groups.values()
        )
        print_log(
            f'layer-wise LR decay {decay_rate} over {num_layers} layers: {summary}', 'current'
        )
        params.extend(groups.values())
