import cv2
import numpy as np
import pytest

from mmaction_ft.datasets import RawframeDataset, VideoDataset
from mmaction_ft.datasets.preparation import (
    check_config,
    check_dataset,
    dataset_from_config,
    diagnose,
)
from mmaction_ft.datasets.transforms import RawFrameDecode

JPEG = cv2.imencode('.jpg', np.full((32, 32, 3), 128, np.uint8))[1].tobytes()


def make_frames(folder, num_frames, tmpl='img_{:05d}.jpg'):
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(1, num_frames + 1):
        (folder / tmpl.format(i)).write_bytes(JPEG)


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
    report = check_dataset(str(ann), str(tmp_path), multi_class=True, num_classes=3)
    assert report.ok and report.class_counts == {0: 1, 1: 1, 2: 1}
    with pytest.raises(ValueError, match='multi_class=True needs num_classes'):
        check_dataset(str(ann), str(tmp_path), multi_class=True)  # the dataset refuses it too
    report = check_dataset(str(ann), str(tmp_path))  # two labels without multi_class
    assert kinds_by_line(report) == {(1, 'parse_error'), (0, 'empty_class')}
    parse_error = next(i for i in report.issues if i.kind == 'parse_error')
    assert 'multi_class=False' in parse_error.message  # the dataset's own message


