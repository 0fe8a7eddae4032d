"""Translate an MMAction2 0.x config (mmcv-runner keys) into the mmengine keys mmaction_ft runs.

Every row of the 0.x -> mmengine table (COMPAT.md section 6) is one rule: model, optimizer and
train-loop rules are methods below; schedules live in :mod:`.legacy_schedule`, data / pipelines /
evaluation in :mod:`.legacy_data`, hooks and environment in :mod:`.legacy_runtime`. Each
translated key is removed from the config and recorded in the :class:`~.report.TranslationReport`.

Mixed dialects (a 0.x file on 1.x ``_base_`` files, or the reverse) follow one rule:

1. One file (or ``--cfg-options``) setting both a 0.x key and its mmengine counterpart is an
   error naming both keys: the intent is ambiguous.
2. Otherwise the translated 0.x value overrides what the merged config holds, which is what a
   user who copies the tutorial's 0.x snippets onto 1.x bases wants ...
3. ... except for mmengine values set by a file that inherits (directly or not) the file that set
   the 0.x key: a 1.x child deliberately overrides its 0.x base, so those values are kept
   (``--cfg-options`` count as the nearest child of all).
"""

import copy
from typing import Any, List, Optional, Sequence, Tuple

from .checks import check_section_keys
from .dialect import (
    LEGACY_KEYS,
    LOOP_CFG_NAMES,
    OPTIMIZER_CONFIG_KEYS,
    OPTIMIZER_HOOKS,
    UNSUPPORTED_LEGACY_KEYS,
    is_model_cfg,
)
from .errors import ConfigError
from .keypaths import MISSING, get_path, join_path, pop_path, set_path, split_path
from .legacy_data import translate_data, translate_evaluation, translate_pipelines
from .legacy_runtime import translate_checkpoint_config, translate_log_config, translate_runtime
from .legacy_schedule import TrainLength, translate_lr_config
from .legacy_warmup import LegacyWarmupLR
from .report import TranslationReport
from .sources import ConfigSources, SourceFile

_WARMUP_MODULE = LegacyWarmupLR.__module__
_CONSTRUCTORS = {'TSMOptimizerConstructor': 'TSMOptimWrapperConstructor'}  # 0.x -> 1.x names
_SCALARS = (int, float, str, bool, type(None))


def translate_legacy(
    cfg: dict, sources: Optional[ConfigSources] = None
) -> Tuple[dict, TranslationReport]:
    """Translate the 0.x keys of a merged config; a pure 1.x config comes back unchanged.

    Args:
        cfg: The merged config as a plain dict (``Config.to_dict()``); it is not modified.
        sources: Which file set which key, for the mixed-dialect rule (module docstring). Without
            it every translated 0.x value overrides.

    Returns:
        The translated config dict and the report of what changed.

    Raises:
        ConfigError: A 0.x key without equivalent, a bad value, or a file setting both dialects.
    """
    translator = LegacyTranslator(cfg, sources)
    translator.run()
    return translator.cfg, translator.report


