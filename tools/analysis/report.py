"""One HTML page about a training run: ``tools/analysis/report.py WORK_DIR --out report.html``.

Curves, final and best metrics, the per-class table and confusion matrix of a test run
(``tools/test.py CONFIG CKPT --out-dir EVAL_DIR``; found inside WORK_DIR or given with
``--eval-dir``), the weight loading and head swap, hardware and software, and the config used;
pictures are embedded, so the page is one file.
"""

import argparse
import sys

from mmaction_ft.apis.report import write_report


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('work_dir', help="the run's work dir")
    parser.add_argument('--out', default='report.html', help='the HTML file to write')
    parser.add_argument('--eval-dir', help='the --out-dir of tools/test.py (default: searched)')
    args = parser.parse_args(argv)
    try:
        out = write_report(args.work_dir, args.out, args.eval_dir)
    except FileNotFoundError as exc:
        print(f'error: {exc}', file=sys.stderr)
        return 2
    print(f'wrote {out}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
