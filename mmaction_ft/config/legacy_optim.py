"""MMAction2 0.x ``optimizer`` / ``optimizer_config`` / ``fp16`` -> mmengine ``optim_wrapper``.

- ``optimizer=dict(type, lr, ..., paramwise_cfg, constructor)`` -> ``optim_wrapper.optimizer``,
  ``optim_wrapper.paramwise_cfg`` and ``optim_wrapper.constructor`` (0.x constructor names
  renamed by :data:`CONSTRUCTORS`).
- ``optimizer_config=dict(grad_clip, cumulative_iters, type=...)`` -> ``optim_wrapper.clip_grad``,
  ``optim_wrapper.accumulative_counts``; an Fp16 hook or ``fp16=dict(loss_scale)`` ->
  ``AmpOptimWrapper``.
"""

from typing import Any

from .checks import check_section_keys
from .dialect import OPTIMIZER_CONFIG_KEYS, OPTIMIZER_HOOKS
from .errors import ConfigError
from .keypaths import MISSING
from .legacy_context import TranslationContext

# 0.x optimizer constructor name -> the registered mmaction_ft (MMAction2 1.x) name. Every value
# must be registered in OPTIM_WRAPPER_CONSTRUCTORS (tests/config/test_legacy_constructors.py).
CONSTRUCTORS = {'TSMOptimizerConstructor': 'TSMOptimWrapperConstructor'}


def translate_optimizer(t: TranslationContext) -> None:
    """``optimizer``, ``optimizer_config`` and ``fp16`` -> ``optim_wrapper``."""
    optimizer = t.pop('optimizer')
    if isinstance(optimizer, dict):
        optimizer = dict(optimizer)
        paramwise_cfg = optimizer.pop('paramwise_cfg', MISSING)
        constructor = optimizer.pop('constructor', MISSING)
        t.write('optimizer', 'optim_wrapper.optimizer', optimizer, how='merge')
        if paramwise_cfg is not MISSING:
            t.write('optimizer.paramwise_cfg', 'optim_wrapper.paramwise_cfg', paramwise_cfg)
        if constructor is not MISSING:
            t.write(
                'optimizer.constructor',
                'optim_wrapper.constructor',
                CONSTRUCTORS.get(constructor, constructor),
            )
    _optimizer_config(t)
    fp16 = t.pop('fp16')
    if isinstance(fp16, dict):
        check_section_keys('fp16', fp16, ('loss_scale',), t.where('fp16'))
        # Fp16OptimizerHook's default static loss scale in mmcv is 512.
        amp = dict(type='AmpOptimWrapper', loss_scale=_loss_scale(fp16.get('loss_scale', 512.0)))
        t.write('fp16', 'optim_wrapper', amp, how='update', clash=['optim_wrapper.type'])
    wrapper = t.cfg.get('optim_wrapper')
    if isinstance(wrapper, dict) and wrapper != t.original.get('optim_wrapper'):
        wrapper.setdefault('type', 'OptimWrapper')


def _optimizer_config(t: TranslationContext) -> None:
    value = t.pop('optimizer_config')
    if value is MISSING:
        return
    value = dict(value or {})
    where = t.where('optimizer_config')
    check_section_keys('optimizer_config', value, OPTIMIZER_CONFIG_KEYS, where)
    hook = value.pop('type', 'OptimizerHook')
    if hook not in OPTIMIZER_HOOKS:
        raise ConfigError(f'optimizer_config.type={hook!r} has no translation{where}')
    if 'Fp16' in hook:
        amp = dict(type='AmpOptimWrapper', loss_scale=_loss_scale(value.get('loss_scale', 512.0)))
        clash = ['optim_wrapper.type']
        t.write('optimizer_config.type', 'optim_wrapper', amp, how='update', clash=clash)
    if 'Cumulative' in hook:
        t.write(
            'optimizer_config.cumulative_iters',
            'optim_wrapper.accumulative_counts',
            value.get('cumulative_iters', 1),
        )
    if 'grad_clip' in value:
        detail = 'no gradient clipping' if value['grad_clip'] is None else ''
        clip = value['grad_clip']
        t.write('optimizer_config.grad_clip', 'optim_wrapper.clip_grad', clip, detail=detail)
    for key in ('coalesce', 'bucket_size_mb', 'detect_anomalous_params'):
        if key in value:
            t.drop(f'optimizer_config.{key}', 'a DistOptimizerHook detail mmengine handles')


def _loss_scale(value: Any) -> Any:
    """mmcv's loss_scale (a number, 'dynamic' or a dict) as AmpOptimWrapper's (GradScaler's)."""
    if not isinstance(value, dict):
        return value
    names = {
        'init_scale': 'init_scale',
        'scale_factor': 'growth_factor',
        'scale_window': 'growth_interval',
    }
    check_section_keys('fp16.loss_scale', value, list(names) + ['mode'])
    return {names[k]: v for k, v in value.items() if k in names}
