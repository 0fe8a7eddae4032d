r"""Freezing presets and the head's learning-rate multiplier: the config's ``finetune`` key.

::

    finetune = dict(
        preset='linear_probe',  # 'linear_probe' | 'partial' | 'full'
        frozen_stages=2,        # 'partial' only: the backbone's stem and stages 1..2 are frozen
        head_lr_mult=10.0,      # 'partial' / 'full': the head's lr is 10 x the optimizer's lr
    )

- ``linear_probe``: every backbone parameter is frozen (``requires_grad=False``) and the backbone
  runs in eval mode for the whole run (BN statistics, dropout and drop-path as at test time), so
  its tensors, buffers included, end as they were loaded. Only the rest (the head) trains.
- ``partial``: the backbone's own ``frozen_stages`` is set and applied (ResNet-like backbones:
  the stem and stages ``1..frozen_stages``, their BN in eval mode); a backbone without it is an
  error.
- ``full``: nothing is frozen; a backbone ``frozen_stages`` in the model config is an error.

:class:`~mmaction_ft.engine.ActionRunner` applies the preset when it builds the model (before a
DDP wrapper records which parameters train), leaves frozen parameters out of the optimizer (no
weight decay or momentum can touch them), merges ``head_lr_mult`` into
``optim_wrapper.paramwise_cfg.custom_keys`` and adds a :class:`FinetunePresetHook`, which logs
what trains before the first iteration and keeps a probed backbone in eval mode.
"""

import difflib
import numbers
from collections import defaultdict
from typing import Any, Dict, List, Mapping, Optional, Tuple

from mmengine.hooks import Hook
from mmengine.model import is_model_wrapper
from mmengine.optim import OptimWrapper, OptimWrapperDict
from torch import nn
from torch.nn.modules.batchnorm import _NormBase

from mmaction_ft.registry import HOOKS

__all__ = [
    'FINETUNE_PRESETS',
    'FinetunePresetHook',
    'apply_finetune_preset',
    'check_finetune_cfg',
    'drop_frozen_parameters',
    'merge_head_lr_mult',
]

FINETUNE_PRESETS = ('linear_probe', 'partial', 'full')
_FINETUNE_KEYS = ('preset', 'frozen_stages', 'head_lr_mult')
_NORM_LAYERS = (_NormBase, nn.GroupNorm, nn.LayerNorm)  # BatchNorm*d, SyncBN, InstanceNorm, ...
# The module that head_lr_mult scales, as a paramwise_cfg.custom_keys key (a name substring).
HEAD_KEY = 'cls_head'
# Only mmengine's default constructor reads paramwise_cfg.custom_keys; ours take other options.
_CUSTOM_KEYS_CONSTRUCTORS = (None, 'DefaultOptimWrapperConstructor')


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def check_finetune_cfg(finetune: Optional[Mapping]) -> Optional[dict]:
    """The config's ``finetune`` with its defaults, or None when it is not set.

    Raises:
        KeyError: An unknown key (with the closest known one).
        ValueError: A value that is not allowed, naming the key and the value.
    """
    if finetune is None:
        return None
    if not isinstance(finetune, Mapping):
        raise TypeError(
            f"finetune must be a dict such as dict(preset='linear_probe'), got {finetune!r}"
        )
    for key in finetune:
        if key not in _FINETUNE_KEYS:
            close = difflib.get_close_matches(key, _FINETUNE_KEYS, n=1)
            hint = f" (did you mean 'finetune.{close[0]}'?)" if close else ''
            raise KeyError(
                f"unknown key 'finetune.{key}' in config{hint}; known keys: "
                f'{", ".join(_FINETUNE_KEYS)}'
            )
    cfg = {**dict(preset=None, frozen_stages=None, head_lr_mult=None), **finetune}
    preset = cfg['preset']
    if preset not in FINETUNE_PRESETS:
        close = difflib.get_close_matches(str(preset), FINETUNE_PRESETS, n=1)
        hint = f" (did you mean '{close[0]}'?)" if close else ''
        raise ValueError(
            f'finetune.preset must be one of {", ".join(map(repr, FINETUNE_PRESETS))}, got '
            f'{preset!r}{hint}'
        )
    stages = cfg['frozen_stages']
    if preset == 'partial':
        if not isinstance(stages, int) or isinstance(stages, bool) or stages < 0:
            raise ValueError(
                "finetune.frozen_stages must be an int >= 0 with preset='partial' (0: the stem, "
                f'N: the stem and stages 1..N), got {stages!r}'
            )
    elif stages is not None:
        raise ValueError(
            f"finetune.frozen_stages={stages!r} is only read with preset='partial' "
            f'(preset={preset!r}): remove it or use the partial preset'
        )
    mult = cfg['head_lr_mult']
    if mult is not None:
        if not _is_number(mult) or mult <= 0:
            raise ValueError(f'finetune.head_lr_mult must be a number > 0, got {mult!r}')
        if preset == 'linear_probe':
            raise ValueError(
                f"finetune.head_lr_mult={mult!r} has no effect with preset='linear_probe' "
                '(only the head trains): set optim_wrapper.optimizer.lr instead'
            )
    return cfg


