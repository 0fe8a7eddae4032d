"""A batch's samples loaded side by side in the main process (``__getitems__``): the same samples,
random draws in one fixed order, bad samples handled as one at a time, workers untouched."""

import random
import threading
import time

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from mmaction_ft.datasets import RawframeDataset, VideoDataset, batch_loading
from mmaction_ft.datasets.batch_loading import batch_parallel, load_batch, pipeline_runs
from mmaction_ft.datasets.collate import action_collate
from mmaction_ft.datasets.transforms.fusion import fuse_pipeline
from mmaction_ft.registry import TRANSFORMS
from mmaction_ft.utils import threads

EVAL_PIPELINE = [
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=3, test_mode=True),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(-1, 40)),
    dict(type='CenterCrop', crop_size=32),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs'),
]
TRAIN_PIPELINE = [
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=3),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(-1, 40)),
    dict(type='MultiScaleCrop', input_size=32, scales=(1, 0.875, 0.75)),
    dict(type='Resize', scale=(32, 32), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs'),
]


@pytest.fixture
def frames_list(tmp_path, make_frames):
    lines = []
    for i in range(6):
        make_frames(str(tmp_path / f'v{i}'), 8 + i)
        lines.append(f'v{i} {8 + i} {i % 2}')
    (tmp_path / 'list.txt').write_text('\n'.join(lines) + '\n')
    return tmp_path


def rawframes(root, pipeline, **kwargs):
    return RawframeDataset(str(root / 'list.txt'), pipeline, data_prefix=str(root), **kwargs)


def same_sample(a, b):
    assert torch.equal(a['inputs'], b['inputs'])
    assert a['data_samples'].gt_label.tolist() == b['data_samples'].gt_label.tolist()


class Record:
    """A transform that notes (its name, the sample) in a shared list, on whichever thread."""

    def __init__(self, name, log, parallel, delay=0.0):
        self.name, self.log, self.delay = name, log, delay
        self.batch_parallel = parallel

    def __call__(self, results):
        time.sleep(self.delay)
        self.log.append((self.name, results['sample_idx'], threading.current_thread().name))
        return results


def test_runs_follow_the_transforms_flag():
    log = []
    a, b, c, d = (Record(n, log, p) for n, p in zip('abcd', (False, True, True, False)))
    assert pipeline_runs([a, b, c, d]) == [(False, [a]), (True, [b, c]), (False, [d])]
    assert pipeline_runs([]) == []
    for name in ('DecordInit', 'DecordDecode', 'RawFrameDecode', 'Resize', 'CenterCrop'):
        assert batch_parallel(TRANSFORMS.build(dict(type=name, **_args(name))))
    for name in ('SampleFrames', 'MultiScaleCrop', 'Flip', 'FormatShape', 'PackActionInputs'):
        assert not batch_parallel(TRANSFORMS.build(dict(type=name, **_args(name))))
    # A subclass may draw random numbers: it says so itself, or runs sample after sample.
    resize = TRANSFORMS.get('Resize')
    assert not batch_parallel(type('RandomishResize', (resize,), {})(scale=(-1, 40)))
    marked = type('MarkedResize', (resize,), {'batch_parallel': True})(scale=(-1, 40))
    assert batch_parallel(marked)
    # Object stores and other file backends may not be thread-safe: one sample at a time.
    for name in ('RawFrameDecode', 'DecordInit', 'PyAVInit'):
        assert not batch_parallel(TRANSFORMS.build(dict(type=name, io_backend='petrel')))


def _args(name):
    return {
        'Resize': dict(scale=(-1, 40)),
        'CenterCrop': dict(crop_size=32),
        'SampleFrames': dict(clip_len=1, num_clips=3),
        'MultiScaleCrop': dict(input_size=32),
        'FormatShape': dict(input_format='NCHW'),
    }.get(name, {})


def test_serial_runs_go_in_batch_order_and_parallel_runs_on_threads(frames_list):
    log = []
    pipeline = [
        Record('draw', log, False),
        Record('decode', log, True, delay=0.02),
        Record('crop', log, False),
    ]
    dataset = rawframes(frames_list, pipeline)
    out = load_batch(dataset, [4, 0, 2, 5], threads=2)
    assert [o['sample_idx'] for o in out] == [4, 0, 2, 5]
    serial = [(name, idx) for name, idx, _ in log if name != 'decode']
    # Every random run for the whole batch, then the next: a fixed order whatever the threads do.
    assert serial == [('draw', i) for i in (4, 0, 2, 5)] + [('crop', i) for i in (4, 0, 2, 5)]
    assert {name for name, _, thread in log if name == 'crop'} == {'crop'}
    assert len({thread for name, _, thread in log if name == 'decode'}) == 2
    assert {thread for name, _, thread in log if name != 'decode'} == {
        threading.current_thread().name
    }


