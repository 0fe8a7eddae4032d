"""Memory and accuracy of a sliding-window timeline over a long synthetic video.

Writes a video whose class changes every ``--segment`` seconds (the demo's target motions, one
after the other, each segment made of independent demo clips), runs the recognizer of a
checkpoint over it window by window, and prints the process RSS after every tenth of the
windows, the peak, and how often the top class of a window inside a segment is that segment's
class. The video is written by a separate process, so its frames never count in the RSS.

    python tools/demo_finetune.py       # a finetuned demo checkpoint (5 target motions)
    python tools/analysis/bench_timeline.py --checkpoint work_dirs/.../best_acc_top1_epoch_N.pth
"""

import argparse
import os
import os.path as osp
import resource
import subprocess
import sys
import tempfile
import time
from typing import List

from mmaction_ft.apis import init_recognizer, video_timeline


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--checkpoint', required=True, help='a checkpoint with class names')
    parser.add_argument('--minutes', type=float, default=10.0, help='video length')
    parser.add_argument('--segment', type=float, default=60.0, help='seconds per class')
    parser.add_argument('--size', type=int, default=112, help='frame side in pixels')
    parser.add_argument('--fps', type=int, default=12)
    parser.add_argument('--window', type=float, default=2.0, help='seconds')
    parser.add_argument('--stride', type=float, default=2.0, help='seconds')
    parser.add_argument('--video', help='reuse (or write) the long video here')
    parser.add_argument('--write-only', action='store_true', help=argparse.SUPPRESS)
    return parser.parse_args()


def segment_classes(classes: List[str], num_segments: int) -> List[str]:
    return [classes[i % len(classes)] for i in range(num_segments)]


def write_long_video(path: str, classes: List[str], args: argparse.Namespace) -> None:
    """Stream the video to ``path`` segment by segment (never more than one clip in memory)."""
    import cv2

    from mmaction_ft.demo.data import render_video

    frames_per_segment = round(args.segment * args.fps)
    num_segments = round(args.minutes * 60 / args.segment)
    writer = cv2.VideoWriter(
        path, cv2.VideoWriter_fourcc(*'mp4v'), args.fps, (args.size, args.size)
    )
    try:
        for segment, name in enumerate(segment_classes(classes, num_segments)):
            written, clip = 0, 0
            while written < frames_per_segment:
                frames = render_video(name, index=1000 * segment + clip, size=args.size)
                for frame in frames[: frames_per_segment - written]:
                    writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
                written += len(frames)
                clip += 1
    finally:
        writer.release()


def rss_mib() -> float:
    with open('/proc/self/status') as f:
        for line in f:
            if line.startswith('VmRSS:'):
                return int(line.split()[1]) / 1024
    return float('nan')


def main() -> None:
    args = parse_args()
    model = init_recognizer(args.checkpoint)
    classes = list(model.dataset_meta['classes'])
    video = args.video or osp.join(tempfile.mkdtemp(), 'long.mp4')
    if args.write_only:
        write_long_video(video, classes, args)
        return
    if not osp.isfile(video):
        start = time.time()
        # A child process writes it: the frames it renders never enter this process's RSS.
        subprocess.run(
            [sys.executable, __file__, *sys.argv[1:], '--video', video, '--write-only'],
            check=True,
        )
        print(
            f'wrote {video} ({os.path.getsize(video) / 2**20:.1f} MiB) in '
            f'{time.time() - start:.0f} s'
        )

    samples = []

    def on_window(index: int, row: dict) -> None:
        samples.append(rss_mib())

    start = time.time()
    rows = video_timeline(model, video, args.window, args.stride, on_window=on_window)
    seconds = time.time() - start
    num_segments = round(args.minutes * 60 / args.segment)
    truth = segment_classes(classes, num_segments)
    inside = [
        r for r in rows if int(r['start'] // args.segment) == int((r['end'] - 1e-6) // args.segment)
    ]
    hits = sum(r['top_class'] == truth[int(r['start'] // args.segment)] for r in inside)
    changes_found = sum(
        1
        for k in range(1, num_segments)
        if any(r['top_class'] == truth[k] for r in inside if int(r['start'] // args.segment) == k)
    )
    tenths = [samples[min(len(samples) - 1, round(i * len(samples) / 10))] for i in range(10)]
    print(
        f'{args.minutes:g} min, {args.size} px, {args.fps} fps: {len(rows)} windows of '
        f'{args.window:g} s every {args.stride:g} s in {seconds:.0f} s'
    )
    print('RSS after each tenth of the windows (MiB): ' + ', '.join(f'{m:.0f}' for m in tenths))
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    print(
        f'RSS: first window {samples[0]:.0f} MiB, last {samples[-1]:.0f} MiB, max over windows '
        f'{max(samples):.0f} MiB; process peak {peak:.0f} MiB'
    )
    print(
        f'top class = segment class in {hits}/{len(inside)} windows inside a segment '
        f'({hits / max(len(inside), 1):.1%}); each of the {num_segments - 1} class changes '
        f'followed by a window with the new class: {changes_found}/{num_segments - 1}'
    )


if __name__ == '__main__':
    main()