def _unwrap(model: nn.Module) -> nn.Module:
    return model.module if is_model_wrapper(model) else model


def _plural(number: int, noun: str) -> str:
    return f'{number} {noun}' + ('' if number == 1 else 's')


def _count(params: List[nn.Parameter]) -> str:
    return f'{sum(p.numel() for p in params):,} parameters ({_plural(len(params), "tensor")})'


def apply_finetune_preset(model: nn.Module, finetune: dict) -> List[str]:
    """Freeze the parts of ``model`` that the preset freezes (before the optimizer is built).

    Args:
        model: The recognizer (``backbone`` and ``cls_head`` attributes), not wrapped.
        finetune: Checked by :func:`check_finetune_cfg`.

    Returns:
        Log lines saying what was frozen.
    """
    preset = finetune['preset']
    backbone = getattr(model, 'backbone', None)
    if not isinstance(backbone, nn.Module):
        raise ValueError(
            f'finetune.preset={preset!r} needs a model with a backbone; '
            f'{type(model).__name__} has none'
        )
    if finetune['head_lr_mult'] is not None and not isinstance(
        getattr(model, HEAD_KEY, None), nn.Module
    ):
        raise ValueError(
            f'finetune.head_lr_mult scales the lr of model.{HEAD_KEY}, which '
            f'{type(model).__name__} does not have'
        )
    name = type(backbone).__name__
    configured = getattr(backbone, 'frozen_stages', None)
    if preset == 'linear_probe':
        params = list(backbone.parameters())
        for param in params:
            param.requires_grad = False
        return [
            f"finetune preset 'linear_probe': backbone ({name}) frozen, "
            f'{_count(params)}; it runs in eval mode for the whole run'
        ]
    if preset == 'full':
        if isinstance(configured, int) and configured >= 0:
            raise ValueError(
                f"finetune.preset='full' trains every parameter, but "
                f'model.backbone.frozen_stages={configured} freezes part of {name}: use '
                f"finetune=dict(preset='partial', frozen_stages={configured}) or "
                'model.backbone.frozen_stages=-1'
            )
        return ["finetune preset 'full': every parameter trains"]
    return [_freeze_stages(backbone, finetune['frozen_stages'], configured)]


def _freeze_stages(backbone: nn.Module, stages: int, configured: Any) -> str:
    """Set and apply ``backbone.frozen_stages`` (the 'partial' preset)."""
    name = type(backbone).__name__
    if configured is None or not callable(getattr(backbone, '_freeze_stages', None)):
        raise ValueError(
            f"finetune.preset='partial' sets the backbone's frozen_stages, which {name} does not "
            "have: use preset='linear_probe' or 'full', or freeze parameters in the backbone's "
            'own config'
        )
    if configured not in (-1, stages):
        raise ValueError(
            f'finetune.frozen_stages={stages} and model.backbone.frozen_stages={configured} '
            'disagree: set it in one place'
        )
    # ResNet, ResNet3d, X3D count their stages in num_stages; Swin in num_layers.
    num_stages = getattr(backbone, 'num_stages', getattr(backbone, 'num_layers', None))
    if isinstance(num_stages, int) and stages > num_stages:
        raise ValueError(
            f'finetune.frozen_stages must be 0 to {num_stages} for {name} (its stages), '
            f'got {stages}'
        )
    backbone.frozen_stages = stages
    backbone._freeze_stages()
    frozen = [p for p in backbone.parameters() if not p.requires_grad]
    parts = 'the stem' + (f' and stages 1..{stages}' if stages else '')
    return (
        f"finetune preset 'partial': {name} frozen_stages={stages} ({parts}), "
        f'{_count(frozen)} frozen; the frozen stages run in eval mode'
    )


