"""Translated LR schedules give the LR MMAction2 0.x (mmcv's LrUpdaterHook) used, iteration by
iteration: the mmengine schedulers are built and stepped as the Runner's ParamSchedulerHook does."""

import math

import pytest
import torch
from legacy_cfg_fixtures import mmengine_lrs

from mmaction_ft.config import LegacyWarmupLR, translate_legacy

BASE_LR = 0.01
EPOCHS = 6
ITERS = 4  # per epoch


def legacy_lrs(lr_config, epochs=EPOCHS, iters=ITERS, base_lr=BASE_LR):
    """The LR of every training iteration under 0.x, from mmcv's LrUpdaterHook formulas."""
    cfg = dict(lr_config)
    policy = cfg['policy'].lower()
    by_epoch = cfg.get('by_epoch', True)
    mode, ratio = cfg.get('warmup'), cfg.get('warmup_ratio', 0.1)
    warmup_iters = cfg.get('warmup_iters', 0) * (iters if cfg.get('warmup_by_epoch') else 1)

    def regular(progress, max_progress):
        if policy == 'step':
            step, gamma = cfg['step'], cfg.get('gamma', 0.1)
            exp = progress // step if isinstance(step, int) else sum(s <= progress for s in step)
            return base_lr * gamma**exp
        if policy == 'cosineannealing':
            target = cfg.get('min_lr', base_lr * cfg.get('min_lr_ratio', 0))
            return target + 0.5 * (base_lr - target) * (
                1 + math.cos(math.pi * progress / max_progress)
            )
        if policy == 'exp':
            return base_lr * cfg['gamma'] ** progress
        if policy == 'poly':
            min_lr = cfg.get('min_lr', 0.0)
            return (base_lr - min_lr) * (1 - progress / max_progress) ** cfg.get(
                'power', 1.0
            ) + min_lr
        return base_lr  # fixed

    def warmup(k):
        if mode == 'linear':
            return 1 - (1 - k / warmup_iters) * (1 - ratio)
        if mode == 'constant':
            return ratio
        return ratio ** (1 - k / warmup_iters)

    lrs = []
    for epoch in range(epochs):
        for i in range(iters):
            it = epoch * iters + i
            progress = (epoch, epochs) if by_epoch else (it, epochs * iters)
            lr = regular(*progress)
            lrs.append(lr * warmup(it) if mode and it < warmup_iters else lr)
    return lrs


def stepped_lrs(param_scheduler, epochs=EPOCHS, iters=ITERS, base_lr=BASE_LR):
    return mmengine_lrs(param_scheduler, epochs, iters, base_lr)


def translated(lr_config, epochs=EPOCHS):
    cfg = dict(optimizer=dict(type='SGD', lr=BASE_LR), total_epochs=epochs, lr_config=lr_config)
    out, _ = translate_legacy(cfg)
    return out['param_scheduler']


CASES = {
    'step': dict(policy='step', step=[2, 4]),
    'step-int': dict(policy='step', step=2, gamma=0.5),
    'step-by-iter': dict(policy='step', step=[5, 13], by_epoch=False),
    'fixed': dict(policy='fixed'),
    'cosine': dict(policy='CosineAnnealing', min_lr=0),
    'cosine-min-lr': dict(policy='CosineAnnealing', min_lr=1e-4),
    'cosine-by-iter': dict(policy='CosineAnnealing', min_lr_ratio=0.1, by_epoch=False),
    'exp': dict(policy='exp', gamma=0.8),
    'exp-by-iter': dict(policy='exp', gamma=0.95, by_epoch=False),
    'poly': dict(policy='poly', power=0.9, min_lr=1e-4),
}
WARMUPS = {
    f'{mode}-{unit}': dict(
        warmup=mode, warmup_ratio=0.2, warmup_iters=length, warmup_by_epoch=by_epoch
    )
    for mode in ('linear', 'constant', 'exp')
    for unit, length, by_epoch in (('iters', 6, False), ('epochs', 2, True))
}


@pytest.mark.parametrize('name', list(CASES))
def test_regular_schedule_matches_0x(name):
    lr_config = CASES[name]
    assert stepped_lrs(translated(lr_config)) == pytest.approx(legacy_lrs(lr_config), rel=1e-9)


@pytest.mark.parametrize('warmup', list(WARMUPS))
@pytest.mark.parametrize('policy', ['step', 'cosine', 'fixed'])
def test_warmup_on_top_of_schedule_matches_0x(policy, warmup):
    lr_config = dict(CASES[policy], **WARMUPS[warmup])
    expected = legacy_lrs(lr_config)
    assert stepped_lrs(translated(lr_config)) == pytest.approx(expected, rel=1e-9)
    # the warmup really changes the first LRs (the test would pass vacuously otherwise)
    assert expected[0] != pytest.approx(legacy_lrs(CASES[policy])[0])


def test_tutorial_schedule_lr_per_epoch():
    """lr_config = dict(policy='step', step=[20, 40]) with lr 0.005 over 50 epochs."""
    schedulers = translated(dict(policy='step', step=[20, 40]), epochs=50)
    lrs = stepped_lrs(schedulers, epochs=50, iters=1, base_lr=0.005)
    assert lrs[:20] == pytest.approx([0.005] * 20)
    assert lrs[20:40] == pytest.approx([0.0005] * 20)
    assert lrs[40:] == pytest.approx([0.00005] * 10)


@pytest.mark.parametrize('mode', ['linear', 'constant', 'exp'])
def test_legacy_warmup_lr_factors(mode):
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    scheduler = LegacyWarmupLR(optimizer, mode=mode, ratio=0.25, begin=0, end=4)
    seen = []
    for _ in range(6):
        seen.append(optimizer.param_groups[0]['lr'])
        optimizer.step()
        scheduler.step()
    expected = {
        'linear': [0.25, 0.4375, 0.625, 0.8125, 1.0, 1.0],
        'constant': [0.25, 0.25, 0.25, 0.25, 1.0, 1.0],
        'exp': [0.25 ** (1 - k / 4) for k in range(4)] + [1.0, 1.0],
    }[mode]
    assert seen == pytest.approx(expected)


def test_legacy_warmup_lr_rejects_bad_arguments():
    optimizer = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=1.0)
    with pytest.raises(ValueError, match='mode'):
        LegacyWarmupLR(optimizer, mode='cosine', end=3)
    with pytest.raises(ValueError, match='ratio'):
        LegacyWarmupLR(optimizer, ratio=0.0, end=3)
