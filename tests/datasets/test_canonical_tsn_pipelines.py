"""The canonical TSN pipelines (COMPAT.md section 4) on generator data: frame folders and mp4s."""

from pathlib import Path

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.dataset import Compose
from mmengine.registry import DefaultScope

from mmaction_ft.demo.data import make_demo_dataset
from mmaction_ft.utils import register_all_modules

REPO = Path(__file__).resolve().parents[2]
UCF101_BASE = REPO / 'configs/_base_/datasets/ucf101_rawframes_tsn.py'


def _as_video_pipeline(pipeline: list) -> list:
    """The same pipeline reading an mp4: DecordInit before sampling, DecordDecode for frames."""
    out = [dict(type='DecordInit')]
    for step in pipeline:
        out.append(dict(type='DecordDecode') if step['type'] == 'RawFrameDecode' else step)
    return out


@pytest.fixture(scope='module')
def sample(tmp_path_factory):
    register_all_modules()
    root = tmp_path_factory.mktemp('canonical')
    data = make_demo_dataset(
        str(root), class_set='target', videos_per_class=1, val_per_class=0, num_frames=24, size=64
    )
    name = Path(data['train_list_rawframes']).read_text().split()[0]
    frames = dict(
        frame_dir=str(Path(data['rawframes_prefix']) / name),
        total_frames=24,
        label=0,
        start_index=1,
        filename_tmpl='img_{:05}.jpg',
        modality='RGB',
    )
    video = dict(
        filename=str(Path(data['videos_prefix']) / f'{name}.mp4'),
        label=0,
        start_index=0,
        modality='RGB',
    )
    return frames, video


@pytest.mark.parametrize('split, views', [('train', 3), ('val', 3), ('test', 250)])
def test_both_sources_give_tsn_shaped_inputs(sample, split, views):
    cfg = Config.fromfile(str(UCF101_BASE))
    pipeline = cfg[f'{split}_pipeline']
    frames, video = sample
    with DefaultScope.overwrite_default_scope('mmaction_ft'):
        from_frames = Compose(pipeline)(dict(frames))
        from_video = Compose(_as_video_pipeline(pipeline))(dict(video))
    for packed in (from_frames, from_video):
        assert tuple(packed['inputs'].shape) == (views, 3, 224, 224)
        assert packed['data_samples'].gt_label.tolist() == [0]


@pytest.mark.parametrize('split', ['val', 'test'])
def test_both_sources_give_the_same_frames(sample, split):
    # Test-mode sampling is deterministic, so both sources must yield the same views; the only
    # difference allowed is JPEG versus MPEG-4 compression.
    cfg = Config.fromfile(str(UCF101_BASE))
    pipeline = cfg[f'{split}_pipeline']
    frames, video = sample
    with DefaultScope.overwrite_default_scope('mmaction_ft'):
        a = Compose(pipeline)(dict(frames))['inputs'].numpy().astype(np.float32)
        b = Compose(_as_video_pipeline(pipeline))(dict(video))['inputs'].numpy().astype(np.float32)
    assert np.abs(a - b).mean() < 4.0  # grey levels out of 255
    # A misaligned frame index would differ far more than compression does.
    assert np.abs(a - np.roll(b, 1, axis=0)).mean() > np.abs(a - b).mean()