def merge_head_lr_mult(optim_wrapper: Any, head_lr_mult: Optional[float]) -> Any:
    """``optim_wrapper`` (a config dict) with ``paramwise_cfg.custom_keys['cls_head']`` set to
    ``lr_mult=head_lr_mult``; a user's other ``paramwise_cfg`` entries are kept.

    Raises:
        ValueError: When the optimizer wrapper is already built, its constructor does not read
            ``custom_keys``, or ``custom_keys['cls_head']`` sets another ``lr_mult``.
    """
    if head_lr_mult is None:
        return optim_wrapper
    if not isinstance(optim_wrapper, Mapping):
        raise ValueError(
            'finetune.head_lr_mult is merged into the optim_wrapper config, but the runner got '
            f'a built {type(optim_wrapper).__name__}: pass optim_wrapper as a dict'
        )
    constructor = optim_wrapper.get('constructor')
    if constructor not in _CUSTOM_KEYS_CONSTRUCTORS:
        raise ValueError(
            f'finetune.head_lr_mult needs paramwise_cfg.custom_keys, which '
            f'optim_wrapper.constructor={constructor!r} does not read: remove head_lr_mult and '
            "use that constructor's own options"
        )
    paramwise = dict(optim_wrapper.get('paramwise_cfg') or {})
    custom_keys = dict(paramwise.get('custom_keys') or {})
    head = dict(custom_keys.get(HEAD_KEY) or {})
    if 'lr_mult' in head and head['lr_mult'] != head_lr_mult:
        raise ValueError(
            f'finetune.head_lr_mult={head_lr_mult!r} and '
            f"optim_wrapper.paramwise_cfg.custom_keys['{HEAD_KEY}'].lr_mult={head['lr_mult']!r} "
            'disagree: set it in one place'
        )
    custom_keys[HEAD_KEY] = {**head, 'lr_mult': head_lr_mult}
    paramwise['custom_keys'] = custom_keys
    return {**optim_wrapper, 'paramwise_cfg': paramwise}


def _optimizers(optim_wrapper: Any) -> List[Any]:
    if isinstance(optim_wrapper, OptimWrapperDict):
        return [wrapper.optimizer for wrapper in optim_wrapper.optim_wrappers.values()]
    if isinstance(optim_wrapper, OptimWrapper):
        return [optim_wrapper.optimizer]
    return []


def drop_frozen_parameters(optim_wrapper: Any) -> int:
    """Take every ``requires_grad=False`` parameter out of the optimizer's groups (and the
    groups left empty), so that weight decay and momentum cannot move it.

    mmengine's constructors put frozen parameters into the optimizer as well. Call this before
    the parameter schedulers and a resumed optimizer state see the groups.

    Returns:
        How many tensors were taken out.
    """
    dropped = 0
    for optimizer in _optimizers(optim_wrapper):
        groups = []
        for group in optimizer.param_groups:
            params = [p for p in group['params'] if p.requires_grad]
            dropped += len(group['params']) - len(params)
            if params:
                groups.append({**group, 'params': params})
        if not groups:
            raise ValueError(
                'the finetune preset froze every parameter the optimizer has: nothing would train'
            )
        optimizer.param_groups = groups
    return dropped


def _top_level_names(model: nn.Module) -> Dict[int, str]:
    """``id(parameter)`` -> the name of the model's child that holds it."""
    return {id(param): name.split('.', 1)[0] for name, param in model.named_parameters()}


