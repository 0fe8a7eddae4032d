"""Extract video frames into ``img_00001.jpg`` folders for RawframeDataset.

Example (UCF101, short side 256, 8 processes; run again to resume)::

    python tools/data/extract_frames.py data/ucf101/videos data/ucf101/rawframes \
        --short-side 256 --workers 8
"""

import argparse
import os.path as osp
import sys

from mmaction_ft.datasets.preparation import extract_frames
from mmaction_ft.datasets.preparation.frame_extraction import BACKENDS, VIDEO_EXTS

FAILURES_FILE = 'extraction_failures.txt'


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('src_dir', help='root folder of the videos (searched recursively)')
    parser.add_argument('out_dir', help='root folder of the frame folders')
    parser.add_argument('--ext', nargs='+', default=list(VIDEO_EXTS), help='video extensions')
    resize = parser.add_mutually_exclusive_group()
    resize.add_argument('--short-side', type=int, help='resize the shorter side to this length')
    resize.add_argument('--size', type=int, nargs=2, metavar=('W', 'H'), help='fixed frame size')
    parser.add_argument('--quality', type=int, default=95, help='JPEG quality (0-100)')
    parser.add_argument('--filename-tmpl', default='img_{:05d}.jpg', help='frame file names')
    parser.add_argument('--backend', default='decord', choices=BACKENDS, help='video decoder')
    parser.add_argument('--workers', type=int, default=1, help='number of processes')
    parser.add_argument('--no-progress', action='store_true', help='hide the progress bar')
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    if not osp.isdir(args.src_dir):
        print(f'error: video folder {args.src_dir} not found', file=sys.stderr)
        return 2
    report = extract_frames(
        args.src_dir,
        args.out_dir,
        exts=args.ext,
        short_side=args.short_side,
        size=tuple(args.size) if args.size else None,
        quality=args.quality,
        filename_tmpl=args.filename_tmpl,
        backend=args.backend,
        workers=args.workers,
        progress=not args.no_progress,
    )
    print(report.summary())
    if report.failed:
        path = osp.join(args.out_dir, FAILURES_FILE)
        with open(path, 'w', encoding='utf-8') as f:
            f.writelines(f'{video}\t{error}\n' for video, error in sorted(report.failed.items()))
        print(f'failures listed in {path}')
    return 1 if report.failed else 0


if __name__ == '__main__':
    sys.exit(main())
