"""Build MMAction2 annotation lists from a dataset's official annotation files.

Example (UCF101, all three splits, both formats)::

    python tools/data/build_file_list.py ucf101 data/ucf101/annotations \
        --out-dir data/ucf101 --frames-root data/ucf101/rawframes

writes ``data/ucf101/ucf101_{train,val}_split_{1,2,3}_{rawframes,videos}.txt``; ``--split 1`` writes
split 1 only (by default: every split whose official files are present).
"""

import argparse
import os
import sys

from mmaction_ft.datasets.preparation import DATASETS, write_file_lists


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('dataset', choices=sorted(DATASETS), help='which official format')
    parser.add_argument('ann_dir', help='folder holding the official annotation files')
    parser.add_argument('--out-dir', required=True, help='folder that receives the lists')
    parser.add_argument(
        '--formats', nargs='+', choices=('rawframes', 'videos'), help='default: all the dataset has'
    )
    parser.add_argument('--frames-root', help='root of the frame folders (rawframes lists)')
    parser.add_argument('--videos-root', help='root of the videos (frame rate of untrimmed ones)')
    parser.add_argument('--filename-tmpl', help='frame file names (default: the dataset usual)')
    parser.add_argument('--fps', type=float, help='frame rate of every untrimmed video')
    parser.add_argument(
        '--split',
        type=int,
        nargs='+',
        help='UCF101 / HMDB51 splits to build (default: those whose files are present)',
    )
    parser.add_argument('--prefix', help='list file name prefix (default: the dataset name)')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    spec = DATASETS[args.dataset]
    formats = args.formats or list(spec.formats)
    unsupported = set(formats) - set(spec.formats)
    if unsupported:
        sys.exit(f'{args.dataset} lists come only in {spec.formats}, not {sorted(unsupported)}')
    if 'rawframes' in formats and not args.frames_root:
        sys.exit('rawframes lists need --frames-root (or pass --formats videos)')
    if args.split and not spec.has_splits:
        sys.exit(f'{args.dataset} has no numbered splits; drop --split')
    options = dict(splits=args.split) if spec.has_splits else {}
    try:
        samples = spec.parse(args.ann_dir, **options)
    except (FileNotFoundError, ValueError) as exc:
        sys.exit(f'error: {exc}')
    os.makedirs(args.out_dir, exist_ok=True)
    report = write_file_lists(
        args.prefix or args.dataset,
        samples,
        args.out_dir,
        formats=formats,
        frames_root=args.frames_root,
        videos_root=args.videos_root,
        filename_tmpl=args.filename_tmpl or spec.filename_tmpl,
        fps=args.fps,
    )
    print(report.summary())
    return 0


if __name__ == '__main__':
    sys.exit(main())
