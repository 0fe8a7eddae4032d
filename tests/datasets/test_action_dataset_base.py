"""BaseActionDataset: class-name files and the on_bad_sample='skip' policy."""

import sys
import uuid
from pathlib import Path

import numpy as np
import pytest
from mmengine.config import Config
from mmengine.logging import MMLogger
from mmengine.registry import DefaultScope

from mmaction_ft.datasets import AnnotationError, RawframeDataset, load_class_names

PIPELINE = [
    dict(type='SampleFrames', clip_len=1, num_clips=1, test_mode=True),
    dict(type='RawFrameDecode'),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs', meta_keys=('frame_dir',)),
]


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


# ------------------------------------------------------------------ label_map
def test_label_map_one_name_per_line(tmp_path):
    names = write(tmp_path, 'classes.txt', 'abseiling\nair drumming\n\n')
    ann = write(tmp_path, 'list.txt', 'v 3 1\n')
    ds = RawframeDataset(ann, [], label_map=names)
    assert ds.metainfo['classes'] == ('abseiling', 'air drumming')
    assert ds.num_classes == 2  # taken from the label map, so labels are range-checked


def test_label_map_class_ind_style_is_one_based(tmp_path):
    names = write(tmp_path, 'classInd.txt', '2 ApplyLipstick\n1 ApplyEyeMakeup\n3 Archery\n')
    assert load_class_names(names) == ['ApplyEyeMakeup', 'ApplyLipstick', 'Archery']


def test_label_map_limits_labels(tmp_path):
    names = write(tmp_path, 'classes.txt', 'a\nb\n')
    ann = write(tmp_path, 'list.txt', 'v 3 1\nw 3 2\n')
    with pytest.raises(AnnotationError, match=r'list.txt:2: label 2 is out of range'):
        RawframeDataset(ann, [], label_map=names)


def test_label_map_with_a_gap_names_file_and_line(tmp_path):
    names = write(tmp_path, 'classInd.txt', '1 A\n2 B\n5 C\n')
    with pytest.raises(AnnotationError, match=r'classInd.txt:3: class index 5 is out of range'):
        load_class_names(names)


def test_label_map_disagreeing_with_num_classes(tmp_path):
    names = write(tmp_path, 'classes.txt', 'a\nb\n')
    ann = write(tmp_path, 'list.txt', 'v 3 1\n')
    with pytest.raises(ValueError, match='num_classes=3 but .*classes.txt names 2 classes'):
        RawframeDataset(ann, [], num_classes=3, label_map=names)


def test_missing_label_map_names_path(tmp_path):
    ann = write(tmp_path, 'list.txt', 'v 3 1\n')
    with pytest.raises(FileNotFoundError, match='label_map file not found: .*nope.txt'):
        RawframeDataset(ann, [], label_map=str(tmp_path / 'nope.txt'))


# ------------------------------------------------------------------ bad samples
@pytest.fixture
def broken_list(tmp_path, make_frames):
    """Three 3-frame videos (the 1-clip test sample reads img_00002.jpg); bad1 is missing."""
    make_frames(tmp_path / 'good0', 3)
    make_frames(tmp_path / 'good2', 3)
    return write(tmp_path, 'list.txt', 'good0 3 0\nbad1 3 1\ngood2 3 2\n')


@pytest.fixture
def log_file(tmp_path):
    path = tmp_path / 'skip.log'
    MMLogger.get_instance(f'skip-test-{uuid.uuid4()}', log_file=str(path), log_level='INFO')
    return path


def test_bad_sample_raises_by_default(tmp_path, broken_list):
    ds = RawframeDataset(broken_list, PIPELINE, data_prefix=str(tmp_path))
    with pytest.raises(FileNotFoundError, match='bad1/img_00002.jpg') as info:
        ds[1]
    if sys.version_info >= (3, 11):  # the hint is an exception note, printed after the message
        assert info.value.__notes__ == [
            f'(sample 1 of {broken_list}; to train past samples that fail to load, set '
            "on_bad_sample='skip' on the dataset: docs/data_preparation.md)"
        ]


def test_skip_replaces_counts_and_logs(tmp_path, broken_list, log_file):
    ds = RawframeDataset(broken_list, PIPELINE, data_prefix=str(tmp_path), on_bad_sample='skip')
    np.random.seed(0)
    out = ds[1]
    assert out['data_samples'].metainfo['frame_dir'] != str(tmp_path / 'bad1')
    assert ds.num_skipped == 1
    index, reason = ds.skipped[0]
    assert index == 1 and 'FileNotFoundError' in reason and 'bad1/img_00002.jpg' in reason

    ds[0]  # a good sample is not a skip
    assert ds.num_skipped == 1
    ds[1]  # every skip is counted, also of a sample that failed before
    assert ds.num_skipped == 2 and [i for i, _ in ds.skipped] == [1, 1]

    log = log_file.read_text()
    assert 'WARNING' in log and 'skipped sample 1 (' in log and 'bad1' in log
    assert f'skipped sample 1 ({tmp_path / "bad1"}) again: FileNotFoundError' in log


