"""ClassBalancedSampler: equal draws per class, determinism per (seed, epoch), 1 and 2 processes.

The videos of the lists do not exist: the sampler reads labels only, so a test that opened a
video would fail.
"""

import json
import math
import os
import time
from collections import Counter
from datetime import timedelta

import pytest
import torch
from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DefaultScope
from torch.utils.data import Dataset

from mmaction_ft.datasets import ClassBalancedSampler, RepeatAugDataset, VideoDataset

COUNTS = (90, 9, 1)  # videos of classes 0, 1, 2


def write_list(path, counts=COUNTS) -> str:
    lines = [f'v{c}_{i}.mp4 {c}' for c, n in enumerate(counts) for i in range(n)]
    path.write_text('\n'.join(lines) + '\n')
    return str(path)


@pytest.fixture
def unbalanced(tmp_path):
    return VideoDataset(ann_file=write_list(tmp_path / 'train.txt'), pipeline=[])


def class_counts(dataset, indices) -> Counter:
    return Counter(dataset.get_data_info(i)['label'] for i in indices)


def test_each_class_is_drawn_equally_often_in_an_epoch(unbalanced):
    sampler = ClassBalancedSampler(unbalanced, seed=0)
    indices = list(sampler)
    assert len(indices) == len(sampler) == 100  # default: the dataset's length
    # Quotas are fixed, not drawn per sample: 100 draws over 3 classes are 33 or 34 each (a
    # multinomial draw would have a std of sqrt(100 * 1/3 * 2/3) = 4.7 draws).
    counts = class_counts(unbalanced, indices)
    assert sorted(counts.values()) == [33, 33, 34]
    # The frequent class shows 33-34 different videos (no repeat before all 90 were drawn), the
    # single video of class 2 is repeated.
    frequent = [i for i in indices if i < 90]
    assert len(set(frequent)) == len(frequent)
    assert Counter(indices)[99] == counts[2]


def test_more_draws_than_videos_use_every_video_before_repeating_one(unbalanced):
    sampler = ClassBalancedSampler(unbalanced, num_samples=300, seed=3)
    indices = list(sampler)
    assert len(indices) == 300
    assert sorted(class_counts(unbalanced, indices).values()) == [100, 100, 100]
    per_video = Counter(i for i in indices if 90 <= i < 99)  # class 1: 9 videos, 100 draws
    assert set(per_video) == set(range(90, 99))
    assert max(per_video.values()) - min(per_video.values()) <= 1  # 11 or 12 each


def test_order_follows_seed_and_epoch_only(unbalanced):
    first = ClassBalancedSampler(unbalanced, seed=5)
    epochs = []
    for epoch in range(3):
        first.set_epoch(epoch)
        epochs.append(list(first))
    assert epochs[0] != epochs[1] != epochs[2]  # reshuffled each epoch
    # Exact resume replays an epoch with a sampler built anew: same seed and epoch, same draw,
    # whatever was iterated before.
    second = ClassBalancedSampler(unbalanced, seed=5)
    second.set_epoch(2)
    assert list(second) == epochs[2] == list(second)
    assert list(ClassBalancedSampler(unbalanced, seed=6)) != epochs[0]


def test_built_from_a_config_through_mmengines_registry(unbalanced):
    # What the Runner does: mmengine's root registry, the config's default scope.
    with DefaultScope.overwrite_default_scope('mmaction_ft'):
        sampler = MMENGINE_DATA_SAMPLERS.build(
            # shuffle=True: what a config keeps from its base's DefaultSampler.
            dict(type='ClassBalancedSampler', shuffle=True, num_samples=30),
            default_args=dict(dataset=unbalanced, seed=1),
        )
    assert isinstance(sampler, ClassBalancedSampler) and len(sampler) == 30


def test_multi_label_samples_count_for_each_of_their_classes(tmp_path):
    ann = tmp_path / 'multi.txt'
    ann.write_text('a.mp4 0\n' * 8 + 'b.mp4 0 1\nc.mp4 2\n')
    dataset = VideoDataset(ann_file=str(ann), pipeline=[], multi_class=True, num_classes=3)
    indices = list(ClassBalancedSampler(dataset, num_samples=30, seed=0))
    counts = Counter(indices)
    assert counts[9] == 10  # class 2 has one video, drawn for all 10 draws of the class
    assert counts[8] >= 10  # class 1's only video (also drawn for class 0 now and then)


