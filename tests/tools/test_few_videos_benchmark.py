"""The pieces of tools/analysis/few_videos_benchmark.py: its lists and its variants' configs (the
benchmark itself is not run here)."""

import importlib.util
from collections import Counter

import pytest
from conftest import REPO

from mmaction_ft.config import load_config
from mmaction_ft.demo.benchmark_data import unbalanced_counts, write_video_lists
from mmaction_ft.demo.finetune import FINETUNE_CONFIG

spec = importlib.util.spec_from_file_location(
    'few_videos_benchmark', REPO / 'tools/analysis/few_videos_benchmark.py'
)
benchmark = importlib.util.module_from_spec(spec)
spec.loader.exec_module(benchmark)


def test_unbalanced_counts():
    assert unbalanced_counts(5, 2, 12) == [2, 5, 7, 10, 12]
    assert unbalanced_counts(3, 4, 4) == [4, 4, 4]
    assert unbalanced_counts(1, 3, 9) == [3]
    for bad in ((0, 2, 12), (5, 0, 12), (5, 12, 2)):
        with pytest.raises(ValueError, match='fewest'):
            unbalanced_counts(*bad)


def test_split_indices_unbalanced_train_balanced_test():
    splits = benchmark.split_indices()
    assert [len(indices) for indices in splits['train']] == [2, 5, 7, 10, 12]
    assert [len(indices) for indices in splits['test']] == [8] * 5
    for train, test in zip(splits['train'], splits['test']):
        assert min(train) >= 100 and min(test) >= 100  # the demo data's videos are below 100
        assert not set(train) & set(test)


def test_write_video_lists(tmp_path):
    classes = {'Grow': 'grow', 'Shrink': 'shrink'}
    splits = dict(train=[[1000], [1000, 1001, 1002]], test=[[1100], [1100]])
    paths = write_video_lists(str(tmp_path), classes, splits)

    assert (tmp_path / 'classes.txt').read_text().split() == ['Grow', 'Shrink']
    train = (tmp_path / 'train_list_videos.txt').read_text().splitlines()
    assert Counter(line.split()[1] for line in train) == {'0': 1, '1': 3}
    assert train[0] == 'grow/grow_1000.mp4 0'
    test = (tmp_path / 'test_list_videos.txt').read_text().splitlines()
    assert test == ['grow/grow_1100.mp4 0', 'shrink/shrink_1100.mp4 1']
    for line in train + test:
        assert (tmp_path / 'videos' / line.split()[0]).stat().st_size > 0
    assert paths['train'] == str(tmp_path / 'train_list_videos.txt')

    video = tmp_path / 'videos/shrink/shrink_1002.mp4'
    before = video.stat().st_mtime_ns
    write_video_lists(str(tmp_path), classes, splits)
    assert video.stat().st_mtime_ns == before  # kept, not rendered again

    with pytest.raises(ValueError, match="split 'train' gives indices for 1 classes"):
        write_video_lists(str(tmp_path), classes, dict(train=[[1000]]))


@pytest.mark.parametrize('variant', list(benchmark.VARIANTS))
def test_variant_config(variant, tmp_path):
    data = dict(
        videos=str(tmp_path / 'videos'),
        label_map=str(tmp_path / 'classes.txt'),
        train=str(tmp_path / 'train_list_videos.txt'),
        test=str(tmp_path / 'test_list_videos.txt'),
    )
    cfg, _ = load_config(FINETUNE_CONFIG, benchmark.variant_options(variant, data, 'source.pth'))

    finetune = dict(
        full=dict(preset='full'),
        partial=dict(preset='partial', frozen_stages=2),
        linear_probe=dict(preset='linear_probe'),
    )[variant.split(' ')[0]]
    assert cfg.finetune == finetune
    balanced = variant == 'full + balanced sampler'
    assert (cfg.train_dataloader.sampler.type == 'ClassBalancedSampler') == balanced
    weighted = cfg.model.cls_head.get('loss_cls', {}).get('class_weight')
    assert (weighted == 'auto') == (variant == 'full + class_weight auto')

    # Same schedule for all, as the finetune config has it; tested once, on the balanced list.
    assert cfg.train_cfg.max_epochs == benchmark.MAX_EPOCHS
    assert cfg.train_cfg.val_interval == benchmark.MAX_EPOCHS
    assert cfg.default_hooks.checkpoint.save_best is None
    assert cfg.train_dataloader.dataset.ann_file == data['train']
    for split in ('val', 'test'):
        assert cfg[f'{split}_dataloader'].dataset.ann_file == data['test']
        assert cfg[f'{split}_dataloader'].dataset.label_map == data['label_map']
    assert cfg.test_evaluator.per_class is True
    assert cfg.load_from == 'source.pth'
