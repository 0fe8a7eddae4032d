"""VideoDataset: list parsing (paths with spaces, multi-label, delimiters) and decoding."""

import os.path as osp

import pytest
import torch
from mmengine.registry import DefaultScope

from mmaction_ft.datasets import AnnotationError, VideoDataset
from mmaction_ft.registry import DATASETS


def write_list(tmp_path, text):
    path = tmp_path / 'videos.txt'
    path.write_text(text)
    return str(path)


def test_parses_paths_labels_and_prefix(tmp_path):
    ann = write_list(tmp_path, 'ApplyEyeMakeup/v_g08_c01.avi 0\n\nsome/path/001.mp4    12\n')
    ds = VideoDataset(ann, [], data_prefix=dict(video='videos'))
    assert len(ds) == 2
    info = ds.get_data_info(1)
    assert info['filename'] == osp.join('videos', 'some/path/001.mp4')
    assert info['label'] == 12 and info['start_index'] == 0 and info['modality'] == 'RGB'
    assert 'total_frames' not in info  # known only once a decoder opens the file


def test_single_label_path_may_contain_spaces(tmp_path):
    ann = write_list(tmp_path, 'my clips/take 2.mp4 3\n')
    info = VideoDataset(ann, [], data_prefix='').get_data_info(0)
    assert info['filename'] == 'my clips/take 2.mp4' and info['label'] == 3


def test_multi_label_line(tmp_path):
    ann = write_list(tmp_path, 'some/path/001.mp4 1 3 5\n')
    label = VideoDataset(ann, [], multi_class=True, num_classes=6).get_data_info(0)['label']
    assert label.tolist() == [0, 1, 0, 1, 0, 1]


def test_several_labels_without_multi_class_is_an_error(tmp_path):
    ann = write_list(tmp_path, 'a.mp4 0\nb.mp4 1 3\n')
    with pytest.raises(AnnotationError, match=r':2: found several integer labels'):
        VideoDataset(ann, [])


def test_explicit_delimiter(tmp_path):
    ann = write_list(tmp_path, 'a b.mp4,4\n')
    info = VideoDataset(ann, [], delimiter=',').get_data_info(0)
    assert info['filename'] == 'a b.mp4' and info['label'] == 4


def test_path_only_lines_need_test_mode(tmp_path):
    ann = write_list(tmp_path, 'a.mp4\n')
    assert VideoDataset(ann, [], test_mode=True).get_data_info(0)['label'] == -1
    with pytest.raises(AnnotationError, match=':1: the line has no label'):
        VideoDataset(ann, [])


def test_non_integer_label_names_file_and_line(tmp_path):
    ann = write_list(tmp_path, 'a.mp4 0\nb.mp4 cat\n')
    with pytest.raises(AnnotationError) as err:
        VideoDataset(ann, [])
    message = str(err.value)
    assert f'{ann}:2:' in message and "'cat'" in message and '<path> <label>' in message


def test_label_out_of_range(tmp_path):
    ann = write_list(tmp_path, 'a.mp4 0\nb.mp4 4\n')
    with pytest.raises(AnnotationError, match=r':2: label 4 is out of range for num_classes=4'):
        VideoDataset(ann, [], num_classes=4)


def test_decodes_through_pipeline(tmp_path, make_video, identify_frame):
    make_video(str(tmp_path / 'clip 1.mp4'), 12)
    ann = write_list(tmp_path, 'clip 1.mp4 1\n')
    cfg = dict(
        type='VideoDataset',
        ann_file=ann,
        data_prefix=dict(video=str(tmp_path)),
        pipeline=[
            dict(type='DecordInit'),
            dict(type='SampleFrames', clip_len=4, frame_interval=2, num_clips=1, test_mode=True),
            dict(type='DecordDecode'),
            dict(type='FormatShape', input_format='NCTHW'),
            dict(type='PackActionInputs'),
        ],
        test_mode=True,
    )
    with DefaultScope.overwrite_default_scope('mmaction_ft'):
        out = DATASETS.build(cfg)[0]
    assert out['inputs'].shape == (1, 3, 4, 48, 64)
    assert out['data_samples'].gt_label.tolist() == [1]
    # span 7, max_offset 5, offset 5 // 2 = 2: frames 2, 4, 6, 8.
    frames = out['inputs'][0].permute(1, 2, 3, 0).numpy()
    assert [identify_frame(f) for f in frames] == [2, 4, 6, 8]
    assert out['inputs'].dtype == torch.uint8
