"""ONNX and TorchScript exports of a 2D and a 3D recognizer give the eager model's scores."""

import importlib.util

import numpy as np
import pytest
import torch

from mmaction_ft.apis.export import (
    ExportableRecognizer,
    eager_scores,
    export_recognizer,
    random_inputs,
    run_exported,
)
from mmaction_ft.registry import MODELS
from mmaction_ft.utils import register_all_modules

ATOL = 1e-4
NORM = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375])
TSN = dict(
    type='Recognizer2D',
    backbone=dict(type='ResNet', depth=18, pretrained=None),
    cls_head=dict(type='TSNHead', num_classes=5, in_channels=512, average_clips='prob'),
    data_preprocessor=dict(type='ActionDataPreprocessor', format_shape='NCHW', **NORM),
)
I3D = dict(
    type='Recognizer3D',
    backbone=dict(
        type='ResNet3d',
        depth=18,
        base_channels=16,  # stage 4 gives 16 x 8 = 128 channels
        pretrained=None,
        pretrained2d=False,
        inflate=((1, 1), (1, 0), (1, 0), (0, 1)),
    ),
    cls_head=dict(type='I3DHead', num_classes=5, in_channels=128, average_clips='prob'),
    data_preprocessor=dict(type='ActionDataPreprocessor', format_shape='NCTHW', **NORM),
)
# [N, num_views, C, (T,) H, W]: TSN with 3 segments, I3D with 2 views of 4 frames; 32 px.
SHAPES = {'tsn': (1, 3, 3, 32, 32), 'i3d': (1, 2, 3, 4, 32, 32)}
MODEL_CFGS = {'tsn': TSN, 'i3d': I3D}

HAS_ORT = all(importlib.util.find_spec(m) for m in ('onnxruntime', 'onnxscript'))
needs_onnxruntime = pytest.mark.skipif(
    not HAS_ORT,
    reason="onnxruntime / onnxscript not installed (pip install 'mmaction_ft[onnx]')",
)


def build(name: str, **head):
    register_all_modules()
    cfg = dict(MODEL_CFGS[name], cls_head=dict(MODEL_CFGS[name]['cls_head'], **head))
    torch.manual_seed(0)
    return MODELS.build(cfg).eval()


@pytest.mark.parametrize(
    'name, fmt, dynamic',
    [
        pytest.param('tsn', 'onnx', True, marks=needs_onnxruntime),
        ('tsn', 'torchscript', False),
        pytest.param('i3d', 'onnx', False, marks=needs_onnxruntime),
        ('i3d', 'torchscript', True),
    ],
)
def test_export_matches_eager(tmp_path, name, fmt, dynamic):
    out = str(tmp_path / f'{name}.{fmt}')
    result = export_recognizer(build(name), out, fmt, SHAPES[name], dynamic_batch=dynamic)
    # A dynamic batch is checked at the export's N and at N + 1.
    assert result.batch_sizes == ([1, 2] if dynamic else [1])
    assert result.max_abs_diff <= ATOL, result.max_abs_diffs
    if dynamic:  # probabilities of 5 classes, one row per video, for any number of videos
        scores = run_exported(out, fmt, random_inputs((3,) + SHAPES[name][1:]))
        assert scores.shape == (3, 5)
        np.testing.assert_allclose(scores.sum(axis=1), 1, atol=1e-5)
    elif fmt == 'onnx':  # the batch size is part of the graph
        import onnxruntime

        with pytest.raises(onnxruntime.capi.onnxruntime_pybind11_state.InvalidArgument):
            run_exported(out, fmt, random_inputs((2,) + SHAPES[name][1:]))


@needs_onnxruntime
def test_with_preprocessing_takes_uint8_frames_and_normalises(tmp_path):
    import onnxruntime

    model = build('tsn')
    out = str(tmp_path / 'tsn_pre.onnx')
    result = export_recognizer(model, out, 'onnx', SHAPES['tsn'], with_preprocessing=True)
    # eager_scores runs test_step: the data preprocessor, then predict.
    assert result.max_abs_diff <= ATOL
    session = onnxruntime.InferenceSession(out, providers=['CPUExecutionProvider'])
    assert session.get_inputs()[0].type == 'tensor(uint8)'
    frames = random_inputs(SHAPES['tsn'], with_preprocessing=True)
    unnormalised = eager_scores(model, frames.float()).numpy()
    assert np.abs(run_exported(out, 'onnx', frames) - unnormalised).max() > 1e-3


def test_torchscript_with_preprocessing_3d(tmp_path):
    result = export_recognizer(
        build('i3d'), str(tmp_path / 'i3d.pt'), 'torchscript', SHAPES['i3d'], True, True
    )
    assert result.max_abs_diff <= ATOL


@pytest.mark.parametrize('average_clips, shape', [('score', (2, 5)), (None, (2, 2, 5))])
def test_wrapper_averages_views_as_predict_does(average_clips, shape):
    model = build('i3d', average_clips=average_clips)
    inputs = random_inputs((2,) + SHAPES['i3d'][1:])
    with torch.no_grad():
        wrapped = ExportableRecognizer(model)(inputs)
    assert wrapped.shape == shape
    torch.testing.assert_close(wrapped, eager_scores(model, inputs), rtol=0, atol=0)


def test_wrapper_needs_a_head():
    model = build('tsn')
    del model.cls_head
    with pytest.raises(ValueError, match='cls_head'):
        ExportableRecognizer(model)


def test_unknown_format_is_refused(tmp_path):
    with pytest.raises(ValueError, match="'onnx', 'torchscript'"):
        export_recognizer(build('tsn'), str(tmp_path / 'x'), 'tflite', SHAPES['tsn'])
