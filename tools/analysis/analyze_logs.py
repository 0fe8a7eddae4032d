"""Training curves and training time from a run's logs, as MMAction2's analyze_logs.py offers them.

Examples::

    python tools/analysis/analyze_logs.py plot_curve work_dirs/tsn_ucf101 \
        --keys loss acc/top1 lr --out curves.png
    python tools/analysis/analyze_logs.py plot_curve work_dirs/a work_dirs/b --keys acc/top1 \
        --legend lr0.01 lr0.005 --out compare.png
    python tools/analysis/analyze_logs.py cal_train_time work_dirs/tsn_ucf101

Each path is a work dir (every run in it, resumes merged into one curve), one run's
``<timestamp>`` dir, or a ``scalars.json`` file.
"""

import argparse
import sys

from mmaction_ft.visualization.training_logs import (
    load_training_log,
    plot_curves,
    train_time_stats,
)


def parse_args(argv=None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest='command', required=True)
    plot = commands.add_parser('plot_curve', help='plot scalars over iterations')
    plot.add_argument('logs', nargs='+', help='work dirs, run dirs or scalars.json files')
    plot.add_argument('--keys', nargs='+', default=['loss'], help='scalars to plot')
    plot.add_argument('--title', help='figure title')
    plot.add_argument('--legend', nargs='+', help='one label per log')
    plot.add_argument('--out', required=True, help='image file (.png, .pdf, .svg)')
    timing = commands.add_parser('cal_train_time', help='seconds per iteration')
    timing.add_argument('logs', nargs='+', help='work dirs, run dirs or scalars.json files')
    timing.add_argument(
        '--include-outliers', action='store_true', help='keep the first interval of each start'
    )
    return parser.parse_args(argv)


def main(argv=None) -> int:
    args = parse_args(argv)
    try:
        logs = [load_training_log(path) for path in args.logs]
        if args.command == 'plot_curve':
            out = plot_curves(logs, args.keys, args.out, title=args.title, legend=args.legend)
            print(f'wrote {out}')
            return 0
        for log in logs:
            stats = train_time_stats(log, include_outliers=args.include_outliers)
            print(f'{log.source}: {stats["iters"]} iterations')
            print(f'  average {stats["mean"]:.4f} s/iter, std {stats["std"]:.4f}')
            if 'slowest_epoch' in stats:
                print(
                    f'  slowest epoch {stats["slowest_epoch"]} '
                    f'({stats["slowest_epoch_time"]:.4f} s/iter), fastest epoch '
                    f'{stats["fastest_epoch"]} ({stats["fastest_epoch_time"]:.4f} s/iter)'
                )
    except (FileNotFoundError, KeyError, ValueError) as exc:
        print(f'error: {exc.args[0] if isinstance(exc, KeyError) else exc}', file=sys.stderr)
        return 2
    return 0


if __name__ == '__main__':
    sys.exit(main())
