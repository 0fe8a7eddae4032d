"""The finetuning demo on synthetic motion clips, no download: ``python tools/demo_finetune.py``.

Generates the data, pretrains a small TSN on 8 motions (once), finetunes it on 5 other motions
(the classifier is swapped), and tests the best checkpoint. Run from the repository root.
"""

import argparse

from mmaction_ft.demo.finetune import (
    add_precision_option,
    demo_num_classes,
    format_summary,
    run_demo,
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--work-root', default='work_dirs', help="parent of the runs' work dirs")
    parser.add_argument('--seed', type=int, default=0, help='seed of the finetuning run')
    parser.add_argument(
        '--from-scratch', action='store_true', help='baseline: same schedule without load_from'
    )
    add_precision_option(parser)
    args = parser.parse_args()
    result = run_demo(
        work_root=args.work_root,
        seed=args.seed,
        from_scratch=args.from_scratch,
        precision=args.precision,
    )
    print(format_summary(result, demo_num_classes()))


if __name__ == '__main__':
    main()
