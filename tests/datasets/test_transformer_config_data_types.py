"""Every data type (transform, dataset, sampler, collate) that MMAction2 1.2.0's
video-transformer configs (mvit, swin, videomae, videomaev2, uniformerv2, timesformer) name
builds here, with the arguments those configs give it."""

import numpy as np
import pytest
from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS
from mmengine.registry import DefaultScope

from mmaction_ft.registry import DATA_SAMPLERS, DATASETS, FUNCTIONS, TRANSFORMS

# (type, arguments) as written in those configs.
TRANSFORMS_NAMED = [
    dict(type='DecordInit'),
    dict(type='DecordDecode'),
    dict(type='SampleFrames', clip_len=16, frame_interval=4, num_clips=1),
    dict(type='UniformSample', clip_len=8, num_clips=4, test_mode=True),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='RandomRescale', scale_range=(256, 320)),
    dict(type='RandomCrop', size=224),
    dict(type='RandomResizedCrop'),
    dict(type='CenterCrop', crop_size=224),
    dict(type='ThreeCrop', crop_size=224),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='PytorchVideoWrapper', op='RandAugment', magnitude=7, num_layers=4),
    dict(type='PytorchVideoWrapper', op='RandAugment', magnitude=7),
    dict(type='RandomErasing', erase_prob=0.25, mode='rand'),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]


@pytest.mark.parametrize('cfg', TRANSFORMS_NAMED, ids=lambda c: c['type'])
def test_transform_builds(cfg):
    transform = TRANSFORMS.build(dict(cfg))
    assert type(transform).__name__ == cfg['type']
    assert cfg['type'] in repr(transform)


def test_samplers_and_collates_resolve_as_the_runner_looks_them_up():
    assert DATA_SAMPLERS.get('DefaultSampler') is MMENGINE_DATA_SAMPLERS.get('DefaultSampler')
    # mmengine's Runner: FUNCTIONS.get(name) on the root registry, default scope or not.
    with DefaultScope.overwrite_default_scope('mmaction_ft'):
        assert MMENGINE_FUNCTIONS.get('repeat_pseudo_collate') is not None
    assert FUNCTIONS.get('repeat_pseudo_collate') is not None


@pytest.fixture
def video_list(tmp_path, make_video):
    make_video(str(tmp_path / 'a.mp4'), 12)
    (tmp_path / 'list.txt').write_text('a.mp4 2\n')
    return dict(ann_file=str(tmp_path / 'list.txt'), data_prefix=dict(video=str(tmp_path)))


PIPELINE = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=4, frame_interval=2, num_clips=1),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 32)),
    dict(type='PytorchVideoWrapper', op='RandAugment', magnitude=7, num_layers=4),
    dict(type='RandomResizedCrop'),
    dict(type='Resize', scale=(24, 24), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='RandomErasing', erase_prob=0.25, mode='rand'),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]


@pytest.mark.parametrize('dataset_type', ['VideoDataset', 'RepeatAugDataset', 'ConcatDataset'])
def test_dataset_builds_and_loads(dataset_type, video_list):
    cfg = dict(type=dataset_type, pipeline=PIPELINE, **video_list)
    if dataset_type == 'ConcatDataset':  # swin's Kinetics-710: a concatenation of lists
        cfg = dict(type='ConcatDataset', datasets=[cfg | dict(type='VideoDataset')] * 2)
    with DefaultScope.overwrite_default_scope('mmaction_ft'):
        dataset = DATASETS.build(cfg)
    np.random.seed(0)
    item = dataset[len(dataset) - 1]
    clips = item if dataset_type == 'RepeatAugDataset' else [item]
    for clip in clips:
        assert clip['inputs'].shape == (1, 3, 4, 24, 24)
        assert clip['data_samples'].gt_label.item() == 2
    assert len(dataset) == (2 if dataset_type == 'ConcatDataset' else 1)
