"""MMAction2 0.x training length and LR schedule -> mmengine ``train_cfg`` and ``param_scheduler``.

``total_epochs`` or ``runner=dict(type='EpochBasedRunner', max_epochs=N)`` becomes an
``EpochBasedTrainLoop``, ``runner=dict(type='IterBasedRunner', max_iters=N)`` an
``IterBasedTrainLoop``. ``lr_config`` is translated value for value.

0.x (mmcv ``LrUpdaterHook``) computes a *regular* LR from the epoch (or iteration) counted from
the start of training and, during warmup, multiplies it by a warmup factor of the iteration. The
translation keeps both parts starting at step 0 and relies on mmengine chaining schedulers
multiplicatively, which reproduces the 0.x numbers exactly for step / fixed / exp / poly policies
and for cosine annealing with ``min_lr=0``:

- ``policy='step', step=[a, b], gamma=g`` -> ``MultiStepLR(milestones=[a, b], gamma=g)``;
  ``step=n`` -> ``StepLR(step_size=n)``; ``step=[]`` or ``policy='fixed'`` -> no scheduler.
- ``policy='CosineAnnealing', min_lr=m`` -> ``CosineAnnealingLR(T_max=max_epochs, eta_min=m)``.
- ``policy='exp', gamma=g`` -> ``ExponentialLR(gamma=g)``.
- ``policy='poly', power=p, min_lr=m`` -> ``PolyLR(power=p, eta_min=m, end=max_epochs + 1)``.
- ``warmup='linear' | 'constant', warmup_iters=N`` -> ``LinearLR`` / ``ConstantLR`` with
  ``end=N + 1`` (they reach the full LR at ``end - 1``, 0.x at ``N``).
- ``warmup='exp'`` or ``warmup_by_epoch=True`` -> ``LegacyWarmupLR``
  (:mod:`mmaction_ft.engine.legacy_warmup_lr`).

``by_epoch=False`` keeps a regular schedule per iteration; cosine annealing then spans all
iterations via ``convert_to_iter_based``.
"""

from typing import List, Optional, Tuple

from .checks import check_section_keys
from .errors import ConfigError
from .keypaths import MISSING, get_path
from .legacy_context import TrainLength, TranslationContext
from .legacy_warmup import WARMUP_MODES
from .legacy_warmup import __name__ as _WARMUP_MODULE

_COMMON_ARGS = ('policy', 'by_epoch', 'warmup', 'warmup_iters', 'warmup_ratio', 'warmup_by_epoch')
_POLICY_ARGS = {
    'Step': ('step', 'gamma', 'min_lr'),
    'CosineAnnealing': ('min_lr', 'min_lr_ratio'),
    'Exp': ('gamma',),
    'Poly': ('power', 'min_lr'),
    'Fixed': (),
}


def translate_train_loop(t: TranslationContext) -> None:
    """``total_epochs`` / ``runner`` -> ``train_cfg`` (an epoch- or iteration-based loop)."""
    total = t.pop('total_epochs')
    runner = t.pop('runner')
    if isinstance(runner, dict):
        where = t.where('runner')
        check_section_keys('runner', runner, ('type', 'max_epochs', 'max_iters'), where)
        kind = runner.get('type', 'EpochBasedRunner')
        if kind == 'IterBasedRunner':
            if total is not MISSING:
                raise ConfigError(f'total_epochs and runner=IterBasedRunner contradict{where}')
            if 'max_iters' not in runner:
                raise ConfigError(f'runner=IterBasedRunner needs runner.max_iters{where}')
            t.write('runner.type', 'train_cfg.type', 'IterBasedTrainLoop')
            t.write('runner.max_iters', 'train_cfg.max_iters', runner['max_iters'])
            _clean_loop(t, 'max_epochs')
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
    t.write(old, 'train_cfg.type', 'EpochBasedTrainLoop')
    if epochs is not None:
        t.write(old, 'train_cfg.max_epochs', epochs, clash=['train_cfg.max_epochs'])
    _clean_loop(t, 'max_iters')


def _clean_loop(t: TranslationContext, other_length: str) -> None:
    loop = t.cfg.get('train_cfg')
    if isinstance(loop, dict):
        loop.pop('by_epoch', None)  # superseded by the explicit loop type
        loop.pop(other_length, None)