class LegacyTranslator:
    """Applies the translation rules to one config (see :func:`translate_legacy`).

    Args:
        cfg: The merged config dict (copied).
        sources: Provenance of the keys, or ``None``.
    """

    def __init__(self, cfg: dict, sources: Optional[ConfigSources] = None) -> None:
        self.cfg = copy.deepcopy(cfg)
        self.original = copy.deepcopy(cfg)  # values before translation, for kept 1.x values
        self.sources = sources
        self.report = TranslationReport()
        self.imports: List[str] = []
        self.is_legacy = any(key in cfg for key in LEGACY_KEYS | set(UNSUPPORTED_LEGACY_KEYS))

    def run(self) -> None:
        """Apply every rule, in dependency order (the LR schedule needs the train loop...)."""
        self._unsupported_keys()
        self._top_level_model_cfgs()
        self._model_test_and_train_cfg()
        self._optimizer()
        self._train_loop()
        self._lr_config()
        translate_checkpoint_config(self)
        translate_log_config(self)
        translate_data(self)
        translate_pipelines(self)
        translate_evaluation(self)
        translate_runtime(self)
        self._scope_and_imports()

    # -- helpers shared by the rules ------------------------------------------------------------

    def pop(self, key: str) -> Any:
        """Remove a 0.x key from the config and return its value (``MISSING`` if absent)."""
        return pop_path(self.cfg, key)

    def where(self, key: str) -> str:
        """``' (set in file, line N)'`` for a top-level key, ``''`` when unknown."""
        place = self.sources.where(key) if self.sources else ''
        return f' (set in {place})' if place else ''

    def drop(self, old: str, reason: str) -> None:
        """Record a 0.x key removed without counterpart."""
        self.report.add(old, '(dropped)', reason)

    def write(
        self,
        old: str,
        new: str,
        value: Any,
        *,
        how: str = 'replace',
        clash: Sequence[str] = (),
        detail: str = '',
    ) -> None:
        """Put the translation of 0.x key ``old`` at mmengine path ``new`` (module docstring rule).

        Args:
            old: The 0.x key path the value comes from.
            new: The mmengine key path to write.
            value: The translated value.
            how: ``'replace'`` the value at ``new``; ``'update'`` a dict there key by key; or
                ``'merge'`` dicts recursively unless both have a different ``type`` (then replace).
            clash: mmengine paths that conflict with ``old`` when one file sets both
                (default: ``new``).
            detail: A remark for the report.
        """
        new_path = split_path(new)
        nearer = self._nearer_setters(old, new_path, [split_path(c) for c in clash] or [new_path])
        current = get_path(self.cfg, new_path)
        if any(f.sets_whole(new_path) for f in nearer):
            self.report.add(old, new, f'not applied: {nearer[0].name} sets {new} over this 0.x key')
            return
        result = _combine(current, copy.deepcopy(value), how)
        kept = []
        for source in nearer:
            for leaf in source.opaque_under(new_path):
                kept_value = get_path(self.original, leaf)
                if kept_value is not MISSING and isinstance(result, dict):
                    set_path(result, leaf[len(new_path) :], copy.deepcopy(kept_value))
                    kept.append(f'{join_path(leaf)} from {source.name}')
        remarks = [detail] if detail else []
        if kept:
            remarks.append('kept ' + ', '.join(kept))
        else:
            remarks.append(self._override_remark(new_path, current, value, how))
        set_path(self.cfg, new_path, result)
        self.report.add(old, new, '; '.join(r for r in remarks if r))

    def _nearer_setters(
        self, old: str, new_path: tuple, clash_paths: List[tuple]
    ) -> List[SourceFile]:
        if self.sources is None:
            return []
        old_path = split_path(old)
        for source in self.sources.files():
            if not source.names(old_path):
                continue
            for path in clash_paths:
                if source.names(path):
                    raise ConfigError(
                        f"{source.name} sets both '{old}' (MMAction2 0.x) and "
                        f"'{join_path(path)}' (mmengine), which mean the same thing: keep one"
                    )
        owner = self.sources.owner(old_path)
        if owner is None:
            return []
        return [f for f in self.sources.setters(new_path) if f.inherits_from(owner)]

    def _override_remark(self, new_path: tuple, current: Any, value: Any, how: str) -> str:
        if current is MISSING or current == value:
            return ''
        owner = self.sources.owner(new_path) if self.sources else None
        origin = f' from {owner.name}' if owner else ''
        if how != 'replace' and isinstance(current, dict) and isinstance(value, dict):
            changed = [
                f'{k}={current[k]!r}' if isinstance(current[k], _SCALARS) else k
                for k in value
                if k in current and current[k] != value[k]
            ]
            return f'overrides {", ".join(changed)}{origin}' if changed else ''
        shown = f'={current!r}' if isinstance(current, _SCALARS) else ''
        return f'overrides {join_path(new_path)}{shown}{origin}'

    # -- rules --------------------------------------------------------------------------------

    def _unsupported_keys(self) -> None:
        for key, advice in UNSUPPORTED_LEGACY_KEYS.items():
            value = self.cfg.get(key, MISSING)
            if value is MISSING:
                continue
            if value:
                raise ConfigError(
                    f"'{key}' (MMAction2 0.x) has no mmaction_ft equivalent: {advice}"
                    f'{self.where(key)}'
                )
            self.pop(key)
            self.drop(key, 'empty')

    def _top_level_model_cfgs(self) -> None:
        """0.x configs from before the move kept the recognizer's train_cfg / test_cfg on top."""
        for name in LOOP_CFG_NAMES:
            value = self.cfg.get(name, MISSING)
            if value is MISSING or not is_model_cfg(value):
                continue
            self.pop(name)
            if value is None:
                if self.is_legacy:
                    self.drop(name, 'top-level None is the 0.x recognizer setting, not a loop')
                continue
            model = self.cfg.get('model')
            if name == 'val_cfg' or not isinstance(model, dict):
                self.drop(name, f'{value!r} is not a loop and has no place in the model')
                continue
            merged = dict(model.get(name) or {})
            merged.update(value)
            model[name] = merged
            self.report.add(name, f'model.{name}', 'the 0.x recognizer setting, not a loop')

    def _model_test_and_train_cfg(self) -> None:
        model = self.cfg.get('model')
        if not isinstance(model, dict):
            return
        test_cfg = model.get('test_cfg')
        has_head = isinstance(model.get('cls_head'), dict)
        if isinstance(test_cfg, dict) and 'average_clips' in test_cfg and has_head:
            value = test_cfg.pop('average_clips')
            self.write('model.test_cfg.average_clips', 'model.cls_head.average_clips', value)
            if not test_cfg:
                model['test_cfg'] = None
        train_cfg = model.get('train_cfg')
        if isinstance(train_cfg, dict) and 'blending' in train_cfg:
            value = train_cfg.pop('blending')
            self.write('model.train_cfg.blending', 'model.data_preprocessor.blending', value)
            model.setdefault('data_preprocessor', {}).setdefault('type', 'ActionDataPreprocessor')
            if not train_cfg:
                model['train_cfg'] = None

    def _optimizer(self) -> None:
        optimizer = self.pop('optimizer')
        if isinstance(optimizer, dict):
            optimizer = dict(optimizer)
            paramwise_cfg = optimizer.pop('paramwise_cfg', MISSING)
            constructor = optimizer.pop('constructor', MISSING)
            self.write('optimizer', 'optim_wrapper.optimizer', optimizer, how='merge')
            if paramwise_cfg is not MISSING:
                self.write('optimizer.paramwise_cfg', 'optim_wrapper.paramwise_cfg', paramwise_cfg)
            if constructor is not MISSING:
                self.write(
                    'optimizer.constructor',
                    'optim_wrapper.constructor',
                    _CONSTRUCTORS.get(constructor, constructor),
                )
        self._optimizer_config()
        fp16 = self.pop('fp16')
        if isinstance(fp16, dict):
            check_section_keys('fp16', fp16, ('loss_scale',), self.where('fp16'))
            # Fp16OptimizerHook's default static loss scale in mmcv is 512.
            amp = dict(
                type='AmpOptimWrapper', loss_scale=_loss_scale(fp16.get('loss_scale', 512.0))
            )
            self.write('fp16', 'optim_wrapper', amp, how='update', clash=['optim_wrapper.type'])
        wrapper = self.cfg.get('optim_wrapper')
        if isinstance(wrapper, dict) and wrapper != self.original.get('optim_wrapper'):
            wrapper.setdefault('type', 'OptimWrapper')

    def _optimizer_config(self) -> None:
        value = self.pop('optimizer_config')
        if value is MISSING:
            return
        value = dict(value or {})
        check_section_keys(
            'optimizer_config', value, OPTIMIZER_CONFIG_KEYS, self.where('optimizer_config')
        )
        hook = value.pop('type', 'OptimizerHook')
        if hook not in OPTIMIZER_HOOKS:
            raise ConfigError(
                f'optimizer_config.type={hook!r} has no translation{self.where("optimizer_config")}'
            )
        if 'Fp16' in hook:
            amp = dict(
                type='AmpOptimWrapper', loss_scale=_loss_scale(value.get('loss_scale', 512.0))
            )
            self.write(
                'optimizer_config.type',
                'optim_wrapper',
                amp,
                how='update',
                clash=['optim_wrapper.type'],
            )
        if 'Cumulative' in hook:
            self.write(
                'optimizer_config.cumulative_iters',
                'optim_wrapper.accumulative_counts',
                value.get('cumulative_iters', 1),
            )
        if 'grad_clip' in value:
            detail = 'no gradient clipping' if value['grad_clip'] is None else ''
            self.write(
                'optimizer_config.grad_clip',
                'optim_wrapper.clip_grad',
                value['grad_clip'],
                detail=detail,
            )
        for key in ('coalesce', 'bucket_size_mb', 'detect_anomalous_params'):
            if key in value:
                self.drop(f'optimizer_config.{key}', 'a DistOptimizerHook detail mmengine handles')

    def _train_loop(self) -> None:
        total = self.pop('total_epochs')
        runner = self.pop('runner')
        if isinstance(runner, dict):
            where = self.where('runner')
            check_section_keys('runner', runner, ('type', 'max_epochs', 'max_iters'), where)
            kind = runner.get('type', 'EpochBasedRunner')
            if kind == 'IterBasedRunner':
                if total is not MISSING:
                    raise ConfigError(f'total_epochs and runner=IterBasedRunner contradict{where}')
                if 'max_iters' not in runner:
                    raise ConfigError(f'runner=IterBasedRunner needs runner.max_iters{where}')
                self.write('runner.type', 'train_cfg.type', 'IterBasedTrainLoop')
                self.write('runner.max_iters', 'train_cfg.max_iters', runner['max_iters'])
                self._clean_loop('max_epochs')
                return
            if kind != 'EpochBasedRunner':
                raise ConfigError(
                    f"runner.type={kind!r}: use 'EpochBasedRunner' or 'IterBasedRunner'{where}"
                )
            epochs = runner.get('max_epochs', total if total is not MISSING else None)
            if total not in (MISSING, epochs):
                raise ConfigError(
                    f'total_epochs={total} and runner.max_epochs={epochs} disagree{where}'
                )
            old = 'runner.max_epochs'
        elif total is not MISSING:
            epochs, old = total, 'total_epochs'
        else:
            return
        self.write(old, 'train_cfg.type', 'EpochBasedTrainLoop')
        if epochs is not None:
            self.write(old, 'train_cfg.max_epochs', epochs, clash=['train_cfg.max_epochs'])
        self._clean_loop('max_iters')

    def _clean_loop(self, other_length: str) -> None:
        loop = self.cfg.get('train_cfg')
        if isinstance(loop, dict):
            loop.pop('by_epoch', None)  # superseded by the explicit loop type
            loop.pop(other_length, None)

    def train_length(self) -> TrainLength:
        """The translated train loop's kind and length (for schedules and evaluation)."""
        loop = self.cfg.get('train_cfg') or {}
        by_epoch = loop.get('type', 'EpochBasedTrainLoop') != 'IterBasedTrainLoop' and loop.get(
            'by_epoch', True
        )
        return TrainLength(by_epoch, loop.get('max_epochs' if by_epoch else 'max_iters'))

    def _lr_config(self) -> None:
        lr_config = self.pop('lr_config')
        if lr_config is MISSING:
            return
        if lr_config is None:
            self.write('lr_config', 'param_scheduler', [], detail='no LR hook: constant LR')
            return
        base_lr = get_path(self.cfg, 'optim_wrapper.optimizer.lr', None)
        schedulers, notes = translate_lr_config(lr_config, self.train_length(), base_lr)
        self.write('lr_config', 'param_scheduler', schedulers, detail='; '.join(notes))
        if any(s['type'] == 'LegacyWarmupLR' for s in schedulers):
            self.imports.append(_WARMUP_MODULE)

    def _scope_and_imports(self) -> None:
        if self.report.entries and 'default_scope' not in self.cfg:
            self.cfg['default_scope'] = 'mmaction_ft'
            self.report.add('(none)', "default_scope='mmaction_ft'", 'build mmaction_ft components')
        if self.imports:
            custom = dict(self.cfg.get('custom_imports') or {})
            imports = custom.get('imports') or []
            imports = [imports] if isinstance(imports, str) else list(imports)
            custom['imports'] = imports + [m for m in self.imports if m not in imports]
            custom.setdefault('allow_failed_imports', False)
            self.cfg['custom_imports'] = custom


def _combine(current: Any, value: Any, how: str) -> Any:
    if how == 'replace' or not (isinstance(current, dict) and isinstance(value, dict)):
        return value
    if how == 'update':
        return {**copy.deepcopy(current), **value}
    if 'type' in current and 'type' in value and current['type'] != value['type']:
        return value
    return _deep_merge(copy.deepcopy(current), value)


def _deep_merge(base: dict, override: dict) -> dict:
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _deep_merge(base[key], value)
        else:
            base[key] = value
    return base


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
