"""The finetuning presets on few, unbalanced videos per class, side by side over seeds.

    OMP_NUM_THREADS=2 python tools/analysis/few_videos_benchmark.py [--seeds 0 1 2]

The demo's source model (TSN-R18 trained on 8 motions, made as ``tools/demo_finetune.py`` makes
it when missing) is finetuned on the 5 demo target motions from an unbalanced training list
(2, 5, 7, 10 and 12 videos: rotate clockwise has the fewest, zig-zag the most) rendered for this
benchmark (indices the demo data does not use), and tested on a fixed balanced list of 8 videos
per class with the demo's 8 clips x 3 crops. Each variant (:data:`VARIANTS`) is
``configs/demo/tsn_r18_demo_finetune.py`` with one change, the same 15 epochs, and is tested
after its last epoch (no checkpoint is picked on the test list). The table gives test top-1,
mean-class accuracy and the accuracy of the rarest class: mean and min-max over the seeds.
Takes about 20 s per run on 2 CPU cores (15 runs: 4.5 minutes), plus the source model once.
"""

import argparse
import os
import os.path as osp
import re
import statistics
from typing import Dict, List

from mmaction_ft.apis.run_setup import prepare_test_cfg, prepare_train_cfg, test_checkpoint
from mmaction_ft.config import load_config
from mmaction_ft.demo.benchmark_data import source_model, unbalanced_counts, write_video_lists
from mmaction_ft.demo.data import CLASS_SETS
from mmaction_ft.demo.finetune import FINETUNE_CONFIG
from mmaction_ft.engine.runner import ActionRunner

CLASSES = {name: name for name in CLASS_SETS['target']}  # label name -> motion
TRAIN_COUNTS = unbalanced_counts(len(CLASSES), 2, 12)  # [2, 5, 7, 10, 12]
TRAIN_START = 1000  # the demo data uses indices below 100
TEST_INDICES = range(1100, 1108)
MAX_EPOCHS = 15  # the finetune config's schedule

# Variant -> cfg options over the finetune config. The sampler and the loss weights correct the
# same imbalance (docs/finetuning.md section 7), so each is tried on its own.
VARIANTS: Dict[str, dict] = {
    'full': {'finetune': dict(preset='full')},
    'partial (2 stages)': {'finetune': dict(preset='partial', frozen_stages=2)},
    'linear_probe': {'finetune': dict(preset='linear_probe')},
    'full + balanced sampler': {
        'finetune': dict(preset='full'),
        'train_dataloader.sampler': dict(type='ClassBalancedSampler'),
    },
    'full + class_weight auto': {
        'finetune': dict(preset='full'),
        'model.cls_head.loss_cls': dict(type='CrossEntropyLoss', class_weight='auto'),
    },
}


def split_indices() -> Dict[str, List[range]]:
    """Video indices per split and class: unbalanced training, balanced test."""
    return dict(
        train=[range(TRAIN_START, TRAIN_START + count) for count in TRAIN_COUNTS],
        test=[TEST_INDICES] * len(CLASSES),
    )


def variant_options(variant: str, data: Dict[str, str], load_from: str) -> dict:
    """cfg options for one variant: its change, this benchmark's data and its schedule."""
    options = dict(VARIANTS[variant])
    for split in ('train', 'val', 'test'):
        options[f'{split}_dataloader.dataset.ann_file'] = data[
            'train' if split == 'train' else 'test'
        ]
        options[f'{split}_dataloader.dataset.data_prefix'] = dict(video=data['videos'])
        options[f'{split}_dataloader.dataset.label_map'] = data['label_map']
        options[f'{split}_dataloader.num_workers'] = 0  # 2 cores: workers would only compete
        options[f'{split}_dataloader.persistent_workers'] = False
    options.update(
        {
            'load_from': load_from,
            # One validation, after the last epoch, and only the last checkpoint: the val list
            # is the test list, so nothing may be chosen by it.
            'train_cfg.val_interval': MAX_EPOCHS,
            'default_hooks.checkpoint': dict(interval=MAX_EPOCHS, max_keep_ckpts=1, save_best=None),
            'test_evaluator': dict(type='AccMetric', per_class=True),
        }
    )
    return options


def run_variant(variant: str, data: Dict[str, str], work_dir: str, seed: int) -> dict:
    """Finetune one variant with ``seed`` and return its test metrics."""
    options = variant_options(variant, data, source_model())
    cfg, report = load_config(FINETUNE_CONFIG, options)
    prepare_train_cfg(cfg, FINETUNE_CONFIG, work_dir=work_dir, seed=seed)
    runner = ActionRunner.from_cfg(cfg)
    report.log(runner.logger)
    runner.train()
    checkpoint = osp.join(work_dir, f'epoch_{MAX_EPOCHS}.pth')
    cfg, report = load_config(FINETUNE_CONFIG, options)
    prepare_test_cfg(cfg, FINETUNE_CONFIG, work_dir=work_dir)
    metrics = test_checkpoint(cfg, checkpoint, report)
    os.remove(checkpoint)  # 90 MB each; the log and the metrics are what the table needs
    return metrics


def _spread(values: List[float]) -> str:
    return f'{statistics.mean(values):.3f} ({min(values):.3f}-{max(values):.3f})'


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--variants', nargs='+', default=list(VARIANTS), choices=list(VARIANTS))
    parser.add_argument('--work-root', default='work_dirs/few_videos_benchmark')
    args = parser.parse_args()

    data = write_video_lists(osp.join(args.work_root, 'data'), CLASSES, split_indices())
    rarest = f'acc/class_{next(iter(CLASSES))}'
    results = {}
    for variant in args.variants:
        for seed in args.seeds:
            slug = re.sub(r'[^a-z0-9]+', '_', variant).strip('_')  # 'partial_2_stages'
            work_dir = osp.join(args.work_root, f'{slug}_seed{seed}')
            results[variant, seed] = run_variant(variant, data, work_dir, seed)

    counts = ', '.join(f'{name} {n}' for name, n in zip(CLASSES, TRAIN_COUNTS))
    print(f'\nTSN-R18, 5 demo target motions, training videos: {counts}')
    print(
        f'test: {len(TEST_INDICES)} videos per class, 8 clips x 3 crops, after epoch {MAX_EPOCHS}; '
        f'mean (min-max) over seeds {" ".join(map(str, args.seeds))}; chance {1 / len(CLASSES):.3f}'
    )
    print(
        f'| variant | test top-1 | mean-class (acc/mean1) | '
        f'{next(iter(CLASSES))} ({TRAIN_COUNTS[0]} videos) |'
    )
    print('|---|---|---|---|')
    for variant in args.variants:
        runs = [results[variant, seed] for seed in args.seeds]
        columns = [_spread([run[key] for run in runs]) for key in ('acc/top1', 'acc/mean1', rarest)]
        print(f'| {variant} | ' + ' | '.join(columns) + ' |')


if __name__ == '__main__':
    main()
