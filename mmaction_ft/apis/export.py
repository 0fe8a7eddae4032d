"""Exporting a recognizer to ONNX or TorchScript, and checking the file against the eager model.

The exported graph is :class:`ExportableRecognizer`: one tensor in, the batch of views of each
video ``[N, num_views, C, (T,) H, W]`` (already normalised, or raw uint8 frames when it includes
the preprocessing), and one tensor out, the per-video class scores after the head's test-time
averaging (``cls_head.average_clips``): exactly the ``pred_score`` that ``tools/test.py`` sees.

- ONNX: ``torch.onnx.export(dynamo=True)``, the ``torch.export``-based exporter (the default
  since torch 2.9; needs ``onnxscript``), checked with ``onnxruntime``
  (``pip install 'mmaction_ft[onnx]'``).
- TorchScript: ``torch.jit.trace``, checked with ``torch.jit.load``. Tracing records the ops of
  this input; shapes other than the batch size are fixed.

:func:`export_recognizer` exports, runs the file on the same random input as the eager model
(its ``predict`` path, not the wrapper) and reports the largest absolute difference.
"""

import os
import os.path as osp
import warnings
from dataclasses import dataclass, field
from typing import List, Sequence

import numpy as np
import torch
from torch import nn

from mmaction_ft.structures import ActionDataSample

__all__ = [
    'EXPORT_FORMATS',
    'ExportResult',
    'ExportableRecognizer',
    'eager_scores',
    'export_recognizer',
    'random_inputs',
    'run_exported',
]

EXPORT_FORMATS = ('onnx', 'torchscript')
EXTENSIONS = {'onnx': '.onnx', 'torchscript': '.pt'}
# A single .onnx file is a protobuf, limited to 2 GiB: larger weights go to a .onnx.data file.
_ONNX_INLINE_LIMIT = 1 << 30


class ExportableRecognizer(nn.Module):
    """A recognizer as one tensor-to-tensor function: views in, per-video class scores out.

    Args:
        recognizer: A built recognizer with a ``cls_head``, in eval mode.
        with_preprocessing: Take raw frames (uint8 pixel values, channels as the pipeline
            decodes them) and apply the data preprocessor's BGR/RGB flip and mean/std inside.
    """

    def __init__(self, recognizer: nn.Module, with_preprocessing: bool = False) -> None:
        super().__init__()
        if getattr(recognizer, 'cls_head', None) is None:
            raise ValueError('only a recognizer with a cls_head can be exported')
        if with_preprocessing and not hasattr(recognizer.data_preprocessor, 'normalize'):
            raise ValueError(
                f'--with-preprocessing needs a data preprocessor with normalize(inputs); '
                f'{type(recognizer.data_preprocessor).__name__} has none'
            )
        self.recognizer = recognizer
        self.with_preprocessing = with_preprocessing

    def forward(self, inputs: torch.Tensor) -> torch.Tensor:
        """``[N, num_views, C, (T,) H, W]`` -> ``[N, num_classes]`` (``[N, rows, num_classes]``
        when ``average_clips`` is None and the head scores each view)."""
        if self.with_preprocessing:
            inputs = self.recognizer.data_preprocessor.normalize(inputs.float())
        scores, _ = self.recognizer.extract_feat(inputs, stage='head', test_mode=True)
        # scores: [N * rows, num_classes], rows = 1 (TSN merges the views) or num_views
        rows = scores.shape[0] // inputs.shape[0]
        return self.recognizer.cls_head.average_clip(scores, num_segs=rows)


def random_inputs(
    shape: Sequence[int], with_preprocessing: bool = False, seed: int = 0
) -> torch.Tensor:
    """A reproducible input of ``shape``: uint8 pixels for a model with its preprocessing,
    else standard-normal floats (what normalised frames look like)."""
    generator = torch.Generator().manual_seed(seed)
    if with_preprocessing:
        return torch.randint(0, 256, tuple(shape), generator=generator, dtype=torch.uint8)
    return torch.randn(tuple(shape), generator=generator)


@torch.no_grad()
def eager_scores(
    recognizer: nn.Module, inputs: torch.Tensor, with_preprocessing: bool = False
) -> torch.Tensor:
    """``pred_score`` of each video from the recognizer's own test path, stacked.

    With preprocessing, ``inputs`` go through ``test_step`` (the data preprocessor, then
    ``predict``) as a data loader's batch would; without, straight to ``predict``.
    """
    samples = [ActionDataSample() for _ in range(inputs.shape[0])]
    if with_preprocessing:
        samples = recognizer.test_step({'inputs': inputs, 'data_samples': samples})
    else:
        samples = recognizer(inputs, samples, mode='predict')
    return torch.stack([sample.pred_score for sample in samples])


