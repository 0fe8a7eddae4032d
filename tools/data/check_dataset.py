"""Check a dataset's annotation list against the files on disk (the dataset doctor).

Examples::

    python tools/data/check_dataset.py configs/tsn_r50_ucf101.py --split val --workers 4
    python tools/data/check_dataset.py --ann-file data/ucf101/ucf101_train_split_1_videos.txt \
        --data-root data/ucf101/videos --type videos --num-classes 101 --out-clean clean.txt

Exits with status 1 when a line has an error.
"""

import argparse
import sys

from mmaction_ft.datasets.preparation import check_dataset, dataset_settings_from_config


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
        '--decode',
        default='full',
        choices=('full', 'header'),
        help='decode every frame of each video, or only open it',
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
    if args.config:
        settings = dataset_settings_from_config(args.config, args.split)
        if args.num_classes is not None:
            settings['num_classes'] = args.num_classes
    else:
        settings = dict(
            ann_file=args.ann_file,
            data_root=args.data_root,
            data_type=args.type,
            num_classes=args.num_classes,
            multi_class=args.multi_class,
            with_offset=args.with_offset,
            start_index=args.start_index,
        )
        if args.type == 'rawframes':
            settings['filename_tmpl'] = args.filename_tmpl
    try:
        report = check_dataset(
            **settings, decode=args.decode, workers=args.workers, progress=not args.no_progress
        )
    except FileNotFoundError as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 2
    print(report.summary(max_per_kind=args.show))
    if args.out_clean:
        kept = report.write_clean(args.out_clean)
        print(f'wrote {kept} usable lines to {args.out_clean}')
    return 0 if report.ok else 1


if __name__ == '__main__':
    sys.exit(main())