def test_skip_never_draws_a_known_bad_sample(tmp_path, make_frames):
    make_frames(tmp_path / 'good', 3)
    ann = write(tmp_path, 'list.txt', 'bad0 3 0\nbad1 3 1\ngood 3 2\nbad3 3 3\n')
    ds = RawframeDataset(ann, PIPELINE, data_prefix=str(tmp_path), on_bad_sample='skip')
    for seed in range(5):
        np.random.seed(seed)
        assert ds[0]['data_samples'].gt_label.tolist() == [2]
    assert {i for i, _ in ds.skipped} <= {0, 1, 3}
    assert ds.num_skipped >= 5  # at least the requested bad sample every time


def test_too_many_bad_samples_is_an_error(tmp_path, broken_list):
    ds = RawframeDataset(
        broken_list, PIPELINE, data_prefix=str(tmp_path), on_bad_sample='skip', max_skips=0
    )
    with pytest.raises(RuntimeError, match=r'(?s)max_skips=0.*sample 1: FileNotFoundError'):
        ds[1]


def test_all_samples_bad_is_an_error(tmp_path):
    ann = write(tmp_path, 'list.txt', 'bad0 3 0\nbad1 3 1\n')
    ds = RawframeDataset(ann, PIPELINE, data_prefix=str(tmp_path), on_bad_sample='skip')
    with pytest.raises(RuntimeError, match='every sample'):
        ds[0]
    assert ds.num_skipped == 2


def test_pipeline_returning_none_is_a_skip(tmp_path, broken_list):
    def drop_first(results):
        return None if results['sample_idx'] == 0 else results

    ds = RawframeDataset(broken_list, [drop_first], on_bad_sample='skip', test_mode=True)
    np.random.seed(1)
    assert ds[0]['sample_idx'] != 0
    assert ds.skipped == [(0, 'the pipeline returned None')]


def test_invalid_bad_sample_option(tmp_path, broken_list):
    with pytest.raises(ValueError, match="on_bad_sample must be one of \\('error', 'skip'\\)"):
        RawframeDataset(broken_list, [], on_bad_sample='ignore')


def test_pipeline_builds_after_a_runner_left_mmengines_scope_current(tmp_path):
    ann = write(tmp_path, 'list.txt', 'v 3 1\n')
    # mmengine's Runner without default_scope makes 'mmengine' the current scope.
    DefaultScope.get_instance(f'plain-runner-{uuid.uuid4()}', scope_name='mmengine')
    ds = RawframeDataset(ann, PIPELINE, data_prefix=str(tmp_path))
    assert [type(t).__name__ for t in ds.pipeline.transforms][:2] == [
        'SampleFrames',
        'RawFrameDecode',
    ]
    assert DefaultScope.get_current_instance().scope_name == 'mmengine'  # left as it was


# ------------------------------------------------------------------ fused augmentation
# The canonical TSN pipelines, as the UCF101 recipes ship them.
TSN_BASE = Config.fromfile(
    str(Path(__file__).resolve().parents[2] / 'configs/_base_/datasets/ucf101_rawframes_tsn.py')
)


def test_training_augmentation_is_fused_unless_the_dataset_says_not_to(tmp_path):
    ann = write(tmp_path, 'list.txt', 'v 3 1\n')
    train = TSN_BASE.train_pipeline
    fused = RawframeDataset(ann, train, data_prefix=str(tmp_path))
    names = [type(t).__name__ for t in fused.pipeline.transforms]
    assert names == [
        'SampleFrames',
        'RawFrameDecode',
        'FusedGeometry',
        'FusedWarp',
        'FormatShape',
        'PackActionInputs',
    ]
    assert [type(t).__name__ for t in fused.pipeline.transforms[2].transforms] == [
        'Resize',
        'MultiScaleCrop',
        'Resize',
        'Flip',
    ]
    exact = RawframeDataset(ann, train, data_prefix=str(tmp_path), fuse_augmentation=False)
    assert [type(t).__name__ for t in exact.pipeline.transforms] == [t['type'] for t in train]
    # Evaluation pipelines have no random crop: built as written, MMAction2's pixels exactly.
    for pipeline in (TSN_BASE.val_pipeline, TSN_BASE.test_pipeline):
        built = RawframeDataset(ann, pipeline, data_prefix=str(tmp_path), test_mode=True)
        assert [type(t).__name__ for t in built.pipeline.transforms] == [
            t['type'] for t in pipeline
        ]
