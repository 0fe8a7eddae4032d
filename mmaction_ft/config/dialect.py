"""What makes a config key MMAction2 0.x rather than mmengine (1.x): the facts both sides share.

The translation (:mod:`.legacy`), the provenance reader (:mod:`.sources`) and the unknown-key check
(:mod:`.checks`) all decide "is this 0.x?" with the names and rules below.
"""

from typing import Any

# Top-level keys of an MMAction2 0.x (mmcv runner) config that mmaction_ft translates.
# fmt: off
LEGACY_KEYS = frozenset({
    'optimizer', 'optimizer_config', 'fp16', 'lr_config', 'total_epochs', 'runner',
    'checkpoint_config', 'log_config', 'evaluation', 'data', 'workflow', 'resume_from',
    'dist_params', 'cudnn_benchmark', 'opencv_num_threads', 'mp_start_method', 'gpu_ids',
    'find_unused_parameters',
})
# fmt: on

# 0.x keys with no mmaction_ft equivalent: a config that sets them fails with this advice.
UNSUPPORTED_LEGACY_KEYS = {
    'momentum_config': 'momentum schedules: write param_scheduler entries of type '
    "'MultiStepMomentum' / 'CosineAnnealingMomentum' ...",
    'precise_bn': 'PreciseBN is not implemented; remove the key',
    'omnisource': 'OmniSource training is not supported; remove the key',
    'module_hooks': 'module hooks are not supported; use custom_hooks',
    'eval_config': 'pass metrics through test_evaluator instead',
    'output_config': 'use tools/test.py --dump results.pkl instead',
}

# In 1.x, top-level train_cfg / val_cfg / test_cfg configure loops; 0.x configs written before
# the keys moved into `model` carry the recognizer's train_cfg / test_cfg at the top level.
LOOP_CFG_NAMES = ('train_cfg', 'val_cfg', 'test_cfg')
LOOP_KEYS = frozenset({
    'type', 'by_epoch', 'max_epochs', 'max_iters', 'val_begin', 'val_interval',
    'dynamic_intervals', 'fp16',
})  # fmt: skip

# fmt: off
# The arguments each 0.x section accepted (mmcv's hooks), for unknown-key errors.
OPTIMIZER_CONFIG_KEYS = ('type', 'grad_clip', 'cumulative_iters', 'loss_scale', 'coalesce',
                         'bucket_size_mb', 'detect_anomalous_params')
OPTIMIZER_HOOKS = ('OptimizerHook', 'DistOptimizerHook', 'Fp16OptimizerHook',
                   'DistFp16OptimizerHook', 'GradientCumulativeOptimizerHook',
                   'GradientCumulativeFp16OptimizerHook')
CHECKPOINT_CONFIG_KEYS = ('interval', 'by_epoch', 'save_optimizer', 'out_dir', 'max_keep_ckpts',
                          'save_last', 'file_client_args', 'create_symlink', 'sync_buffer', 'meta')
LOG_CONFIG_KEYS = ('interval', 'hooks', 'by_epoch', 'ignore_last', 'interval_exp_name',
                   'reset_flag')
# fmt: on


def is_model_cfg(value: Any) -> bool:
    """Whether a top-level ``train_cfg`` / ``val_cfg`` / ``test_cfg`` value has the 0.x meaning.

    ``None`` and a non-empty dict without any loop key (``dict(average_clips=None)``) are the
    recognizer's settings; a dict with a loop key, or the empty dict (a default ``TestLoop``), is
    a 1.x loop.
    """
    if value is None:
        return True
    return isinstance(value, dict) and bool(value) and not (set(value) & LOOP_KEYS)