def test_every_problem_of_a_line_is_reported(tmp_path):
    make_frames(tmp_path / 'a', 3)
    (tmp_path / 'a' / 'img_00002.jpg').write_bytes(JPEG[: len(JPEG) // 2])
    (tmp_path / 'ann.txt').write_text('a 3 0\na 4 9\nnowhere 0 -1\n')
    report = check_dataset(str(tmp_path / 'ann.txt'), str(tmp_path), num_classes=2)
    assert kinds_by_line(report) == {
        (1, 'corrupt_frame'),
        (2, 'label_out_of_range'),  # a duplicate no longer hides the label
        (2, 'duplicate'),
        (2, 'short_folder'),
        (2, 'corrupt_frame'),
        (3, 'label_out_of_range'),
        (3, 'no_frames'),
        (3, 'missing'),
        (0, 'empty_class'),
    }
    corrupt = next(i.message for i in report.issues if i.kind == 'corrupt_frame')
    assert 'img_00002.jpg' in corrupt and 'truncated JPEG' in corrupt
    assert 'labels are 0-based class indices, got -1' in str(report.summary())


def test_frames_are_decoded_as_the_pipeline_decodes_them(tmp_path):
    """The doctor decodes with the pipeline's RawFrameDecode, flow reads x and y files."""
    make_frames(tmp_path / 'f', 3, tmpl='x_{:05d}.jpg')
    make_frames(tmp_path / 'f', 2, tmpl='y_{:05d}.jpg')
    (tmp_path / 'f' / 'x_00001.jpg').write_bytes(b'')
    (tmp_path / 'ann.txt').write_text('f 3 0\n')
    dataset = RawframeDataset(
        str(tmp_path / 'ann.txt'),
        [RawFrameDecode(decoding_backend='pillow')],
        data_prefix=str(tmp_path),
        filename_tmpl='{}_{:05d}.jpg',
        modality='Flow',
        lazy_init=True,
    )
    report = diagnose(dataset)
    problems = [(i.kind, i.message) for i in report.issues if i.line_no == 1]
    assert [kind for kind, _ in problems] == ['short_folder', 'corrupt_frame']
    assert 'first missing: y_00003.jpg' in problems[0][1]
    assert 'x_00001.jpg is empty (0 bytes)' in problems[1][1]
    assert (1, 'corrupt_frame') not in kinds_by_line(diagnose(dataset, decode='header'))
    remote = RawframeDataset(
        str(tmp_path / 'ann.txt'), [RawFrameDecode(io_backend='petrel')], lazy_init=True
    )
    with pytest.raises(ValueError, match="io_backend='petrel'.*local files"):
        diagnose(remote)


def test_empty_list_is_an_error(tmp_path):
    (tmp_path / 'ann.txt').write_text('\n  \n')
    report = check_dataset(str(tmp_path / 'ann.txt'), str(tmp_path))
    assert not report.ok and [i.kind for i in report.issues] == ['empty_list']
    with pytest.raises(FileNotFoundError, match='nowhere.txt'):
        check_dataset(str(tmp_path / 'nowhere.txt'), str(tmp_path))


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


def test_dataset_from_1x_config(tmp_path):
    config = tmp_path / 'cfg.py'
    config.write_text(
        "model = dict(cls_head=dict(type='TSNHead', num_classes=101))\n"
        "train_dataloader = dict(batch_size=2, dataset=dict(type='RepeatDataset', times=2,\n"
        "    dataset=dict(type='RawframeDataset', ann_file='data/ucf101/train.txt',\n"
        "    data_prefix=dict(img='data/ucf101/rawframes'), filename_tmpl='img_{:05}.jpg',\n"
        "    pipeline=[dict(type='SampleFrames', clip_len=1, num_clips=3),\n"
        "              dict(type='RawFrameDecode', decoding_backend='pillow')])))\n"
        "val_dataloader = dict(dataset=dict(type='VideoDataset', data_root='data/k',\n"
        "    ann_file='val.txt', data_prefix=dict(video='videos_val'), pipeline=[]))\n"
    )
    train = dataset_from_config(str(config), 'train')  # lazy: the list does not exist
    assert isinstance(train, RawframeDataset) and not train._fully_initialized
    assert train.ann_file == 'data/ucf101/train.txt'
    assert train.data_prefix['img'] == 'data/ucf101/rawframes'
    # As the runner before training: a dataset without a class count takes the head's.
    assert train.num_classes == 101
    assert train.pipeline.transforms[1].decoding_backend == 'pillow'
    assert dataset_from_config(str(config), 'train', num_classes=7).num_classes == 7
    val = dataset_from_config(str(config), 'val')
    assert isinstance(val, VideoDataset)
    assert (val.ann_file, val.data_prefix['video']) == ('data/k/val.txt', 'data/k/videos_val')
    with pytest.raises(KeyError, match='test_dataloader'):
        dataset_from_config(str(config), 'test')


def test_dataset_from_0x_config_and_label_source(tmp_path):
    make_frames(tmp_path / 'rawframes' / 'a', 2)
    (tmp_path / 'val.txt').write_text('a 2 0\na 2 5\n')
    config = tmp_path / 'cfg.py'
    config.write_text(
        'model = dict(cls_head=dict(num_classes=3))\n'
        "data = dict(videos_per_gpu=8, val=dict(type='RawframeDataset',\n"
        f'    ann_file={str(tmp_path / "val.txt")!r},\n'
        f'    data_prefix={str(tmp_path / "rawframes")!r}, pipeline=[]))\n'
    )
    dataset = dataset_from_config(str(config), 'val')
    assert dataset.data_prefix['img'] == str(tmp_path / 'rawframes')
    assert dataset.test_mode  # 0.x tools built val datasets in test mode
    report = check_config(str(config), 'val')
    assert kinds_by_line(report) == {
        (2, 'label_out_of_range'),
        (2, 'duplicate'),
        (0, 'empty_class'),
    }
    label = next(i.message for i in report.issues if i.kind == 'label_out_of_range')
    assert 'label 5 is out of range for num_classes=3 (from model.cls_head.num_classes)' in label


def test_config_with_another_dataset_type_is_refused(tmp_path):
    config = tmp_path / 'cfg.py'
    config.write_text(
        "train_dataloader = dict(dataset=dict(type='ConcatDataset', datasets=[\n"
        "    dict(type='VideoDataset', ann_file='a.txt', pipeline=[]),\n"
        "    dict(type='VideoDataset', ann_file='b.txt', pipeline=[])]))\n"
    )
    with pytest.raises(ValueError, match='train_dataloader.dataset concatenates 2 datasets'):
        dataset_from_config(str(config))
