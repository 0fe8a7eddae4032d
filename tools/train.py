"""Train (or finetune) a recognizer from a config: ``python tools/train.py CONFIG [options]``."""

import argparse
import sys
from typing import NoReturn

from mmengine.config import DictAction

from mmaction_ft.apis import check_annotation_files, prepare_train_cfg
from mmaction_ft.apis.run_setup import build_runner
from mmaction_ft.config import ConfigError, load_config
from mmaction_ft.datasets import AnnotationError
from mmaction_ft.engine import CheckpointDownloadError
from mmaction_ft.engine.distributed import release_distributed

# Mistakes in the config or the data it names (or a missing optional package: --tensorboard) are
# printed as one `error:` line (exit status 2), not a traceback: before the runner exists, these;
# once it reads the annotation lists, only AnnotationError and a checkpoint URL that cannot be
# fetched (the message names the URL, the config key and how to use a local file), so a missing
# file deep in training keeps its traceback.
SETUP_ERRORS = (ConfigError, AnnotationError, FileNotFoundError, ImportError)
DATA_ERRORS = (AnnotationError, CheckpointDownloadError)


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Train or finetune a video recognizer')
    parser.add_argument('config', help='config file (1.x or MMAction2 0.x style)')
    parser.add_argument(
        '--work-dir', help='where logs and checkpoints go (default: work_dirs/<config name>)'
    )
    parser.add_argument(
        '--resume',
        nargs='?',
        const='auto',
        metavar='CHECKPOINT',
        help='continue a run: from CHECKPOINT, or without a value from the '
        'latest checkpoint in the work dir',
    )
    parser.add_argument(
        '--amp',
        action='store_true',
        help='mixed precision for training and validation: float16 on a GPU, bfloat16 on a CPU '
        'with AVX-512 BF16 / AMX (float32 on other CPUs; the log says which)',
    )
    parser.add_argument(
        '--no-validate', action='store_true', help='do not validate during training'
    )
    parser.add_argument(
        '--auto-scale-lr',
        action='store_true',
        help='scale the LR by the actual batch size / auto_scale_lr.base_batch_size',
    )
    parser.add_argument(
        '--tensorboard',
        action='store_true',
        help='also log to TensorBoard (loss, lr, metrics, validation confusion matrix); '
        'needs pip install -e ".[tensorboard]"',
    )
    parser.add_argument('--seed', type=int, help='random seed')
    parser.add_argument(
        '--deterministic', action='store_true', help='deterministic cuDNN / algorithms'
    )
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        default={},
        help='override config keys, e.g. model.cls_head.num_classes=101 '
        'train_dataloader.dataset.pipeline.0.clip_len=2',
    )
    parser.add_argument('--launcher', choices=['none', 'pytorch', 'slurm', 'mpi'], default='none')
    parser.add_argument(
        '--local_rank',
        '--local-rank',
        type=int,
        default=0,
        help='set by older torch.distributed.launch; torchrun uses LOCAL_RANK',
    )
    return parser.parse_args()


def main() -> None:
    args = parse_args()
    try:
        cfg, report = load_config(args.config, args.cfg_options)
        prepare_train_cfg(
            cfg,
            args.config,
            work_dir=args.work_dir,
            resume=args.resume,
            amp=args.amp,
            no_validate=args.no_validate,
            auto_scale_lr=args.auto_scale_lr,
            seed=args.seed,
            deterministic=args.deterministic,
            launcher=args.launcher,
            tensorboard=args.tensorboard,
        )
        check_annotation_files(cfg, ['train', 'val'])
    except SETUP_ERRORS as err:
        exit_with(err)
    runner = build_runner(cfg)  # ActionRunner, or ActionFlexibleRunner for a `strategy`
    report.log(runner.logger)
    try:
        runner.train()
    except DATA_ERRORS as err:
        exit_with(err)
    release_distributed()


def exit_with(err: Exception) -> NoReturn:
    """End with the message as the last line on screen, and exit status 2 (argparse's)."""
    print(f'error: {err}', file=sys.stderr)
    sys.exit(2)


if __name__ == '__main__':
    main()
