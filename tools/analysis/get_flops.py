"""Parameters and FLOPs of a config's model: ``python tools/analysis/get_flops.py CONFIG``.

FLOPs are multiply-adds of one forward (MMAction2's and fvcore's convention), counted with
``torch.utils.flop_counter`` on the meta device, for one view as the validation pipeline makes
it (``1 x C x T x H x W`` for a 3D model, the ``num_clips x clip_len`` frames of a 2D model),
the input of MMAction2's model-zoo numbers; ``--shape`` gives another input. The same counter
fills the table of docs/model_zoo.md (tools/analysis/model_table.py).
"""

import argparse
import sys
from typing import List, Optional

from mmengine.config import DictAction

from mmaction_ft.apis.input_shape import view_shape
from mmaction_ft.config import load_config
from mmaction_ft.utils.complexity import model_complexity


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Count the parameters and FLOPs of a model')
    parser.add_argument('config', help='config file (1.x or MMAction2 0.x style)')
    parser.add_argument(
        '--shape',
        type=int,
        nargs='+',
        metavar='DIM',
        help='input of one video: num_views C (T) H W (e.g. 1 3 32 224 224); or H W to keep '
        "the rest of the config's view",
    )
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        default={},
        help='override config keys, e.g. model.cls_head.num_classes=101',
    )
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    cfg, _ = load_config(args.config, args.cfg_options)
    shape = tuple(args.shape) if args.shape else view_shape(cfg)
    if len(shape) == 2:
        shape = view_shape(cfg)[:-2] + shape
    params, flops = model_complexity(cfg.model, (1,) + shape)
    print(f'input: {" x ".join(map(str, shape))} (one video: num_views x C x (T x) H x W)')
    print(f'params: {params:,} ({params / 1e6:.2f} M)')
    print(f'FLOPs: {flops:,} ({flops / 1e9:.2f} G multiply-adds)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
