"""Turn command-line choices into config changes, and check a config's data before a long run.

Shared by ``tools/train.py``, ``tools/test.py`` and the demo, so every entry point means the same
thing by ``--resume``, ``--amp``, ``--work-dir`` ...
"""

import importlib.util
import logging
import os
import os.path as osp
from typing import Iterable, Optional, Sequence

import torch
from mmengine.config import Config
from mmengine.logging import print_log

from mmaction_ft.engine.checkpoint_files import has_checkpoint_files
from mmaction_ft.engine.distributed import setup_distributed
from mmaction_ft.utils.cpu import accelerator_available, cpu_bf16_choice
from mmaction_ft.visualization.tensorboard_backend import INSTALL_HINT as TENSORBOARD_INSTALL

DATA_HELP = (
    'Prepare the data as described in docs/data_preparation.md (UCF101: download, extract frames, '
    'build the split lists), or run the demo on synthetic data: python tools/demo_finetune.py'
)


def available_cpu_cores() -> int:
    """CPU cores this process may run on (its affinity mask, e.g. under taskset or a container
    quota that sets one), else all of the machine's."""
    if hasattr(os, 'sched_getaffinity'):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def cap_num_workers(cfg: Config, splits: Iterable[str] = ('train', 'val', 'test')) -> None:
    """Cap ``num_workers`` of the splits' dataloaders at the available CPU cores, in place.

    Recipes ask for the 8 workers of a GPU server; on a laptop or a 2-core CI machine more
    worker processes than cores only compete for them (and torch warns about it). Each capped
    dataloader logs one line with the asked and the used number. ``persistent_workers=True``
    with no workers (which torch's DataLoader refuses) becomes False, also with a line.
    """
    cores = available_cpu_cores()
    for split in splits:
        key = f'{split}_dataloader'
        loader = cfg.get(key)
        if not loader:
            continue
        asked = loader.get('num_workers', 0)
        if isinstance(asked, int) and asked > cores:
            loader['num_workers'] = cores
            print_log(
                f'{key}.num_workers={asked} is more than the {cores} CPU cores this process '
                f'can use: using {cores}',
                logger='current',
                level=logging.WARNING,
            )
        if loader.get('persistent_workers') and loader.get('num_workers', 0) == 0:
            loader['persistent_workers'] = False
            print_log(
                f'{key}.persistent_workers=True has no worker to keep with num_workers=0: '
                'using persistent_workers=False',
                logger='current',
                level=logging.WARNING,
            )


def use_mixed_precision(cfg: Config, splits: Sequence[str]) -> Config:
    """Mixed precision for the named splits (``--amp``): float16 on a GPU (training with loss
    scaling), bfloat16 autocast on a CPU that computes bfloat16 natively, float32 on other
    CPUs; the log says which and why.

    ``'train'`` makes ``optim_wrapper`` an ``AmpOptimWrapper``; ``'val'`` / ``'test'`` set
    ``val_cfg.fp16`` / ``test_cfg.fp16`` (the loops of ``engine/loops.py`` keep float32 on a
    CPU without bfloat16 instructions, as the wrapper does).
    """
    if 'train' in splits:
        cfg.optim_wrapper.type = 'AmpOptimWrapper'
        if torch.cuda.is_available():
            cfg.optim_wrapper.setdefault('loss_scale', 'dynamic')
    for split, loop_type in (('val', 'ValLoop'), ('test', 'TestLoop')):
        loop = cfg.get(f'{split}_cfg')
        if split in splits and loop is not None:
            loop.fp16 = True
            # Without a type mmengine's runner builds its own loop class, not ours.
            loop.setdefault('type', loop_type)
    return cfg


