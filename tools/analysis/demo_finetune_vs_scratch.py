"""Finetuned vs from-scratch on the demo's target classes, same schedule and seeds.

    python tools/analysis/demo_finetune_vs_scratch.py [--seeds 0 1 2]

Runs ``configs/demo/tsn_r18_demo_finetune.py`` once with ``load_from`` (the source model made by
``tools/demo_finetune.py``, pretrained on 8 other motions) and once without, for each seed, and
prints the best validation and the multi-view test top-1 of both. Takes about 1.5 minutes per
seed on 2 CPU cores (plus the source model once).
"""

import argparse
import statistics

from mmaction_ft.demo.finetune import add_precision_option, demo_num_classes, run_demo


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--work-root', default='work_dirs/finetune_vs_scratch')
    add_precision_option(parser)
    args = parser.parse_args()

    rows = []
    for seed in args.seeds:
        for from_scratch in (False, True):
            result = run_demo(
                work_root=args.work_root,
                seed=seed,
                from_scratch=from_scratch,
                tag=f'_seed{seed}',
                precision=args.precision,
            )
            rows.append(
                (
                    seed,
                    'scratch' if from_scratch else 'finetuned',
                    max(result['val_top1']),
                    result['test']['acc/top1'],
                )
            )

    print(f'\nTSN-R18 on the 5 demo target motions (chance {1 / demo_num_classes():.3f})')
    print(f'{"seed":>4}  {"init":<10} {"best val top-1":>14} {"test top-1":>10}')
    for seed, init, val, test in rows:
        print(f'{seed:>4}  {init:<10} {val:>14.3f} {test:>10.3f}')
    for init in ('finetuned', 'scratch'):
        tests = [test for _, name, _, test in rows if name == init]
        print(f'mean test top-1, {init}: {statistics.mean(tests):.3f}')


if __name__ == '__main__':
    main()
