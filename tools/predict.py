"""Predict the action of videos with a trained checkpoint; no config needed for our checkpoints.

    python tools/predict.py video.mp4 --checkpoint best.pth
    python tools/predict.py videos/ --checkpoint best.pth --out preds.csv
    python tools/predict.py val_list.txt --data-prefix data/videos --checkpoint best.pth --topk 5
    python tools/predict.py long.mp4 --checkpoint best.pth --window 2 --stride 1 --out timeline.csv

See docs/inference.md.
"""

import argparse
import contextlib
import os.path as osp
import sys

from mmengine.config import DictAction


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Predict actions with a trained recognizer')
    parser.add_argument('input', help='a video file, a frame folder, a folder of videos or a list')
    parser.add_argument('--checkpoint', required=True, help='checkpoint path or URL')
    parser.add_argument('--config', help='config, for checkpoints that do not carry theirs')
    parser.add_argument('--topk', type=int, default=5, help='classes reported per video')
    parser.add_argument('--out', help='preds.csv / preds.json (timeline.csv / .json with --window)')
    parser.add_argument('--data-prefix', help='root of the paths in an annotation list')
    parser.add_argument('--device', default='cpu', help='cpu, cuda, cuda:1 ...')
    parser.add_argument('--window', type=float, help='seconds per window: a timeline of one video')
    parser.add_argument('--stride', type=float, help='seconds between windows (default: --window)')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='mixed precision: bfloat16 on a CPU with AVX-512 BF16 / AMX (about twice as fast '
        'there), float16 on a GPU; scores differ from float32 by the rounding',
    )
    parser.add_argument(
        '--cfg-options', nargs='+', action=DictAction, default={}, help='override config keys'
    )
    return parser.parse_args()


def timeline(model, args: argparse.Namespace) -> int:
    from mmaction_ft.apis.timeline import plot_timeline, video_timeline, write_timeline

    if not osp.isfile(args.input):
        sys.exit(f'--window needs one video file, got {args.input}')
    rows = video_timeline(
        model, args.input, args.window, args.stride or args.window, args.topk, progress=True
    )
    for row in rows:
        print(f'{row["start"]:8.2f} - {row["end"]:8.2f} s  {row["top_class"]}  {row["score"]:.3f}')
    if args.out:
        write_timeline(rows, args.out)
        chart = plot_timeline(rows, osp.splitext(args.out)[0] + '.png', osp.basename(args.input))
        print(f'timeline written to {args.out} and {chart}')
    return 0


def main() -> int:
    args = parse_args()
    from mmaction_ft.apis import (
        collect_inputs,
        format_table,
        inference_autocast,
        init_recognizer,
        predict_videos,
        write_predictions,
    )
    from mmaction_ft.engine.checkpoint import UnsafeCheckpointError

    try:
        if args.config:
            model = init_recognizer(args.config, args.checkpoint, args.device, args.cfg_options)
        else:
            model = init_recognizer(args.checkpoint, None, args.device, args.cfg_options)
    except (ValueError, OSError, UnsafeCheckpointError) as err:
        sys.exit(f'error: {err}')
    precision = contextlib.nullcontext()
    if args.amp:
        precision, what = inference_autocast(args.device)
        print(f'--amp: {what}')
    if args.window:
        with precision:
            return timeline(model, args)

    try:
        paths = collect_inputs(args.input, args.data_prefix)
    except FileNotFoundError as err:
        sys.exit(f'error: {err}')
    with precision:
        rows, failures = predict_videos(model, paths, args.topk)
    print(format_table(rows))
    if args.out:
        write_predictions(rows, args.out)
        print(f'{len(rows)} predictions written to {args.out}')
    if failures:
        print(f'\n{len(failures)} video(s) failed:', file=sys.stderr)
        for path, error in failures:
            print(f'  {path}: {error}', file=sys.stderr)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main())