def apply_precision(cfg: Config, amp: bool = False) -> str:
    """Apply the config's top-level ``precision`` to training and validation; return what runs.

    - ``'fp32'`` (the default of a config without the key, as MMAction2's): float32.
    - ``'amp'`` (or ``tools/train.py --amp``): :func:`use_mixed_precision`.
    - ``'auto'`` (the shipped configs): bfloat16 autocast on a CPU that computes bfloat16
      natively (AVX-512 BF16 / AMX), where it trains about twice as fast as float32 and the demo
      finetune lands within float32's seed spread (docs/benchmarks.md); float32 on other CPUs
      and on GPUs (float16 needs loss scaling and was not measured here: ``--amp`` asks for it).

    Testing is not touched: ``tools/test.py`` tests in float32 unless ``--amp``.
    """
    setting = 'amp' if amp else cfg.get('precision', 'fp32')
    if setting == 'auto':
        if accelerator_available():
            setting = 'fp32'
            why = (
                'mixed precision on an accelerator is float16, which needs loss scaling: '
                "--amp or precision='amp' asks for it"
            )
        else:
            bf16, why = cpu_bf16_choice()
            setting = 'amp' if bf16 else 'fp32'
        chosen = 'mixed precision' if setting == 'amp' else 'float32'
        print_log(
            f"precision='auto': training and validation in {chosen}, because {why}",
            logger='current',
        )
    if setting == 'amp':
        use_mixed_precision(cfg, ['train', 'val'])
    return setting


def default_work_dir(config_path: str) -> str:
    """``work_dirs/<config file name without .py>``, as MMAction2 does."""
    return osp.join('work_dirs', osp.splitext(osp.basename(config_path))[0])


def prepare_train_cfg(
    cfg: Config,
    config_path: str,
    work_dir: Optional[str] = None,
    resume: Optional[str] = None,
    amp: bool = False,
    no_validate: bool = False,
    auto_scale_lr: bool = False,
    seed: Optional[int] = None,
    deterministic: bool = False,
    launcher: str = 'none',
    tensorboard: bool = False,
) -> Config:
    """Apply ``tools/train.py``'s flags to ``cfg`` in place and return it.

    Args:
        work_dir: Overrides ``cfg.work_dir``; without either, ``work_dirs/<config name>``.
        resume: ``'auto'`` resumes from the latest checkpoint in the work dir (the newest
            intact one, with a warning, when the latest is damaged or missing; a new run from
            ``load_from`` when there is none yet), a path from that checkpoint; ``None`` keeps
            the config's ``resume`` / ``load_from``.
        amp: Mixed precision for training and validation (:func:`use_mixed_precision`),
            whatever the config's ``precision`` says (:func:`apply_precision`).
        no_validate: Drop the validation loop.
        auto_scale_lr: Scale the LR by ``actual batch / auto_scale_lr.base_batch_size``.
        seed, deterministic: ``cfg.randomness``.
        launcher: ``'none'`` or ``'pytorch'`` (torchrun); gloo is used when there is no GPU.
        tensorboard: Also log to TensorBoard (``TensorboardVisBackend``: loss, lr, metrics) and
            draw each validation's confusion matrix into it (``ConfusionMatrixHook``).

    The dataloaders' ``num_workers`` are capped at this machine's CPU cores
    (:func:`cap_num_workers`).
    """
    cfg.work_dir = work_dir or cfg.get('work_dir') or default_work_dir(config_path)

    if resume == 'auto':
        if has_checkpoint_files(cfg.work_dir):
            # The runner continues from last_checkpoint's file, or the newest intact one when
            # that is damaged or missing, and says which in its log (file and console).
            cfg.resume = True
            cfg.load_from = None
        else:
            # Nothing to continue: a new run, from the config's load_from (not silently from
            # the backbone's ImageNet weights, as a bare resume=True would).
            print_log(
                f'--resume: no checkpoint in {cfg.work_dir} yet, starting a new run '
                f'(load_from={cfg.get("load_from")!r})',
                logger='current',
                level=logging.WARNING,
            )
            cfg.resume = False
    elif resume is not None:
        cfg.resume = True
        cfg.load_from = resume

    apply_precision(cfg, amp)

    if no_validate:
        cfg.val_cfg = None
        cfg.val_dataloader = None
        cfg.val_evaluator = None
        checkpoint = cfg.get('default_hooks', {}).get('checkpoint')
        if checkpoint is not None:
            checkpoint.pop('save_best', None)  # nothing to rank checkpoints by

    if auto_scale_lr:
        if 'auto_scale_lr' not in cfg or 'base_batch_size' not in cfg.auto_scale_lr:
            raise KeyError(
                '--auto-scale-lr needs `auto_scale_lr = dict(base_batch_size=...)` in the config'
            )
        cfg.auto_scale_lr.enable = True

    if seed is not None or deterministic:
        randomness = dict(cfg.get('randomness') or {})
        if seed is not None:
            randomness['seed'] = seed
        randomness['deterministic'] = deterministic
        cfg.randomness = randomness

    if tensorboard:
        add_tensorboard(cfg)

    cap_num_workers(cfg, ['train', 'val'])  # the run builds no test loader
    setup_distributed(cfg, launcher)
    return cfg


