"""Evaluate a checkpoint: ``python tools/test.py CONFIG CHECKPOINT [options]``.

Loading is strict: a checkpoint trained for another class count is refused with advice instead of
evaluating a random classifier.
"""

import argparse
import os.path as osp

from mmengine.config import DictAction
from mmengine.dist import get_rank

from mmaction_ft.apis import prepare_test_cfg, test_checkpoint
from mmaction_ft.config import load_config
from mmaction_ft.engine.distributed import release_distributed


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Test a video recognizer')
    parser.add_argument('config', help='config file (1.x or MMAction2 0.x style)')
    parser.add_argument('checkpoint', help='checkpoint: a path, an http(s) URL or torchvision://')
    parser.add_argument('--work-dir', help='where the test log goes')
    parser.add_argument(
        '--dump',
        metavar='FILE.pkl',
        help='also save every prediction (pred_score, gt_label) to this pickle',
    )
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        default={},
        help='override config keys, e.g. test_dataloader.batch_size=1',
    )
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    cfg, report = load_config(args.config, args.cfg_options)
    prepare_test_cfg(
        cfg, args.config, work_dir=args.work_dir, dump=args.dump, launcher=args.launcher
    )
    metrics = test_checkpoint(cfg, args.checkpoint, report)
    if get_rank() == 0:
        lines = [
            f'  {name}: {value:.4f}' for name, value in metrics.items() if isinstance(value, float)
        ]
        print('\n'.join([f'test results of {osp.basename(args.checkpoint)}:'] + lines))
    release_distributed()


if __name__ == '__main__':
    main()
