"""RawframeDataset: list parsing, errors that point at file:line, and a full pipeline."""

import os.path as osp

import pytest
import torch
from mmengine.registry import DefaultScope

from mmaction_ft.datasets import AnnotationError, RawframeDataset
from mmaction_ft.registry import DATASETS


def write_list(tmp_path, text, name='list.txt'):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_parses_frames_list_with_any_whitespace_and_blank_lines(tmp_path):
    ann = write_list(tmp_path, 'a/v1 121 0\n\n  b/v2\t\t 7   3  \n')
    ds = RawframeDataset(ann, [], data_prefix='root')
    assert len(ds) == 2
    info = ds.get_data_info(1)
    assert info['frame_dir'] == osp.join('root', 'b/v2')
    assert (info['total_frames'], info['label'], info['offset']) == (7, 3, 0)
    assert info['start_index'] == 1 and info['filename_tmpl'] == 'img_{:05}.jpg'
    assert info['modality'] == 'RGB' and info['sample_idx'] == 1


def test_data_prefix_dict_and_data_root(tmp_path):
    ann = write_list(tmp_path, 'v1 10 0\n')
    ds = RawframeDataset(ann, [], data_prefix=dict(img='frames'), data_root='/data/ucf')
    assert ds.get_data_info(0)['frame_dir'] == '/data/ucf/frames/v1'
    with pytest.raises(KeyError, match="data_prefix\\['img'\\]"):
        RawframeDataset(ann, [], data_prefix=dict(video='x'))


def test_with_offset_lines(tmp_path):
    ann = write_list(tmp_path, 'long/video 12 163 3\n')
    info = RawframeDataset(ann, [], with_offset=True).get_data_info(0)
    assert (info['offset'], info['total_frames'], info['label']) == (12, 163, 3)


def test_multi_label_becomes_float_one_hot(tmp_path):
    ann = write_list(tmp_path, 'v1 10 1 3\nv2 10 0\n')
    ds = RawframeDataset(ann, [], multi_class=True, num_classes=5)
    label = ds.get_data_info(0)['label']
    assert label.dtype == torch.float32 and label.tolist() == [0, 1, 0, 1, 0]
    assert ds.get_data_info(1)['label'].tolist() == [1, 0, 0, 0, 0]


def test_multi_class_requires_num_classes(tmp_path):
    ann = write_list(tmp_path, 'v1 10 1 3\n')
    with pytest.raises(ValueError, match='num_classes'):
        RawframeDataset(ann, [], multi_class=True)


def test_unlabelled_lines_only_in_test_mode(tmp_path):
    ann = write_list(tmp_path, 'v1 10\n')
    assert RawframeDataset(ann, [], test_mode=True).get_data_info(0)['label'] == -1
    with pytest.raises(AnnotationError, match='no label'):
        RawframeDataset(ann, [])


def test_multi_label_training_line_without_labels_is_refused(tmp_path):
    # It would otherwise train on an all-zero target.
    ann = write_list(tmp_path, 'v1 10 1 3\nv2 10\n')
    with pytest.raises(AnnotationError, match=r'list.txt:2.*no label'):
        RawframeDataset(ann, [], multi_class=True, num_classes=5)


def test_missing_annotation_file_names_path(tmp_path):
    path = str(tmp_path / 'missing_list.txt')
    with pytest.raises(FileNotFoundError, match='missing_list.txt'):
        RawframeDataset(path, [])


@pytest.mark.parametrize(
    'line, problem',
    [
        ('v3 abc 2', "total_frames must be an integer, got 'abc'"),
        ('v3', 'expected at least 2 fields'),
        ('v3 10 x', "label must be an integer, got 'x'"),
        ('v3 10 1 2', 'found 2 labels'),
        ('v3 -5 1', 'must be >= 0'),
    ],
)
def test_malformed_line_names_file_line_text_and_format(tmp_path, line, problem):
    ann = write_list(tmp_path, f'v1 10 0\n\nv2 10 1\n{line}\n')
    with pytest.raises(AnnotationError) as err:
        RawframeDataset(ann, [])
    message = str(err.value)
    assert f'{ann}:4:' in message  # 1-based line number, blank line counted
    assert problem in message
    assert repr(line) in message
    assert '<frame_dir> <total_frames> <label>' in message
    assert err.value.lineno == 4


def test_label_out_of_range_names_file_line_value_and_num_classes(tmp_path):
    ann = write_list(tmp_path, 'v1 10 0\nv2 10 101\n')
    with pytest.raises(AnnotationError) as err:
        RawframeDataset(ann, [], num_classes=101)
    message = str(err.value)
    assert f'{ann}:2:' in message and 'label 101' in message and 'num_classes=101' in message


def test_multi_label_out_of_range_is_checked_too(tmp_path):
    ann = write_list(tmp_path, 'v1 10 0 7\n')
    with pytest.raises(AnnotationError, match=r':1: label 7 is out of range for num_classes=5'):
        RawframeDataset(ann, [], multi_class=True, num_classes=5)


def test_lazy_init_defers_parsing(tmp_path):
    ann = write_list(tmp_path, 'v1 10 0\n')
    ds = RawframeDataset(ann, [], lazy_init=True)
    assert not ds._fully_initialized
    assert len(ds) == 1 and ds._fully_initialized


def test_full_pipeline_from_config(tmp_path, make_frames, identify_frame):
    make_frames(tmp_path / 'frames' / 'v1', 9)
    ann = write_list(tmp_path, 'v1 9 2\n')
    cfg = dict(
        type='RawframeDataset',
        ann_file=ann,
        data_prefix=dict(img=str(tmp_path / 'frames')),
        test_mode=True,
        pipeline=[
            dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=3, test_mode=True),
            dict(type='RawFrameDecode'),
            dict(type='FormatShape', input_format='NCHW'),
            dict(type='PackActionInputs'),
        ],
    )
    with DefaultScope.overwrite_default_scope('mmaction_ft'):
        ds = DATASETS.build(cfg)
    out = ds[0]
    assert out['inputs'].shape == (3, 3, 48, 64) and out['inputs'].dtype == torch.uint8
    assert out['data_samples'].gt_label.tolist() == [2]
    # 9 frames, 3 segments: centres 1.5, 4.5, 7.5 -> 1, 4, 7 (+ start_index 1 -> files 2, 5, 8).
    frames = out['inputs'].permute(0, 2, 3, 1).numpy()
    assert [identify_frame(f) for f in frames] == [1, 4, 7]
