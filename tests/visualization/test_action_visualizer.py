import glob

import mmcv
import numpy as np
import pytest
import torch
from mmengine.registry import DefaultScope

from mmaction_ft.registry import VISUALIZERS
from mmaction_ft.structures import ActionDataSample
from mmaction_ft.visualization import ActionVisualizer

T, H, W = 3, 64, 80


@pytest.fixture
def video():
    return np.full((T, H, W, 3), 100, dtype=np.uint8)


@pytest.fixture
def sample():
    return ActionDataSample().set_gt_label(1).set_pred_score(torch.tensor([0.1, 0.2, 0.7]))


def _visualizer(name, **kwargs):
    vis = ActionVisualizer(name=name, **kwargs)
    vis.dataset_meta = dict(classes=['walk', 'run', 'jump'])
    return vis


def test_built_from_an_mmaction2_config_entry(tmp_path):
    with DefaultScope.overwrite_default_scope('mmaction_ft'):
        vis = VISUALIZERS.build(
            dict(
                type='ActionVisualizer',
                name='from_cfg',
                vis_backends=[dict(type='LocalVisBackend')],
                save_dir=str(tmp_path),
            )
        )
    assert isinstance(vis, ActionVisualizer)


def test_label_lines_name_classes_and_score(sample):
    vis = _visualizer('lines')
    assert vis._label_lines(sample, True, True, True) == ['gt: run', 'pred: jump (0.70)']
    assert vis._label_lines(sample, False, True, False) == ['pred: jump']
    vis.dataset_meta = None
    assert vis._label_lines(sample, True, False, False) == ['gt: 1']


def test_frames_are_drawn_and_saved_as_images(tmp_path, video, sample):
    vis = _visualizer('frames')
    drawn = vis.add_datasample('clip', video, sample, out_path=str(tmp_path))
    assert len(drawn) == T and drawn[0].shape == (H, W, 3)
    # The text box darkens the top-left corner; the rest of the frame is untouched.
    assert drawn[0][:8, :20].mean() < 100
    assert (drawn[0][-8:, -8:] == 100).all()
    files = sorted(glob.glob(str(tmp_path / 'clip_*.jpg')))
    assert len(files) == T
    assert mmcv.imread(files[0]).shape == (H, W, 3)


def test_strip_goes_to_the_backends(tmp_path, video, sample):
    vis = _visualizer('strip', vis_backends=[dict(type='LocalVisBackend')], save_dir=str(tmp_path))
    vis.add_datasample('clip', video, sample, step=2)
    saved = glob.glob(str(tmp_path / '**' / 'clip_2.png'), recursive=True)
    assert len(saved) == 1
    assert mmcv.imread(saved[0]).shape == (H, T * W, 3)


def test_video_output_and_resolution(tmp_path, video, sample):
    vis = _visualizer('video')
    out = tmp_path / 'out' / 'clip.mp4'
    drawn = vis.add_datasample(
        'clip', video, sample, out_path=str(out), out_type='video', target_resolution=(40, -1)
    )
    assert drawn[0].shape == (32, 40, 3)
    reader = mmcv.VideoReader(str(out))
    assert len(reader) == T and (reader.width, reader.height) == (40, 32)


def test_bad_arguments_are_named(video):
    vis = _visualizer('bad')
    with pytest.raises(ValueError, match="out_type must be one of \\('img', 'video'\\), got 'gif'"):
        vis.add_datasample('clip', video, out_type='gif')
    with pytest.raises(ValueError, match='RGB frames'):
        vis.add_datasample('clip', np.zeros((T, H, W), dtype=np.uint8))
