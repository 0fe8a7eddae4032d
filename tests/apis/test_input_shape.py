"""The input shape read from a config's pipeline is what the pipeline's FormatShape makes."""

import pytest
from mmengine.config import Config

from mmaction_ft.apis.input_shape import pipeline_inputs_shape, view_shape


def _pipeline(sampler: dict, crop: dict, layout: str) -> list:
    return [
        dict(type='DecordInit'),
        dict(type='SampleFrames', **sampler),
        dict(type='DecordDecode'),
        dict(type='Resize', scale=(-1, 256)),
        crop,
        dict(type='FormatShape', input_format=layout),
        dict(type='PackActionInputs'),
    ]


@pytest.mark.parametrize(
    'sampler, crop, layout, shape',
    [
        # TSN 25 x 10 views of single frames: every frame of every crop is a view.
        (dict(clip_len=1, num_clips=25), dict(type='TenCrop', crop_size=224), 'NCHW',
         (250, 3, 224, 224)),
        # TSM's twice_sample doubles the clips in test mode.
        (dict(clip_len=1, num_clips=8, twice_sample=True, test_mode=True),
         dict(type='CenterCrop', crop_size=224), 'NCHW', (16, 3, 224, 224)),
        # 3D: 10 clips x 3 crops of 32 frames; crop_size is (w, h).
        (dict(clip_len=32, frame_interval=2, num_clips=10),
         dict(type='ThreeCrop', crop_size=(64, 56)), 'NCTHW', (30, 3, 32, 56, 64)),
        (dict(clip_len=16), dict(type='Resize', scale=(112, 96), keep_ratio=False), 'NCTHW',
         (1, 3, 16, 96, 112)),
    ],
)  # fmt: skip
def test_pipeline_inputs_shape(sampler, crop, layout, shape):
    assert pipeline_inputs_shape(_pipeline(sampler, crop, layout)) == shape


def test_view_shape_is_one_crop_of_the_validation_pipeline():
    val_2d = _pipeline(dict(clip_len=1, num_clips=3), dict(type='ThreeCrop', crop_size=32), 'NCHW')
    val_3d = _pipeline(
        dict(clip_len=8, num_clips=2), dict(type='CenterCrop', crop_size=32), 'NCTHW'
    )
    assert view_shape(Config(dict(val_dataloader=dict(dataset=dict(pipeline=val_2d))))) == (
        3, 3, 32, 32,
    )  # fmt: skip
    assert view_shape(Config(dict(val_dataloader=dict(dataset=dict(pipeline=val_3d))))) == (
        1, 3, 8, 32, 32,
    )  # fmt: skip


@pytest.mark.parametrize(
    'pipeline, message',
    [
        ([dict(type='FormatShape', input_format='NCHW')], 'samples no frames'),
        (_pipeline(dict(clip_len=1), dict(type='CenterCrop', crop_size=8), 'NCHW_Flow'),
         "input_format='NCHW_Flow'"),
        (_pipeline(dict(clip_len=1), dict(type='Flip'), 'NCHW'), 'frame size'),
    ],
)  # fmt: skip
def test_unreadable_pipelines_say_why(pipeline, message):
    with pytest.raises(ValueError, match=message):
        pipeline_inputs_shape(pipeline)
