"""The finetuning story on synthetic data, end to end, with no download.

1. Write the demo data (8 "source" and 5 "target" motions, as tools/data/make_demo_dataset.py).
2. Pretrain a small TSN on the source motions and export it like a model-zoo file (state dict +
   meta, no optimizer): the stand-in for a Kinetics-400 checkpoint.
3. Finetune on the target motions with ``load_from`` = that file: the 8-class classifier is
   re-initialised for 5 classes, every other tensor is reused, and the log says so.
4. Test the best finetuned checkpoint with multi-clip x multi-crop views, as ``tools/test.py`` does.
"""

import argparse
import json
import os
import os.path as osp
from typing import Dict, List, Optional

import torch
from mmengine.config import Config

from mmaction_ft.apis.run_setup import prepare_test_cfg, prepare_train_cfg, test_checkpoint
from mmaction_ft.config import load_config
from mmaction_ft.config.value_checks import PRECISIONS
from mmaction_ft.demo.data import make_demo_dataset

PRETRAIN_CONFIG = 'configs/demo/tsn_r18_demo_pretrain.py'
FINETUNE_CONFIG = 'configs/demo/tsn_r18_demo_finetune.py'

# Sizes of the two class sets: plenty of source videos, few target videos (finetuning's use case).
DEMO_DATA = {
    'source': dict(videos_per_class=60, val_per_class=10),
    'target': dict(videos_per_class=24, val_per_class=8),
}


def prepare_demo_data(data_root: str = 'data/demo', seed: int = 0) -> Dict[str, dict]:
    """Write (or reuse) both demo class sets as mp4 videos with MMAction2-style lists.

    ``data_root`` belongs to the demo: data written there with other sizes is replaced.
    """
    return {
        name: make_demo_dataset(
            data_root, class_set=name, seed=seed, formats=('videos',), overwrite=True, **sizes
        )
        for name, sizes in DEMO_DATA.items()
    }


def export_model(checkpoint_path: str, out_path: str) -> str:
    """Keep only ``meta`` and ``state_dict`` of a training checkpoint, as model-zoo files do."""
    from mmaction_ft.engine.checkpoint import load_checkpoint_file

    checkpoint = load_checkpoint_file(checkpoint_path)
    slim = {'meta': checkpoint.get('meta', {}), 'state_dict': checkpoint['state_dict']}
    os.makedirs(osp.dirname(osp.abspath(out_path)), exist_ok=True)
    torch.save(slim, out_path)
    return out_path


def val_history(log_dir: str) -> List[dict]:
    """Validation metrics per epoch, read from the run's ``vis_data/scalars.json``."""
    path = osp.join(log_dir, 'vis_data', 'scalars.json')
    history = []
    with open(path) as f:
        for line in f:
            record = json.loads(line)
            if 'acc/top1' in record:
                history.append(record)
    return history


def train(config: str, work_dir: str, cfg_options: Optional[dict] = None, seed: int = 0):
    """Train ``config`` like ``tools/train.py`` does; return the finished runner."""
    from mmaction_ft.engine.runner import ActionRunner

    cfg, report = load_config(config, cfg_options)
    prepare_train_cfg(cfg, config, work_dir=work_dir, seed=seed)
    runner = ActionRunner.from_cfg(cfg)
    report.log(runner.logger)
    runner.train()
    return runner


def best_checkpoint(runner) -> str:
    """The best checkpoint of the run that ``runner`` just finished.

    The checkpoint hook records it in the message hub (``best_ckpt``); an earlier run in the same
    work dir may have left other ``best_*.pth`` files there, which are not this run's.
    """
    best = runner.message_hub.get_info('best_ckpt')
    if not best or not osp.isfile(best):
        raise FileNotFoundError(
            f'the run in {runner.work_dir} kept no best checkpoint (got {best!r}); the demo '
            'config saves one with default_hooks.checkpoint.save_best'
        )
    return best


def add_precision_option(parser: argparse.ArgumentParser) -> None:
    """``--precision`` of the demo tools: passed to :func:`run_demo`."""
    parser.add_argument(
        '--precision',
        choices=PRECISIONS,
        help="training precision instead of the configs' 'auto' (bfloat16 on a CPU with "
        'AVX-512 BF16 / AMX, else float32); a source model made before is reused as it is',
    )


