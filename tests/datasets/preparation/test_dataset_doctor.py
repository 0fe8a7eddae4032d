import cv2
import numpy as np
import pytest

from mmaction_ft.datasets.preparation import (
    check_dataset,
    dataset_settings_from_config,
)
from mmaction_ft.datasets.preparation.doctor import parse_line


def make_frames(folder, num_frames):
    folder.mkdir(parents=True)
    for i in range(1, num_frames + 1):
        (folder / f'img_{i:05d}.jpg').write_bytes(b'')


def write_video(path, num_frames, fourcc='mp4v'):
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*fourcc), 25, (64, 48))
    for i in range(num_frames):
        frame = np.full((48, 64, 3), 10 * i, np.uint8)
        cv2.putText(frame, str(i), (5, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (255, 255, 255), 2)
        writer.write(frame)
    writer.release()


def kinds_by_line(report):
    return {(issue.line_no, issue.kind) for issue in report.issues}


@pytest.fixture
def rawframes(tmp_path):
    root = tmp_path / 'rawframes'
    make_frames(root / 'a' / 'good', 5)
    make_frames(root / 'a' / 'short', 3)
    make_frames(root / 'b' / 'long', 8)
    make_frames(root / 'b' / 'other', 4)
    ann = tmp_path / 'list.txt'
    ann.write_text(
        'a/good 5 0\n'  # 1 ok
        'a/missing 5 0\n'  # 2 folder missing
        'a/short 5 1\n'  # 3 folder has 3 of 5 frames
        'b/long 5 1\n'  # 4 more frames than listed: warning only
        'b/other 4 7\n'  # 5 label out of range
        'a/good   5   0\n'  # 6 duplicate of line 1 (doubled spaces still parse)
        'b/other four 1\n'  # 7 parse error
        '\n'
    )
    return tmp_path


def test_doctor_names_each_planted_rawframe_fault(rawframes):
    report = check_dataset(str(rawframes / 'list.txt'), str(rawframes / 'rawframes'), num_classes=4)
    assert kinds_by_line(report) == {
        (2, 'missing'),
        (3, 'short_folder'),
        (4, 'extra_frames'),
        (5, 'label_out_of_range'),
        (6, 'duplicate'),
        (7, 'parse_error'),
        (0, 'empty_class'),  # classes 2 and 3
        (0, 'empty_class'),
    }
    assert report.bad_lines == {2, 3, 5, 6, 7}
    assert not report.ok
    short = next(i for i in report.issues if i.kind == 'short_folder')
    assert '3 of them exist' in short.message and 'img_00004.jpg' in short.message
    assert 'already on line 1' in next(i.message for i in report.issues if i.kind == 'duplicate')
    assert sum(i.kind == 'empty_class' for i in report.issues) == 2
    assert report.class_counts == {0: 1, 1: 1}

    summary = report.summary()
    for kind in ('missing', 'short_folder', 'label_out_of_range', 'duplicate', 'parse_error'):
        assert kind in summary
    assert '7 lines, 2 usable, 5 with errors' in summary

    clean = rawframes / 'clean.txt'
    assert report.write_clean(str(clean)) == 2
    assert clean.read_text() == 'a/good 5 0\nb/long 5 1\n'
    again = check_dataset(str(clean), str(rawframes / 'rawframes'), num_classes=2)
    assert [i.kind for i in again.issues] == ['extra_frames'] and again.ok


def test_with_offset_and_multi_class_lines(tmp_path):
    make_frames(tmp_path / 'v', 100)
    ann = tmp_path / 'list.txt'
    ann.write_text('v 90 10 0\nv 95 10 1\n')
    report = check_dataset(str(ann), str(tmp_path), with_offset=True, num_classes=2)
    # Frames 96..105 of 100; then class 1 has no usable sample left.
    assert kinds_by_line(report) == {(2, 'short_folder'), (0, 'empty_class')}
    make_frames(tmp_path / 'w', 100)
    ann.write_text('v 100 0 2\nw 100 1\n')
    report = check_dataset(str(ann), str(tmp_path), multi_class=True)
    assert report.ok and report.class_counts == {0: 1, 1: 1, 2: 1}
    report = check_dataset(str(ann), str(tmp_path))  # two labels without multi_class
    assert kinds_by_line(report) == {(1, 'parse_error'), (0, 'empty_class')}


@pytest.fixture
def videos(tmp_path):
    root = tmp_path / 'videos'
    root.mkdir()
    write_video(root / 'good.mp4', 12)
    write_video(root / 'good2.mp4', 6)
    data = (root / 'good.mp4').read_bytes()
    (root / 'truncated.mp4').write_bytes(data[: len(data) * 3 // 4])
    (root / 'empty.mp4').write_bytes(b'')
    write_video(root / 'motion.avi', 12, fourcc='MJPG')
    data = (root / 'motion.avi').read_bytes()
    last_jpeg = data.rfind(b'\xff\xd8\xff')
    (root / 'truncated.avi').write_bytes(data[: last_jpeg + 200])  # cut inside the last frame
    ann = tmp_path / 'videos.txt'
    ann.write_text(
        'good.mp4 0\n'  # 1
        'truncated.mp4 1\n'  # 2 moov atom cut off
        'empty.mp4 0\n'  # 3 0 bytes
        'truncated.avi 1\n'  # 4 data ends part way
        'nowhere.mp4 0\n'  # 5 missing
        'good2.mp4 1\n'  # 6
        'good2.mp4 1\n'  # 7 duplicate
    )
    return tmp_path


@pytest.mark.parametrize('workers', [1, 2])
def test_doctor_names_each_planted_video_fault(videos, workers):
    report = check_dataset(
        str(videos / 'videos.txt'), str(videos / 'videos'), 'videos', num_classes=2, workers=workers
    )
    found = kinds_by_line(report)
    assert {(2, 'undecodable'), (3, 'empty_file'), (5, 'missing'), (7, 'duplicate')} <= found
    assert (4, 'decode_error') in found  # the AVI opens, then its last frame fails
    assert report.bad_lines == {2, 3, 4, 5, 7}
    assert 'truncated.mp4' in next(i.message for i in report.issues if i.line_no == 2)


def test_header_mode_only_opens(videos):
    report = check_dataset(
        str(videos / 'videos.txt'), str(videos / 'videos'), 'videos', decode='header'
    )
    assert (1, 'undecodable') not in kinds_by_line(report)
    assert (2, 'undecodable') in kinds_by_line(report)


def test_parse_line():
    assert parse_line('a/b 10 3', 'rawframes') == ('a/b', 10, 0, (3,))
    assert parse_line('a/b 5 10 3', 'rawframes', with_offset=True) == ('a/b', 10, 5, (3,))
    assert parse_line('x.mp4  1 3', 'videos', multi_class=True) == ('x.mp4', None, 0, (1, 3))
    with pytest.raises(ValueError, match='expected 3 or more fields'):
        parse_line('a/b 10', 'rawframes')
    with pytest.raises(ValueError, match='multi_class'):
        parse_line('x.mp4 1 3', 'videos')


def test_settings_from_1x_config(tmp_path):
    config = tmp_path / 'cfg.py'
    config.write_text(
        "model = dict(cls_head=dict(type='TSNHead', num_classes=101))\n"
        "train_dataloader = dict(batch_size=2, dataset=dict(type='RepeatDataset', times=2,\n"
        "    dataset=dict(type='RawframeDataset', ann_file='data/ucf101/train.txt',\n"
        "    data_prefix=dict(img='data/ucf101/rawframes'), filename_tmpl='img_{:05}.jpg')))\n"
        "val_dataloader = dict(dataset=dict(type='VideoDataset', data_root='data/k',\n"
        "    ann_file='val.txt', data_prefix=dict(video='videos_val')))\n"
    )
    assert dataset_settings_from_config(str(config), 'train') == dict(
        ann_file='data/ucf101/train.txt',
        data_root='data/ucf101/rawframes',
        data_type='rawframes',
        num_classes=101,
        multi_class=False,
        with_offset=False,
        start_index=None,
        filename_tmpl='img_{:05}.jpg',
    )
    val = dataset_settings_from_config(str(config), 'val')
    assert (val['ann_file'], val['data_root'], val['data_type']) == (
        'data/k/val.txt',
        'data/k/videos_val',
        'videos',
    )
    with pytest.raises(KeyError, match='test_dataloader'):
        dataset_settings_from_config(str(config), 'test')


def test_settings_from_0x_config(tmp_path):
    config = tmp_path / 'cfg.py'
    config.write_text(
        "data = dict(videos_per_gpu=8, val=dict(type='RawframeDataset',\n"
        "    ann_file='data/ucf101/ucf101_val_list.txt',\n"
        "    data_prefix='data/ucf101/rawframes_val'))\n"
    )
    settings = dataset_settings_from_config(str(config), 'val')
    assert settings['data_root'] == 'data/ucf101/rawframes_val'
    assert settings['num_classes'] is None
