"""MMAction2 0.x runtime keys -> mmengine hooks, visualizer and environment.

- ``checkpoint_config=dict(interval, max_keep_ckpts, ...)`` -> ``default_hooks.checkpoint``.
- ``log_config=dict(interval, hooks=[TextLoggerHook, TensorboardLoggerHook, ...])`` ->
  ``default_hooks.logger`` and one ``visualizer.vis_backends`` entry per logger hook.
- ``resume_from=P`` -> ``load_from=P, resume=True``; ``workflow`` and ``gpu_ids`` are dropped;
  ``dist_params``, ``cudnn_benchmark``, ``opencv_num_threads``, ``mp_start_method`` -> ``env_cfg``;
  ``find_unused_parameters`` -> ``model_wrapper_cfg``.
"""

from typing import Optional

from .checks import check_section_keys
from .dialect import CHECKPOINT_CONFIG_KEYS, LOG_CONFIG_KEYS
from .errors import ConfigError
from .keypaths import MISSING
from .legacy_context import TranslationContext


def translate_checkpoint_config(t: TranslationContext) -> None:
    """``checkpoint_config`` -> ``default_hooks.checkpoint`` (updating an inherited hook)."""
    value = t.pop('checkpoint_config')
    if value is MISSING:
        return
    if value is None:
        t.write('checkpoint_config', 'default_hooks.checkpoint', None, detail='no checkpoints')
        return
    hook = dict(value)
    check_section_keys(
        'checkpoint_config', hook, CHECKPOINT_CONFIG_KEYS, t.where('checkpoint_config')
    )
    dropped = {
        'create_symlink': 'mmengine keeps a last_checkpoint file instead',
        'sync_buffer': 'default_hooks.sync_buffers does this',
        'meta': 'the runner writes the checkpoint meta',
    }
    for key, reason in dropped.items():
        if key in hook:
            hook.pop(key)
            t.drop(f'checkpoint_config.{key}', reason)
    hook['type'] = 'CheckpointHook'
    t.write('checkpoint_config', 'default_hooks.checkpoint', hook, how='update')


def translate_log_config(t: TranslationContext) -> None:
    """``log_config`` -> ``default_hooks.logger`` and visualizer backends."""
    value = t.pop('log_config')
    if not isinstance(value, dict):
        return
    check_section_keys('log_config', value, LOG_CONFIG_KEYS, t.where('log_config'))
    logger = {k: value[k] for k in ('interval', 'ignore_last', 'interval_exp_name') if k in value}
    logger['type'] = 'LoggerHook'
    t.write('log_config.interval', 'default_hooks.logger', logger, how='update')
    if 'by_epoch' in value:
        t.write('log_config.by_epoch', 'log_processor.by_epoch', value['by_epoch'])
    if 'reset_flag' in value:
        t.drop('log_config.reset_flag', 'mmengine smooths logs with log_processor.window_size')
    backends = [_vis_backend(hook) for hook in value.get('hooks') or []]
    backends = [b for b in backends if b is not None]
    if not backends:
        return
    visualizer = t.cfg.get('visualizer') or {}
    current = list(visualizer.get('vis_backends') or [dict(type='LocalVisBackend')])
    known = {b.get('type') for b in current}
    merged = current + [b for b in backends if b['type'] not in known]
    t.write('log_config.hooks', 'visualizer.vis_backends', merged)
    t.cfg['visualizer'].setdefault('type', 'Visualizer')


def translate_runtime(t: TranslationContext) -> None:
    """Resume, environment and dropped keys."""
    if t.pop('workflow') is not MISSING:
        t.drop('workflow', 'validation runs in the val loop every train_cfg.val_interval')
    if t.pop('gpu_ids') is not MISSING:
        t.drop('gpu_ids', 'devices come from the launcher (tools/dist_train.sh)')
    resume_from = t.pop('resume_from')
    if resume_from not in (MISSING, None):
        t.write('resume_from', 'load_from', resume_from, clash=['resume'])
        t.write('resume_from', 'resume', True)
    elif resume_from is None:
        t.drop('resume_from', 'None: no resume')
    env = {
        'dist_params': 'env_cfg.dist_cfg',
        'cudnn_benchmark': 'env_cfg.cudnn_benchmark',
        'opencv_num_threads': 'env_cfg.mp_cfg.opencv_num_threads',
        'mp_start_method': 'env_cfg.mp_cfg.mp_start_method',
    }
    for old, new in env.items():
        value = t.pop(old)
        if value is not MISSING:
            t.write(old, new, value, how='update')
    unused = t.pop('find_unused_parameters')
    if unused is not MISSING:
        t.write(
            'find_unused_parameters',
            'model_wrapper_cfg',
            dict(type='MMDistributedDataParallel', find_unused_parameters=unused),
            how='update',
        )


def _vis_backend(hook: dict) -> Optional[dict]:
    kind = hook.get('type')
    if kind == 'TextLoggerHook':
        return None  # LoggerHook writes the text log
    if kind == 'TensorboardLoggerHook':
        return dict(type='TensorboardVisBackend')
    if kind == 'WandbLoggerHook':
        return dict(type='WandbVisBackend', init_kwargs=hook.get('init_kwargs'))
    if kind == 'MlflowLoggerHook':
        return dict(type='MLflowVisBackend', exp_name=hook.get('exp_name'))
    raise ConfigError(
        f'log_config.hooks: {kind!r} has no translation; supported: TextLoggerHook, '
        'TensorboardLoggerHook, WandbLoggerHook, MlflowLoggerHook'
    )