def test_the_same_samples_as_one_at_a_time(frames_list):
    dataset = rawframes(frames_list, EVAL_PIPELINE, test_mode=True)
    batch = dataset.__getitems__(list(range(6)))
    for idx, sample in enumerate(batch):
        same_sample(sample, dataset[idx])


def test_random_draws_repeat_with_the_seed_on_any_number_of_cores(frames_list, monkeypatch):
    dataset = rawframes(frames_list, TRAIN_PIPELINE)
    np.random.seed(3)
    first = load_batch(dataset, list(range(6)), threads=2)
    assert len({a['inputs'].sum().item() for a in first}) > 1
    for cores in (1, 2, 4):
        monkeypatch.setattr(threads, 'usable_cores', lambda cores=cores: cores)
        np.random.seed(3)
        for a, b in zip(first, dataset.__getitems__(list(range(6)))):
            same_sample(a, b)


def test_a_big_batch_goes_chunk_by_chunk(frames_list, monkeypatch):
    monkeypatch.setattr(batch_loading, 'CHUNK', 2)
    log = []
    pipeline = [Record('draw', log, False), Record('open', log, True), Record('crop', log, False)]
    dataset = rawframes(frames_list, pipeline)
    out = load_batch(dataset, [0, 1, 2, 3, 4], threads=2)
    assert [o['sample_idx'] for o in out] == [0, 1, 2, 3, 4]
    serial = [(name, idx) for name, idx, _ in log if name != 'open']
    assert serial == [
        *[('draw', 0), ('draw', 1), ('crop', 0), ('crop', 1)],
        *[('draw', 2), ('draw', 3), ('crop', 2), ('crop', 3)],
        *[('draw', 4), ('crop', 4)],
    ]


def test_a_bad_sample_fails_as_it_would_alone(frames_list):
    (frames_list / 'v3' / 'img_00002.jpg').unlink()
    dataset = rawframes(frames_list, EVAL_PIPELINE, test_mode=True)
    with pytest.raises(FileNotFoundError, match='img_00002.jpg') as info:
        load_batch(dataset, [0, 3, 4], threads=2)
    assert any('sample 3 of' in note for note in info.value.__notes__)

    skipping = rawframes(frames_list, EVAL_PIPELINE, test_mode=True, on_bad_sample='skip')
    np.random.seed(0)
    out = load_batch(skipping, [0, 3, 4], threads=2)
    assert skipping.num_skipped == 1 and skipping.skipped[0][0] == 3
    # Its place holds a replacement: another sample, loaded whole.
    assert any(torch.equal(out[1]['inputs'], skipping[k]['inputs']) for k in (0, 1, 2, 4, 5))
    same_sample(out[0], skipping[0])
    same_sample(out[2], skipping[4])


def test_a_dropped_sample_is_loaded_again_the_usual_way(frames_list):
    drops = []

    def drop_once(results):
        if results['sample_idx'] == 1 and not drops:
            drops.append(1)
            return None
        return results

    drop_once.batch_parallel = True
    dataset = rawframes(frames_list, [drop_once, *EVAL_PIPELINE], test_mode=True)
    out = load_batch(dataset, [0, 1, 2], threads=2)
    assert drops == [1]
    same_sample(out[1], dataset[1])


def test_a_dataloader_without_workers_loads_batches_side_by_side(frames_list, monkeypatch):
    monkeypatch.setattr(threads, 'usable_cores', lambda: 2)
    log = []
    pipeline = [Record('decode', log, True, delay=0.01), *EVAL_PIPELINE]
    dataset = rawframes(frames_list, pipeline, test_mode=True)
    loader = DataLoader(dataset, batch_size=3, collate_fn=action_collate)
    batches = list(loader)
    assert len(batches) == 2 and len(log) == 6
    assert len({thread for _, _, thread in log}) == 2
    expected = action_collate([dataset[i] for i in range(3)])
    assert torch.equal(batches[0]['inputs'], expected['inputs'])

    # In a worker process every sample is loaded on the worker's one thread.
    loader = DataLoader(dataset, batch_size=3, num_workers=1, collate_fn=action_collate)
    for batch, direct in zip(loader, batches):
        assert torch.equal(batch['inputs'], direct['inputs'])


def test_batch_threads_one_loads_one_sample_after_another(frames_list, monkeypatch):
    def no_batches(*args):
        raise AssertionError('load_batch must not be used')

    monkeypatch.setattr('mmaction_ft.datasets.base.load_batch', no_batches)
    dataset = rawframes(frames_list, EVAL_PIPELINE, test_mode=True, batch_threads=1)
    assert len(dataset.__getitems__([0, 1, 2])) == 3
    for bad in (0, True, 1.5):
        with pytest.raises(ValueError, match='batch_threads must be None or an int >= 1'):
            rawframes(frames_list, EVAL_PIPELINE, batch_threads=bad)


