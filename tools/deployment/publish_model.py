"""Publish a checkpoint: ``python tools/deployment/publish_model.py IN_CKPT OUT_NAME``.

Keeps the weights and the meta (config, class names), drops the optimizer, message hub and
scheduler states, and writes ``OUT_NAME-<first 8 hex digits of the sha256>.pth``, the model-zoo
naming that the checkpoint loader verifies on download. See docs/deployment.md.
"""

import argparse
import os.path as osp
import sys
from typing import List, Optional

from mmaction_ft.apis.checkpoint_meta import NO_CONFIG_HELP
from mmaction_ft.apis.publish import publish_checkpoint

_MISSING = {'cfg': 'the config (meta.cfg)', 'classes': 'class names (meta.dataset_meta.classes)'}


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Strip a checkpoint for release, hash its name')
    parser.add_argument('in_file', help='checkpoint written by training')
    parser.add_argument('out_name', help='output path without the hash (e.g. tsn_r50_ucf101)')
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    published = publish_checkpoint(args.in_file, args.out_name)
    size = osp.getsize(published.path) / (1 << 20)
    dropped = ', '.join(published.dropped) or 'nothing'
    print(f'wrote {published.path} ({size:.1f} MiB); dropped: {dropped}')
    if published.missing_meta:
        missing = ' and no '.join(_MISSING[key] for key in published.missing_meta)
        print(f'note: the file carries no {missing}; to use it, {NO_CONFIG_HELP}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
