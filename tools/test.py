"""Evaluate a checkpoint: ``python tools/test.py CONFIG CHECKPOINT [options]``.

Loading is strict: a checkpoint trained for another class count is refused with advice instead of
evaluating a random classifier.
"""

import argparse
import os.path as osp
import sys

from mmengine.config import DictAction
from mmengine.dist import get_rank

from mmaction_ft.apis import (
    eval_outputs_dump,
    prepare_test_cfg,
    test_checkpoint,
    write_test_outputs,
)
from mmaction_ft.config import ConfigError, load_config
from mmaction_ft.datasets import AnnotationError
from mmaction_ft.engine import CheckpointDownloadError
from mmaction_ft.engine.distributed import release_distributed
from mmaction_ft.engine.weight_loading import CheckpointMismatchError

# Mistakes in the config, the data or the checkpoint named on the command line: printed as one
# `error:` line (exit status 2) instead of a traceback; any other exception is a bug.
USER_ERRORS = (
    ConfigError,
    AnnotationError,
    CheckpointMismatchError,
    CheckpointDownloadError,
    FileNotFoundError,
)


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
        '--out-dir',
        metavar='DIR',
        help='also write per-class results into DIR: accuracy / precision / recall per class, '
        'confusion matrix (CSV, PNG), most confused pairs, misclassified videos '
        '(per-class AP for multi-label data)',
    )
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        default={},
        help='override config keys, e.g. test_dataloader.batch_size=1',
    )
    parser.add_argument(
        '--amp',
        action='store_true',
        help='mixed precision: float16 on a GPU, bfloat16 on a CPU with AVX-512 BF16 / AMX '
        '(scores then differ from float32 by bfloat16 rounding)',
    )
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    cfg, report = load_config(args.config, args.cfg_options)
    dump = eval_outputs_dump(cfg, args.out_dir, args.dump) if args.out_dir else args.dump
    prepare_test_cfg(
        cfg, args.config, work_dir=args.work_dir, dump=dump, launcher=args.launcher, amp=args.amp
    )
    metrics = test_checkpoint(cfg, args.checkpoint, report)
    if get_rank() == 0:
        lines = [
            f'  {name}: {value:.4f}' for name, value in metrics.items() if isinstance(value, float)
        ]
        print('\n'.join([f'test results of {osp.basename(args.checkpoint)}:'] + lines))
        if args.out_dir:
            written = write_test_outputs(cfg, dump, args.out_dir, metrics, args.checkpoint)
            print(f'per-class results in {args.out_dir}: ' + ', '.join(map(osp.basename, written)))
    release_distributed()


if __name__ == '__main__':
    try:
        main()
    except USER_ERRORS as err:
        print(f'error: {err}', file=sys.stderr)
        sys.exit(2)