def translate_lr_schedule(t: TranslationContext) -> None:
    """``lr_config`` -> ``param_scheduler`` (needs the translated train loop and optimizer)."""
    lr_config = t.pop('lr_config')
    if lr_config is MISSING:
        return
    if lr_config is None:
        t.write('lr_config', 'param_scheduler', [], detail='no LR hook: constant LR')
        return
    base_lr = get_path(t.cfg, 'optim_wrapper.optimizer.lr', None)
    schedulers, notes = translate_lr_config(lr_config, t.train_length(), base_lr)
    t.write('lr_config', 'param_scheduler', schedulers, detail='; '.join(notes))
    if any(s['type'] == 'LegacyWarmupLR' for s in schedulers):
        t.imports.append(_WARMUP_MODULE)  # registers LegacyWarmupLR


def translate_lr_config(
    lr_config: dict, train: TrainLength, base_lr: Optional[float] = None
) -> Tuple[List[dict], List[str]]:
    """Translate a 0.x ``lr_config`` into ``param_scheduler`` entries.

    Args:
        lr_config: The 0.x ``lr_config`` dict.
        train: The length of training, needed by cosine and poly annealing.
        base_lr: The optimizer's LR, to tell whether a step policy's ``min_lr`` ever applies.

    Returns:
        The scheduler configs (warmup first) and remarks for the translation report.

    Raises:
        ConfigError: For an unknown policy or argument, or a setting mmengine cannot reproduce.
    """
    cfg = dict(lr_config)
    policy = cfg.get('policy')
    if not isinstance(policy, str):
        raise ConfigError("lr_config.policy is required (e.g. policy='step')")
    # mmcv's rule: an all-lower-case policy name is title-cased ('step' -> 'Step').
    name = policy.title() if policy == policy.lower() else policy
    if name not in _POLICY_ARGS:
        raise ConfigError(
            f"lr_config.policy={policy!r} has no translation; supported: 'step', 'fixed', "
            "'CosineAnnealing', 'exp', 'poly' (or write param_scheduler in mmengine style)"
        )
    check_section_keys('lr_config', cfg, _COMMON_ARGS + _POLICY_ARGS[name])
    notes: List[str] = []
    main = _regular_schedule(name, cfg, train, base_lr, notes)
    warmup = _warmup(cfg, notes)
    if warmup and name == 'CosineAnnealing' and (cfg.get('min_lr') or cfg.get('min_lr_ratio')):
        notes.append(
            'cosine with min_lr > 0 chained with warmup: while both change the LR it can differ '
            'slightly from 0.x'
        )
    return warmup + main, notes


def _regular_schedule(
    name: str, cfg: dict, train: TrainLength, base_lr: Optional[float], notes: List[str]
) -> List[dict]:
    by_epoch = cfg.get('by_epoch', True)
    if name == 'Fixed':
        return []
    if name == 'Step':
        if 'step' not in cfg:
            raise ConfigError("lr_config.step is required with policy='step'")
        step, gamma = cfg['step'], cfg.get('gamma', 0.1)
        _check_step_min_lr(cfg.get('min_lr'), step, gamma, train, base_lr, notes)
        if isinstance(step, int):
            return [dict(type='StepLR', step_size=step, gamma=gamma, by_epoch=by_epoch)]
        if not step:
            return []
        return [dict(type='MultiStepLR', milestones=list(step), gamma=gamma, by_epoch=by_epoch)]
    if name == 'Exp':
        if 'gamma' not in cfg:
            raise ConfigError("lr_config.gamma is required with policy='exp'")
        return [dict(type='ExponentialLR', gamma=cfg['gamma'], by_epoch=by_epoch)]
    length = _require_length(name, train)
    if name == 'CosineAnnealing':
        if ('min_lr' in cfg) == ('min_lr_ratio' in cfg):
            raise ConfigError(
                'lr_config: CosineAnnealing needs exactly one of min_lr, min_lr_ratio'
            )
        floor = (
            dict(eta_min=cfg['min_lr'])
            if 'min_lr' in cfg
            else dict(eta_min_ratio=cfg['min_lr_ratio'])
        )
        scheduler = dict(type='CosineAnnealingLR', T_max=length, **floor, begin=0, end=length)
        if not train.by_epoch:
            return [dict(scheduler, by_epoch=False)]
        if by_epoch:
            return [dict(scheduler, by_epoch=True)]
        # 0.x anneals over max_iters = max_epochs * iterations per epoch.
        return [dict(scheduler, by_epoch=True, convert_to_iter_based=True)]
    # Poly: mmengine's PolyLR reaches eta_min at step end - 1, 0.x at max_epochs (or max_iters).
    if train.by_epoch and not by_epoch:
        raise ConfigError(
            "lr_config: policy='poly' with by_epoch=False in an epoch-based run cannot be "
            'reproduced (it needs the number of iterations per epoch); write param_scheduler'
        )
    return [
        dict(
            type='PolyLR',
            power=cfg.get('power', 1.0),
            eta_min=cfg.get('min_lr', 0.0),
            begin=0,
            end=length + 1,
            by_epoch=train.by_epoch,
        )
    ]