def add_tensorboard(cfg: Config) -> Config:
    """Add TensorBoard to the visualizer's backends and a :class:`ConfusionMatrixHook`
    (once each; the backend fails at once, naming the install command, without TensorBoard)."""
    if importlib.util.find_spec('tensorboard') is None:
        raise ImportError(f'--tensorboard needs the tensorboard package: {TENSORBOARD_INSTALL}')
    visualizer = cfg.get('visualizer') or dict(type='ActionVisualizer')
    backends = list(visualizer.get('vis_backends') or [dict(type='LocalVisBackend')])
    if not any(str(b.get('type', '')).endswith('TensorboardVisBackend') for b in backends):
        backends.append(dict(type='TensorboardVisBackend'))
    visualizer['vis_backends'] = backends
    cfg.visualizer = visualizer
    hooks = list(cfg.get('custom_hooks') or [])
    if cfg.get('val_dataloader') and not any(
        str(h.get('type', '')).endswith('ConfusionMatrixHook') for h in hooks
    ):
        hooks.append(dict(type='ConfusionMatrixHook'))
    cfg.custom_hooks = hooks
    return cfg


# runner_type values that mean mmengine's FlexibleRunner (strategies such as FSDPStrategy).
FLEXIBLE_RUNNER_TYPES = (
    'FlexibleRunner',
    'ActionFlexibleRunner',
    'mmaction_ft.ActionFlexibleRunner',
)


def build_runner(cfg: Config):
    """The runner ``tools/train.py`` trains with: :class:`ActionRunner`, or
    :class:`ActionFlexibleRunner` when ``cfg.runner_type`` names mmengine's ``FlexibleRunner``
    (a config with a ``strategy``, e.g. FSDP). Both load checkpoints the mmaction_ft way.
    """
    from mmaction_ft.engine.flexible_runner import ActionFlexibleRunner
    from mmaction_ft.engine.runner import ActionRunner

    runner_type = cfg.get('runner_type')
    if runner_type in FLEXIBLE_RUNNER_TYPES:
        if cfg.get('finetune') is not None:
            # The presets freeze parameters in ActionRunner's build hooks, which the flexible
            # runner does not have: the run would silently train everything.
            raise ValueError(
                f'finetune={dict(cfg.finetune)!r} is applied by the default runner only; with '
                f'runner_type={runner_type!r} (strategy '
                f'{(cfg.get("strategy") or {}).get("type")!r}) it would be ignored: remove '
                'finetune, or train without the strategy (remove runner_type and strategy)'
            )
        return ActionFlexibleRunner.from_cfg(cfg)
    if cfg.get('strategy') is not None:
        raise ValueError(
            f"`strategy` needs runner_type='FlexibleRunner' (got runner_type={runner_type!r}): "
            "mmengine's Runner ignores strategies"
        )
    if runner_type not in (None, 'Runner', 'ActionRunner', 'mmaction_ft.ActionRunner'):
        raise ValueError(
            f'unknown runner_type {runner_type!r}: use ActionRunner (the default) or '
            'FlexibleRunner (with a `strategy`)'
        )
    return ActionRunner.from_cfg(cfg)