def trainable_summary(model: nn.Module) -> List[str]:
    """One line per top-level module with parameters: trainable and frozen counts, and how
    many of its norm layers are in eval mode."""
    lines = []
    for name, child in model.named_children():
        params = list(child.parameters())
        if not params:
            continue
        trainable = [p for p in params if p.requires_grad]
        frozen = [p for p in params if not p.requires_grad]
        norms = [
            m for m in child.modules() if isinstance(m, (_NormBase, nn.GroupNorm, nn.LayerNorm))
        ]
        in_eval = sum(not m.training for m in norms)
        lines.append(
            f'  {name}: trainable {_count(trainable)}, frozen {_count(frozen)}, '
            f'norm layers in eval mode {in_eval}/{len(norms)}'
        )
    return lines


def param_group_summary(model: nn.Module, optim_wrapper: Any) -> List[str]:
    """One line per setting of the optimizer's groups: how many groups, tensors and parameters
    have this lr (and weight decay), and which top-level modules they belong to.

    mmengine's constructor makes one group per tensor when ``paramwise_cfg`` is set: groups with
    equal settings are counted together.
    """
    owners = _top_level_names(model)
    lines = []
    for optimizer in _optimizers(optim_wrapper):
        settings: Dict[Tuple, Dict[str, Any]] = defaultdict(
            lambda: dict(groups=0, tensors=0, numel=0, modules=set())
        )
        for group in optimizer.param_groups:
            # initial_lr: the lr the schedulers start from (set when they were built).
            key = (group.get('initial_lr', group['lr']), group['lr'], group.get('weight_decay'))
            entry = settings[key]
            entry['groups'] += 1
            entry['tensors'] += len(group['params'])
            entry['numel'] += sum(p.numel() for p in group['params'])
            entry['modules'].update(owners.get(id(p), '?') for p in group['params'])
        groups = _plural(len(optimizer.param_groups), 'group')
        lines.append(f'optimizer {type(optimizer).__name__}: {groups} of parameters, by setting:')
        for (base_lr, lr, decay), entry in sorted(settings.items(), key=lambda kv: kv[0][0]):
            now = f' (now {lr:g}: param_scheduler)' if lr != base_lr else ''
            decay_text = f', weight_decay {decay:g}' if decay is not None else ''
            lines.append(
                f'  lr {base_lr:g}{now}{decay_text}: {_plural(entry["groups"], "group")}, '
                f'{_plural(entry["tensors"], "tensor")}, {entry["numel"]:,} parameters '
                f'({", ".join(sorted(entry["modules"]))})'
            )
    return lines


@HOOKS.register_module()
class FinetunePresetHook(Hook):
    """Logs what trains before the first iteration; keeps a probed backbone in eval mode.

    :class:`~mmaction_ft.engine.ActionRunner` adds it when the config has ``finetune``. The
    train loop calls ``model.train()`` at the start of every epoch (after ``before_train_epoch``),
    so the backbone of a linear probe is put back in eval mode before each iteration.

    Args:
        preset: ``finetune.preset``.
    """

    priority = 'VERY_HIGH'

    def __init__(self, preset: str = 'full') -> None:
        if preset not in FINETUNE_PRESETS:
            raise ValueError(f'FinetunePresetHook preset must be one of {FINETUNE_PRESETS}')
        self.preset = preset

    def before_train(self, runner) -> None:
        model = _unwrap(runner.model)
        model.train()  # as the loop will: the log shows the modes training runs in
        self._probe_backbone_in_eval(model)
        lines = [f"finetune preset '{self.preset}', parameters by module:"]
        lines += trainable_summary(model)
        lines += param_group_summary(model, runner.optim_wrapper)
        runner.logger.info('\n'.join(lines))

    def before_train_iter(self, runner, batch_idx: int, data_batch: Any = None) -> None:
        self._probe_backbone_in_eval(_unwrap(runner.model))

    def _probe_backbone_in_eval(self, model: nn.Module) -> None:
        if self.preset == 'linear_probe' and model.backbone.training:
            model.backbone.eval()