def _require_length(name: str, train: TrainLength) -> int:
    if train.length is None:
        unit = 'total_epochs (or runner.max_epochs)' if train.by_epoch else 'runner.max_iters'
        raise ConfigError(f'lr_config: policy {name!r} needs the training length: set {unit}')
    return train.length


def _check_step_min_lr(
    min_lr: Optional[float],
    step,
    gamma: float,
    train: TrainLength,
    base_lr: Optional[float],
    notes: List[str],
) -> None:
    """A step ``min_lr`` is dropped only if the LR never falls below it (mmengine has no floor)."""
    if min_lr is None:
        return
    if isinstance(step, int):
        decays = None if train.length is None else max(train.length - 1, 0) // step
    else:
        decays = sum(1 for s in step if train.length is None or s < train.length)
    if base_lr is not None and decays is not None and base_lr * gamma**decays >= min_lr:
        notes.append(f'min_lr={min_lr} is never reached: dropped')
        return
    raise ConfigError(
        f'lr_config.min_lr={min_lr} would clamp the step schedule, which mmengine cannot do; '
        'remove min_lr or write param_scheduler'
    )


def _warmup(cfg: dict, notes: List[str]) -> List[dict]:
    mode = cfg.get('warmup')
    if mode is None:
        return []
    if mode not in WARMUP_MODES:
        raise ConfigError(f'lr_config.warmup={mode!r}: must be one of {WARMUP_MODES} or None')
    length = cfg.get('warmup_iters')
    if not isinstance(length, int) or length <= 0:
        raise ConfigError(f'lr_config.warmup_iters must be a positive int, got {length!r}')
    ratio = cfg.get('warmup_ratio', 0.1)
    if not 0 < ratio <= 1:
        raise ConfigError(f'lr_config.warmup_ratio must be in (0, 1], got {ratio!r}')
    if cfg.get('warmup_by_epoch', False):
        # 0.x still warms up per iteration, over warmup_iters * iterations-per-epoch iterations.
        notes.append(f'{mode} warmup over {length} epochs, updated every iteration')
        return [
            dict(
                type='LegacyWarmupLR',
                mode=mode,
                ratio=ratio,
                begin=0,
                end=length,
                by_epoch=True,
                convert_to_iter_based=True,
            )
        ]
    if mode == 'exp':
        notes.append(f'exp warmup over {length} iterations')
        return [
            dict(
                type='LegacyWarmupLR', mode='exp', ratio=ratio, begin=0, end=length, by_epoch=False
            )
        ]
    # mmengine's LinearLR / ConstantLR reach the full LR at step end - 1; 0.x at warmup_iters.
    notes.append(f'{mode} warmup over {length} iterations: end={length} + 1 matches 0.x')
    if mode == 'linear':
        return [
            dict(
                type='LinearLR',
                start_factor=ratio,
                end_factor=1.0,
                begin=0,
                end=length + 1,
                by_epoch=False,
            )
        ]
    return [dict(type='ConstantLR', factor=ratio, begin=0, end=length + 1, by_epoch=False)]