def prepare_test_cfg(
    cfg: Config,
    config_path: str,
    work_dir: Optional[str] = None,
    dump: Optional[str] = None,
    launcher: str = 'none',
    amp: bool = False,
) -> Config:
    """Apply ``tools/test.py``'s flags to ``cfg`` in place and return it.

    The checkpoint is not set here: :func:`test_checkpoint` loads it strictly, so ``load_from``
    and ``resume`` are cleared. A progress bar hook is added, and ``test_dataloader``'s
    ``num_workers`` is capped at this machine's CPU cores (:func:`cap_num_workers`).

    Args:
        work_dir: Where the test log goes; default as for training.
        dump: A ``.pkl`` path to which every prediction is saved as well.
        launcher: ``'none'`` or ``'pytorch'``.
        amp: Test in mixed precision (:func:`use_mixed_precision`): scores move by bfloat16's
            rounding (a few thousandths of a softmax score on the demo), so the default stays
            float32, whose scores equal MMAction2's.
    """
    cfg.work_dir = work_dir or cfg.get('work_dir') or default_work_dir(config_path)
    if amp:
        use_mixed_precision(cfg, ['test'])
    cfg.load_from = None
    cfg.resume = False
    if dump:
        if not dump.endswith(('.pkl', '.pickle')):
            raise ValueError(f'--dump must name a .pkl file, got {dump!r}')
        evaluators = cfg.test_evaluator
        evaluators = list(evaluators) if isinstance(evaluators, (list, tuple)) else [evaluators]
        evaluators.append(dict(type='DumpResults', out_file_path=dump))
        cfg.test_evaluator = evaluators
    hooks = list(cfg.get('custom_hooks') or [])
    if not any(hook.get('type') == 'TestProgressHook' for hook in hooks):
        hooks.append(dict(type='TestProgressHook'))
    cfg.custom_hooks = hooks
    cap_num_workers(cfg, ['test'])
    setup_distributed(cfg, launcher)
    return cfg


def test_checkpoint(cfg: Config, checkpoint: str, report=None) -> dict:
    """Load ``checkpoint`` strictly into the model of ``cfg`` and run the test loop.

    A checkpoint whose class count differs from ``model.cls_head.num_classes`` is refused with
    both numbers instead of being scored with a random classifier.

    Args:
        report: The config's translation report, logged once the runner's logger exists.

    Returns:
        The metrics (``acc/top1``, ``acc/top5``, ``acc/mean1`` ...).
    """
    from mmaction_ft.engine.runner import ActionRunner

    check_annotation_files(cfg, ['test'])
    runner = ActionRunner.from_cfg(cfg)
    if report is not None:
        report.log(runner.logger)
    runner.load_checkpoint(checkpoint, strict=True)
    return runner.test()


def annotation_files(cfg: Config, splits: Iterable[str]) -> list:
    """``(config key, path)`` of every local annotation list the given splits read.

    A relative ``ann_file`` is joined to the dataset's ``data_root`` as mmengine does; lists
    behind a URI (``s3://`` ...) are left to the dataset.
    """
    found = []
    for split in splits:
        loader = cfg.get(f'{split}_dataloader')
        if not loader:
            continue
        # Wrappers such as RepeatDataset / ConcatDataset nest the real datasets.
        stack = [(f'{split}_dataloader.dataset', loader.get('dataset', {}))]
        while stack:
            key, ds = stack.pop()
            path = ds.get('ann_file')
            if path and '://' not in path:
                root = ds.get('data_root')
                if root and not osp.isabs(path):
                    path = osp.join(root, path)
                found.append((f'{key}.ann_file', path))
            if isinstance(ds.get('dataset'), dict):
                stack.append((f'{key}.dataset', ds['dataset']))
            for i, child in enumerate(ds.get('datasets', []) or []):
                stack.append((f'{key}.datasets.{i}', child))
    return found


def check_annotation_files(cfg: Config, splits: Iterable[str]) -> None:
    """Fail before any model is built when an annotation list of ``splits`` is missing.

    The message lists every missing file with its config key and says how to get the data.
    """
    missing = [
        f'  {key} = {path!r}' for key, path in annotation_files(cfg, splits) if not osp.isfile(path)
    ]
    if missing:
        raise FileNotFoundError(
            'annotation list(s) not found (working directory: '
            f'{os.getcwd()}):\n' + '\n'.join(missing) + f'\n{DATA_HELP}'
        )