def test_a_dataset_that_loads_its_own_way_loads_one_at_a_time(frames_list, monkeypatch):
    class Pairs(RawframeDataset):
        def prepare_data(self, idx):
            return [super().prepare_data(idx)] * 2

    class Tagged(RawframeDataset):
        def __getitem__(self, idx):
            return dict(super().__getitem__(idx), tagged=True)

    def no_batches(*args):
        raise AssertionError('load_batch must not be used')

    monkeypatch.setattr('mmaction_ft.datasets.base.load_batch', no_batches)
    args = (str(frames_list / 'list.txt'), EVAL_PIPELINE)
    pairs = Pairs(*args, data_prefix=str(frames_list))
    assert [len(pair) for pair in pairs.__getitems__([0, 1])] == [2, 2]
    tagged = Tagged(*args, data_prefix=str(frames_list))
    assert [sample['tagged'] for sample in tagged.__getitems__([0, 1])] == [True, True]


def test_workers_load_one_sample_after_another_even_when_asked_for_threads(
    frames_list, monkeypatch
):
    def no_batches(*args):
        raise AssertionError('load_batch must not be used in a worker')

    monkeypatch.setattr('mmaction_ft.datasets.base.load_batch', no_batches)  # forked too
    dataset = rawframes(frames_list, EVAL_PIPELINE, test_mode=True, batch_threads=2)
    loader = DataLoader(dataset, batch_size=3, num_workers=1, collate_fn=action_collate)
    assert [len(batch['inputs']) for batch in loader] == [3, 3]


def test_videos_too(tmp_path, make_video):
    for i in range(3):
        make_video(str(tmp_path / f'v{i}.mp4'), 10 + i)
    (tmp_path / 'list.txt').write_text('v0.mp4 0\nv1.mp4 1\nv2.mp4 0\n')
    pipeline = [dict(type='DecordInit'), *EVAL_PIPELINE[:1], dict(type='DecordDecode')]
    pipeline += EVAL_PIPELINE[2:]
    dataset = VideoDataset(str(tmp_path / 'list.txt'), pipeline, data_prefix=str(tmp_path))
    for idx, sample in enumerate(load_batch(dataset, [0, 1, 2], threads=2)):
        same_sample(sample, dataset[idx])


RANDOM_FUNCTIONS = [
    *[(np.random, name) for name in ('rand', 'randn', 'randint', 'uniform', 'random', 'choice')],
    *[(np.random, name) for name in ('permutation', 'shuffle', 'normal')],
    *[(random, name) for name in ('random', 'randint', 'choice', 'uniform', 'shuffle', 'sample')],
    *[(torch, name) for name in ('rand', 'randn', 'randint', 'randperm')],
]


def test_every_transform_that_runs_side_by_side_draws_nothing(frames_list, make_video, monkeypatch):
    """Each transform whose own class says batch_parallel, run with every random generator
    replaced by one that raises; a new flag must be added here to pass."""
    make_video(str(frames_list / 'clip.mp4'), 12)
    sample = dict(clip_len=1, frame_interval=1, num_clips=3, test_mode=True)
    frames = [dict(type='SampleFrames', **sample), dict(type='RawFrameDecode')]
    crops = [
        [dict(type='Resize', scale=(-1, 40)), dict(type='CenterCrop', crop_size=32)],
        [dict(type='ThreeCrop', crop_size=48)],
        [dict(type='TenCrop', crop_size=32)],
        [dict(type='Normalize', mean=[1, 2, 3], std=[4, 5, 6])],
    ]
    pipelines = [frames + extra for extra in crops]
    for backend in ('Decord', 'PyAV', 'OpenCV'):
        video = [f'{backend}Init', 'SampleFrames', f'{backend}Decode']
        pipelines.append(
            [dict(type=name, **(sample if name == 'SampleFrames' else {})) for name in video]
        )
    built = [[TRANSFORMS.build(t) for t in p] for p in pipelines]
    built.append(fuse_pipeline([TRANSFORMS.build(t) for t in TRAIN_PIPELINE[:6]]))

    def no_randomness(*args, **kwargs):
        raise AssertionError('a batch_parallel transform drew a random number')

    exercised = set()
    for pipeline in built:
        results = dict(
            frame_dir=str(frames_list / 'v0'),
            total_frames=8,
            filename_tmpl='img_{:05}.jpg',
            filename=str(frames_list / 'clip.mp4'),
            start_index=1,
            modality='RGB',
            offset=0,
        )
        for transform in pipeline:
            if batch_parallel(transform):
                exercised.add(type(transform).__name__)
                with monkeypatch.context() as patch:
                    for module, name in RANDOM_FUNCTIONS:
                        patch.setattr(module, name, no_randomness)
                    results = transform(results)
            else:
                results = transform(results)
        assert len(results['imgs'])
    flagged = {
        name for name, cls in TRANSFORMS.module_dict.items() if 'batch_parallel' in vars(cls)
    }
    assert flagged | {'FusedWarp'} == exercised
