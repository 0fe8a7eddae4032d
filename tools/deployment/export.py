"""Export a recognizer to ONNX or TorchScript and check the file against the eager model.

    python tools/deployment/export.py CKPT --format onnx [--config CFG] [--out FILE]
        [--with-preprocessing] [--dynamic-batch] [--input-shape N V C (T) H W]

The exported model takes ``[N, num_views, C, (T,) H, W]`` (the test pipeline's views of N
videos; raw uint8 frames with ``--with-preprocessing``) and returns per-video class scores,
averaged over the views as in testing. The file is then run (onnxruntime / torch.jit) on a
random input and compared with the eager model; the exit status is 1 when the largest absolute
difference exceeds ``--atol``. See docs/deployment.md.
"""

import argparse
import os.path as osp
import sys
from typing import List, Optional

from mmaction_ft.apis import inference_settings, init_recognizer
from mmaction_ft.apis.export import EXPORT_FORMATS, EXTENSIONS, export_recognizer
from mmaction_ft.apis.input_shape import pipeline_inputs_shape


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description='Export a recognizer to ONNX or TorchScript')
    parser.add_argument('checkpoint', help='checkpoint file (its meta holds the config)')
    parser.add_argument('--config', help='config, for checkpoints without one in their meta')
    parser.add_argument('--format', choices=EXPORT_FORMATS, required=True)
    parser.add_argument('--out', help='output file (default: the checkpoint name, .onnx / .pt)')
    parser.add_argument(
        '--with-preprocessing',
        action='store_true',
        help="take raw uint8 frames and apply the data preprocessor's mean/std inside",
    )
    parser.add_argument(
        '--dynamic-batch', action='store_true', help='let the file take any number of videos'
    )
    parser.add_argument(
        '--input-shape',
        type=int,
        nargs='+',
        metavar='DIM',
        help='N num_views C (T) H W; default: 1 video as the test pipeline makes it',
    )
    parser.add_argument(
        '--atol', type=float, default=1e-4, help='largest allowed |exported - eager| score'
    )
    return parser.parse_args(argv)


def main(argv: Optional[List[str]] = None) -> int:
    args = parse_args(argv)
    if args.config:
        model = init_recognizer(args.config, args.checkpoint)
    else:
        model = init_recognizer(args.checkpoint)
    shape = args.input_shape
    if shape is None:
        shape = (1,) + pipeline_inputs_shape(inference_settings(model.cfg)['test_pipeline'])
    out = args.out or osp.splitext(args.checkpoint)[0] + EXTENSIONS[args.format]
    result = export_recognizer(
        model,
        out,
        args.format,
        shape,
        with_preprocessing=args.with_preprocessing,
        dynamic_batch=args.dynamic_batch,
    )
    print(f'exported {args.format} to {result.path} (input {list(shape)})')
    for size, diff in zip(result.batch_sizes, result.max_abs_diffs):
        print(f'batch of {size}: max abs difference to the eager model {diff:.3g}')
    if result.max_abs_diff > args.atol:
        print(f'FAILED: {result.max_abs_diff:.3g} > {args.atol:g}', file=sys.stderr)
        return 1
    print(f'OK (<= {args.atol:g})')
    return 0


if __name__ == '__main__':
    sys.exit(main())