def _export_onnx(module: nn.Module, inputs: torch.Tensor, path: str, dynamic_batch: bool) -> None:
    try:
        import onnxscript  # noqa: F401  (torch's exporter needs it; say so before it fails)
    except ImportError as error:
        raise ImportError(
            "ONNX export needs onnx and onnxscript: pip install 'mmaction_ft[onnx]'"
        ) from error
    dynamic_shapes = ({0: torch.export.Dim('batch')},) if dynamic_batch else None
    params = sum(p.numel() * p.element_size() for p in module.parameters())
    torch.onnx.export(
        module,
        (inputs,),
        path,
        dynamo=True,
        input_names=['inputs'],
        output_names=['scores'],
        dynamic_shapes=dynamic_shapes,
        external_data=params > _ONNX_INLINE_LIMIT,
        verbose=False,
    )


def _export_torchscript(module: nn.Module, inputs: torch.Tensor, path: str) -> None:
    with warnings.catch_warnings():
        # torch >= 2.10 marks TorchScript deprecated; it still is what C++/mobile runtimes load.
        warnings.filterwarnings('ignore', message=r'`torch\.jit\.\w+` is deprecated')
        traced = torch.jit.trace(module, (inputs,), check_trace=False)
    traced.save(path)


def run_exported(path: str, fmt: str, inputs: torch.Tensor) -> np.ndarray:
    """Run an exported file on ``inputs`` on the CPU (onnxruntime or ``torch.jit.load``)."""
    if fmt == 'onnx':
        try:
            import onnxruntime
        except ImportError as error:
            raise ImportError(
                "checking an ONNX export needs onnxruntime: pip install 'mmaction_ft[onnx]'"
            ) from error
        session = onnxruntime.InferenceSession(path, providers=['CPUExecutionProvider'])
        (output,) = session.run(None, {session.get_inputs()[0].name: inputs.numpy()})
        return output
    if fmt == 'torchscript':
        with warnings.catch_warnings():
            warnings.filterwarnings('ignore', message=r'`torch\.jit\.\w+` is deprecated')
            loaded = torch.jit.load(path, map_location='cpu')
        with torch.no_grad():
            return loaded(inputs).numpy()
    raise ValueError(f'format must be one of {EXPORT_FORMATS}, got {fmt!r}')


@dataclass
class ExportResult:
    """What :func:`export_recognizer` wrote and how close the file is to the eager model.

    Attributes:
        path: The exported file.
        batch_sizes: The batch sizes the file was run on (two with a dynamic batch).
        max_abs_diffs: The largest ``|exported - eager|`` of the scores, per batch size.
    """

    path: str
    batch_sizes: List[int] = field(default_factory=list)
    max_abs_diffs: List[float] = field(default_factory=list)

    @property
    def max_abs_diff(self) -> float:
        return max(self.max_abs_diffs)


def export_recognizer(
    recognizer: nn.Module,
    out: str,
    fmt: str,
    inputs_shape: Sequence[int],
    with_preprocessing: bool = False,
    dynamic_batch: bool = False,
) -> ExportResult:
    """Export ``recognizer`` to ``out`` and compare the file with the eager model.

    Args:
        recognizer: A built recognizer (moved to the CPU and put in eval mode here).
        out: The file to write.
        fmt: ``'onnx'`` or ``'torchscript'``.
        inputs_shape: The batch ``[N, num_views, C, (T,) H, W]``; all but ``N`` are fixed in
            the exported graph.
        with_preprocessing: The file takes raw uint8 frames (see :class:`ExportableRecognizer`).
        dynamic_batch: Let the file take any batch size; it is then checked at ``N`` and
            ``N + 1``.

    Returns:
        The path and the largest absolute score difference at each checked batch size.
    """
    if fmt not in EXPORT_FORMATS:
        raise ValueError(f'format must be one of {EXPORT_FORMATS}, got {fmt!r}')
    recognizer = recognizer.cpu().eval()
    module = ExportableRecognizer(recognizer, with_preprocessing).eval()
    batch = int(inputs_shape[0])
    example = random_inputs(inputs_shape, with_preprocessing)
    if dynamic_batch and batch == 1:
        # torch.export specialises a size-1 dim to the constant 1: trace with 2 videos.
        example = random_inputs((2,) + tuple(inputs_shape[1:]), with_preprocessing)
    os.makedirs(osp.dirname(osp.abspath(out)), exist_ok=True)
    with torch.no_grad():
        if fmt == 'onnx':
            _export_onnx(module, example, out, dynamic_batch)
        else:
            _export_torchscript(module, example, out)

    result = ExportResult(out)
    for size in [batch, batch + 1] if dynamic_batch else [batch]:
        inputs = random_inputs((size,) + tuple(inputs_shape[1:]), with_preprocessing, seed=size)
        expected = eager_scores(recognizer, inputs, with_preprocessing).numpy()
        got = run_exported(out, fmt, inputs)
        if got.shape != expected.shape:
            raise RuntimeError(
                f'the exported model returns scores of shape {got.shape}, the eager model '
                f'{expected.shape} (batch of {size})'
            )
        result.batch_sizes.append(size)
        result.max_abs_diffs.append(float(np.abs(got - expected).max()))
    return result