def test_repeat_aug_dataset_samples_videos(tmp_path):
    opening = [
        dict(type='OpenCVInit'),
        dict(type='SampleFrames', clip_len=2, frame_interval=1, num_clips=1),
        dict(type='OpenCVDecode'),
    ]
    dataset = RepeatAugDataset(
        ann_file=write_list(tmp_path / 'train.txt'), pipeline=opening, num_repeats=2
    )
    assert sorted(class_counts(dataset, ClassBalancedSampler(dataset, seed=0)).values()) == [
        33,
        33,
        34,
    ]


def test_datasets_without_labels_are_refused(tmp_path, unbalanced):
    class Plain(Dataset):
        def __len__(self):
            return 3

        def __getitem__(self, idx):
            return idx

    with pytest.raises(TypeError, match='Plain.*get_data_info'):
        ClassBalancedSampler(Plain(), seed=0)
    ann = tmp_path / 'test.txt'
    ann.write_text('a.mp4 0\nb.mp4\n')
    unlabelled = VideoDataset(ann_file=str(ann), pipeline=[], test_mode=True)
    with pytest.raises(ValueError, match=r'sample 1 of VideoDataset \(.*test\.txt\).* -1'):
        ClassBalancedSampler(unlabelled, seed=0)
    with pytest.raises(ValueError, match='num_samples must be an int >= 1'):
        ClassBalancedSampler(unbalanced, num_samples=0)
    with pytest.raises(ValueError, match='always draws in a random order; got shuffle=False'):
        ClassBalancedSampler(unbalanced, shuffle=False)


# ------------------------------------------------------------------ two processes (gloo, CPU)


def _draw_on_rank(rank, world_size, init_file, ann_file, out_dir):
    torch.distributed.init_process_group(
        'gloo',
        init_method=f'file://{init_file}',
        rank=rank,
        world_size=world_size,
        timeout=timedelta(seconds=30),
    )
    try:
        dataset = VideoDataset(ann_file=ann_file, pipeline=[])
        sampler = ClassBalancedSampler(dataset)  # seed=None: drawn by rank 0, shared
        sampler.set_epoch(1)
        result = dict(seed=sampler.seed, length=len(sampler), indices=list(sampler))
        with open(os.path.join(out_dir, f'rank{rank}.json'), 'w') as f:
            json.dump(result, f)
    finally:
        torch.distributed.destroy_process_group()


@pytest.mark.slow  # two spawned processes import the package: ~25 s on 2 shared CPU cores
def test_two_processes_take_disjoint_equal_shares_of_one_balanced_draw(tmp_path):
    ann_file = write_list(tmp_path / 'train.txt', counts=(90, 10, 1))  # 101: padded to 102
    out = tmp_path / 'out'
    out.mkdir()
    args = (2, str(tmp_path / 'rendezvous'), ann_file, str(out))
    context = torch.multiprocessing.start_processes(
        _draw_on_rank, args=args, nprocs=2, join=False, start_method='spawn'
    )
    deadline = time.monotonic() + 60
    try:
        while not context.join(timeout=1):
            assert time.monotonic() < deadline, 'the two ranks did not finish within 60 s'
    finally:
        for process in context.processes:
            if process.is_alive():
                process.kill()
    ranks = [json.loads((out / f'rank{r}.json').read_text()) for r in (0, 1)]
    assert ranks[0]['seed'] == ranks[1]['seed']
    assert ranks[0]['length'] == ranks[1]['length'] == 51 == len(ranks[1]['indices'])

    # The ranks hold positions 0::2 and 1::2 of the draw one process makes of 102 samples.
    dataset = VideoDataset(ann_file=ann_file, pipeline=[])
    one = ClassBalancedSampler(dataset, num_samples=102, seed=ranks[0]['seed'])
    one.set_epoch(1)
    draw = list(one)
    assert ranks[0]['indices'] == draw[0::2] and ranks[1]['indices'] == draw[1::2]
    both = ranks[0]['indices'] + ranks[1]['indices']
    assert sorted(class_counts(dataset, both).values()) == [34, 34, 34]
    # Each rank's share is a random half of the draw: hypergeometric class counts with mean 17
    # and std sqrt(51 * 1/3 * 2/3 * 51 / 101) = 2.4; 4 std is a bound no fair split exceeds.
    bound = 4 * math.sqrt(51 * (1 / 3) * (2 / 3) * 51 / 101)
    for rank in ranks:
        for count in class_counts(dataset, rank['indices']).values():
            assert abs(count - 17) <= bound