def train_source_model(path: str, precision: Optional[str] = None) -> str:
    """Pretrain the demo's source model (8 source motions, seed 0) in ``path``'s folder and
    export its weights and meta to ``path``; the demo data must exist. ``precision`` overrides
    the config's (``'auto'``, ``'amp'``, ``'fp32'``)."""
    pre_dir = osp.dirname(path)
    options = {'precision': precision} if precision else None
    runner = train(PRETRAIN_CONFIG, pre_dir, cfg_options=options, seed=0)
    return export_model(osp.join(pre_dir, f'epoch_{runner.max_epochs}.pth'), path)


def run_demo(
    work_root: str = 'work_dirs',
    data_root: str = 'data/demo',
    seed: int = 0,
    from_scratch: bool = False,
    tag: str = '',
    precision: Optional[str] = None,
) -> Dict[str, object]:
    """Run the whole demo and return its figures.

    Args:
        work_root: Parent of the two runs' work dirs.
        data_root: Where the demo data is written (the configs read ``data/demo``).
        seed: Seed of the finetuning run (the data and the source model are fixed).
        from_scratch: Train the finetune config without ``load_from`` instead: the baseline the
            finetuned model must beat with the same schedule and seed.
        tag: Appended to the finetuning run's work dir name, to keep several runs apart.
        precision: Overrides the configs' ``precision`` for training (the source model too,
            when it is made) and validation; the test runs in float32 as ``tools/test.py``.

    Returns:
        ``val_top1`` (per validation epoch), ``test`` (metrics of the best checkpoint),
        ``head_swap`` (the log records of re-initialised classifiers), ``best_checkpoint``,
        ``source_model`` and ``work_dir``.
    """
    if osp.abspath(data_root) != osp.abspath('data/demo'):
        raise ValueError('the demo configs read data/demo; run from the repository root')
    prepare_demo_data(data_root)

    source_model = osp.join(work_root, 'tsn_r18_demo_pretrain', 'demo_source_model.pth')
    if not from_scratch and not osp.isfile(source_model):
        train_source_model(source_model, precision)

    name = 'tsn_r18_demo_scratch' if from_scratch else 'tsn_r18_demo_finetune'
    work_dir = osp.join(work_root, name + tag)
    options = {'load_from': None if from_scratch else source_model}
    if precision:
        options['precision'] = precision
    runner = train(FINETUNE_CONFIG, work_dir, cfg_options=options, seed=seed)
    history = [record['acc/top1'] for record in val_history(runner.log_dir)]
    with open(runner.logger.log_file) as f:
        head_swap = [line.split(' - ')[-1].strip() for line in f if '-> re-initialised' in line]

    best = best_checkpoint(runner)
    cfg, report = load_config(FINETUNE_CONFIG)
    prepare_test_cfg(cfg, FINETUNE_CONFIG, work_dir=work_dir)
    metrics = test_checkpoint(cfg, best, report)
    return dict(
        val_top1=history,
        test=metrics,
        best_checkpoint=best,
        head_swap=head_swap,
        source_model=None if from_scratch else source_model,
        work_dir=work_dir,
    )


def format_summary(result: Dict[str, object], num_classes: int) -> str:
    """The closing lines the demo prints."""
    lines = ['', 'demo summary']
    if result['source_model']:
        lines.append(f'  load_from: {result["source_model"]}')
        lines.extend(f'  {record}' for record in result['head_swap'])
    else:
        lines.append('  trained from scratch (no load_from)')
    lines.append('  val top-1 per epoch: ' + ', '.join(f'{v:.3f}' for v in result['val_top1']))
    test = result['test']
    lines.append(
        f'  test ({osp.basename(result["best_checkpoint"])}, 8 clips x 3 crops): '
        f'top-1 {test["acc/top1"]:.3f}, top-5 {test["acc/top5"]:.3f}, '
        f'mean-class {test["acc/mean1"]:.3f} (chance {1 / num_classes:.3f})'
    )
    return '\n'.join(lines)


def demo_num_classes() -> int:
    """Number of target classes, read from the finetune config."""
    return Config.fromfile(FINETUNE_CONFIG).model.cls_head.num_classes
