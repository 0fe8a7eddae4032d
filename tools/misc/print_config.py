"""Print a config as mmaction_ft runs it: ``python tools/misc/print_config.py CONFIG``.

The config is loaded like tools/train.py loads it (bases merged, ``--cfg-options`` applied, 0.x
keys translated), printed in mmengine style, and followed by what the 0.x translation changed.
"""

import argparse
from typing import List, Optional

from mmengine.config import DictAction

from mmaction_ft.config import load_config


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Print the final config and its translation')
    parser.add_argument('config', help='config file (1.x or MMAction2 0.x style)')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        default={},
        help='override config keys, e.g. model.cls_head.num_classes=101',
    )
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> None:
    args = parse_args(argv)
    cfg, report = load_config(args.config, args.cfg_options)
    print(cfg.pretty_text)
    print(report.summary())


if __name__ == '__main__':
    main()
