"""Write the synthetic motion dataset used by the finetuning demo (no download needed).

Example::

    python tools/data/make_demo_dataset.py data/demo --class-set source
    python tools/data/make_demo_dataset.py data/demo --class-set target
"""

import argparse

from mmaction_ft.demo.data import CLASS_DESCRIPTIONS, CLASS_SETS, make_demo_dataset


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('out_dir', help='root folder of the dataset (created if missing)')
    parser.add_argument('--class-set', default='source', choices=sorted(CLASS_SETS))
    parser.add_argument('--videos-per-class', type=int, default=30)
    parser.add_argument('--num-frames', type=int, default=24)
    parser.add_argument(
        '--size',
        type=int,
        nargs='+',
        default=[64],
        metavar='PIXELS',
        help='frame size: one int for square frames, or HEIGHT WIDTH',
    )
    split = parser.add_mutually_exclusive_group()
    split.add_argument(
        '--val-fraction', type=float, default=0.25, help='share of each class that goes to val'
    )
    split.add_argument(
        '--val-per-class', type=int, help='val videos per class (instead of a fraction)'
    )
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--formats', nargs='+', default=['videos', 'rawframes'], choices=['videos', 'rawframes']
    )
    parser.add_argument('--fps', type=float, default=12)
    parser.add_argument(
        '--overwrite', action='store_true', help='replace demo data made here with other arguments'
    )
    args = parser.parse_args()
    if len(args.size) not in (1, 2):
        parser.error('--size takes one int or HEIGHT WIDTH')
    return args


def main() -> None:
    args = parse_args()
    info = make_demo_dataset(
        args.out_dir,
        class_set=args.class_set,
        videos_per_class=args.videos_per_class,
        num_frames=args.num_frames,
        size=args.size[0] if len(args.size) == 1 else tuple(args.size),
        val_fraction=args.val_fraction,
        val_per_class=args.val_per_class,
        seed=args.seed,
        formats=args.formats,
        fps=args.fps,
        overwrite=args.overwrite,
    )
    action = 'reused existing' if info['reused'] else 'wrote'
    print(
        f'{action} {info["class_set"]!r} demo data in {info["data_root"]} '
        f'({info["num_train"]} train + {info["num_val"]} val videos, {info["num_frames"]} frames '
        f'each, {info["seconds"]:.1f} s)'
    )
    for label, name in enumerate(info['classes']):
        print(f'  {label:2d} {name:<24} {CLASS_DESCRIPTIONS[name]}')
    for key in (
        'label_map',
        'videos_prefix',
        'train_list_videos',
        'val_list_videos',
        'rawframes_prefix',
        'train_list_rawframes',
        'val_list_rawframes',
        'manifest',
    ):
        if key in info:
            print(f'  {key:<21} {info[key]}')


if __name__ == '__main__':
    main()
