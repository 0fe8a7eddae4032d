"""Check a dataset's annotation list against the files on disk (the dataset doctor).

The list is read by the dataset training builds (from CONFIG, or from the flags) and every frame
file / video is decoded as the pipeline decodes it; see ``mmaction_ft.datasets.preparation.doctor``
for the issue kinds.

Examples::

    python tools/data/check_dataset.py configs/tsn_r50_ucf101.py --split val --workers 4
    python tools/data/check_dataset.py --ann-file data/ucf101/ucf101_train_split_1_videos.txt \
        --data-root data/ucf101/videos --type videos --num-classes 101 --out-clean clean.txt

Exits with status 1 when a line has an error, 2 when the list or the config cannot be read.
"""

import argparse
import sys

from mmaction_ft.datasets.preparation import check_config, check_dataset


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', nargs='?', help='config whose <split>_dataloader is checked')
    parser.add_argument('--split', default='train', choices=('train', 'val', 'test'))
    parser.add_argument('--ann-file', help='annotation list (instead of a config)')
    parser.add_argument('--data-root', default='', help='folder the list paths are relative to')
    parser.add_argument('--type', default='rawframes', choices=('rawframes', 'videos'))
    parser.add_argument('--num-classes', type=int, help='labels must be below this')
    parser.add_argument('--filename-tmpl', default='img_{:05}.jpg', help='frame file names')
    parser.add_argument('--start-index', type=int, help='first frame index (1 frames, 0 videos)')
    parser.add_argument('--multi-class', action='store_true', help='lines may hold several labels')
    parser.add_argument(
        '--with-offset', action='store_true', help='<dir> <offset> <frames> <label>'
    )
    parser.add_argument(
        '--test-mode', action='store_true', help='lines may omit the label (test lists)'
    )
    parser.add_argument(
        '--decode',
        default='full',
        choices=('full', 'header'),
        help='full: decode every frame file and every video to its end; '
        'header: only look frame files up and open videos',
    )
    parser.add_argument('--workers', type=int, default=1, help='number of processes')
    parser.add_argument('--out-clean', help='write the list without the lines that have errors')
    parser.add_argument('--show', type=int, default=10, help='examples printed per issue kind')
    parser.add_argument('--no-progress', action='store_true', help='hide the progress bar')
    args = parser.parse_args(argv)
    if bool(args.config) == bool(args.ann_file):
        parser.error('give either CONFIG or --ann-file')
    return args


def main(argv=None) -> int:
    args = parse_args(argv)
    options = dict(decode=args.decode, workers=args.workers, progress=not args.no_progress)
    try:
        if args.config:
            report = check_config(args.config, args.split, args.num_classes, **options)
        else:
            report = check_dataset(
                args.ann_file,
                args.data_root,
                args.type,
                num_classes=args.num_classes,
                filename_tmpl=args.filename_tmpl,
                multi_class=args.multi_class,
                with_offset=args.with_offset,
                start_index=args.start_index,
                test_mode=args.test_mode,
                **options,
            )
    except (FileNotFoundError, KeyError, ValueError) as exc:
        # A missing list or a config / argument the dataset refuses: nothing to check.
        print(f'error: {exc}', file=sys.stderr)
        return 2
    print(report.summary(max_per_kind=args.show))
    if args.out_clean:
        kept = report.write_clean(args.out_clean)
        print(f'wrote {kept} usable lines to {args.out_clean}')
    return 0 if report.ok else 1


if __name__ == '__main__':
    sys.exit(main())
