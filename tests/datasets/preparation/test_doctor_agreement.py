"""The dataset doctor and the dataset agree, line by line, on lists holding every fault and oddity.

Each list below plants every fault kind the doctor knows and every benign oddity the datasets
accept (UTF-8 BOM, CRLF line ends, tabs and runs of spaces, leading / trailing blanks, non-ASCII
names, a video path with spaces, blank lines). The dataset's verdict on a line comes from a
one-line list holding just that line, parsed and then loaded through a training pipeline that
decodes every frame (so a missing or corrupt frame anywhere in the video fails, as it would on
some epoch); the doctor must call exactly those lines bad, plus duplicates, which training
accepts but which count a video twice.
"""

import cv2
import numpy as np
import pytest

from mmaction_ft.datasets import RawframeDataset, VideoDataset
from mmaction_ft.datasets.annotation import AnnotationError
from mmaction_ft.datasets.preparation import check_dataset, diagnose
from mmaction_ft.datasets.transforms import DecordDecode, DecordInit, RawFrameDecode

JPEG = cv2.imencode('.jpg', np.full((32, 32, 3), 90, np.uint8))[1].tobytes()

# (line, what it plants, the doctor's kinds for it); '' marks a blank line.
RAWFRAME_LINES = [
    ('\ufeffgood 4 0', 'BOM before the first field', set()),
    ('ünï_dir\t3   1', 'non-ASCII folder, tab and spaces', set()),
    ('', 'blank line', None),
    ('   plain 3 2  ', 'leading and trailing blanks', set()),
    ('missing_dir 3 0', 'missing folder', {'missing'}),
    ('short 4 1', 'folder with 2 of 4 frames', {'short_folder'}),
    ('empty_jpg 3 0', 'a 0-byte frame', {'corrupt_frame'}),
    ('corrupt_jpg 3 1', 'a frame that is not an image', {'corrupt_frame'}),
    ('truncated_jpg 3 2', 'a JPEG cut short', {'corrupt_frame'}),
    ('o1 3 7', 'label out of range', {'label_out_of_range'}),
    ('o2 3 -1', 'label -1 outside test mode', {'label_out_of_range'}),
    ('o3 three 0', 'non-integer field', {'parse_error'}),
    ('o4', 'too few fields', {'parse_error'}),
    ('o5 3 0 1', 'several labels without multi_class', {'parse_error'}),
    ('zero 0 1', 'a line with 0 frames', {'no_frames'}),
    ('good   4 0', 'duplicate of line 1', {'duplicate'}),
    ('good 4 9', 'duplicate and label out of range', {'duplicate', 'label_out_of_range'}),
    ('nowhere 3 5', 'missing folder and label out of range', {'missing', 'label_out_of_range'}),
    ('', 'blank last line', None),
]

VIDEO_LINES = [
    ('\ufeffgood.mp4 0', 'BOM before the first field', set()),
    ('my clips/take 2.mp4\t 1', 'path with spaces, tab and space', set()),
    ('', 'blank line', None),
    ('vidéo_ü.mp4    0', 'non-ASCII name, run of spaces', set()),
    ('missing.mp4 1', 'missing file', {'missing'}),
    ('empty.mp4 0', 'a 0-byte video', {'empty_file'}),
    ('not_video.mp4 1', 'a text file named .mp4', {'undecodable'}),
    ('v1.mp4 5', 'label out of range', {'label_out_of_range'}),
    ('v2.mp4 -1', 'label -1 outside test mode', {'label_out_of_range'}),
    ('v3.mp4 x', 'non-integer label', {'parse_error'}),
    ('v4.mp4', 'too few fields (no label)', {'parse_error'}),
    ('v1.mp4 0 1', 'several labels without multi_class', {'parse_error'}),
    ('good.mp4 0', 'duplicate of line 1', {'duplicate'}),
    ('good.mp4 7', 'duplicate and label out of range', {'duplicate', 'label_out_of_range'}),
    ('nothere.mp4 9', 'missing file and label out of range', {'missing', 'label_out_of_range'}),
]


# mmengine's serialization runs gc.collect() per dataset (0.3 s each here); nothing to share.
FAST = dict(serialize_data=False)


def all_frames(results):
    """Sample every frame of the video, so any bad frame fails the sample."""
    results['frame_inds'] = np.arange(results['total_frames']) + results['start_index']
    return results


def write_list(path, lines):
    """The lines with CRLF ends, as a Windows editor saves them (the BOM is in line 1)."""
    path.write_bytes(''.join(f'{line}\r\n' for line, *_ in lines).encode('utf-8'))


def dataset_verdicts(make_dataset, tmp_path, lines):
    """Line number -> the error of the dataset on a one-line list holding that line."""
    failures = {}
    for line_no, (line, *_) in enumerate(lines, 1):
        if not line:
            continue
        one = tmp_path / f'line_{line_no}.txt'
        one.write_bytes(f'{line}\r\n'.encode())
        try:
            make_dataset(str(one))[0]
        except Exception as exc:  # parse, label, file or decode: any failure of training
            failures[line_no] = exc
    return failures


def check_agreement(report, failures, lines):
    expected = {n: kinds for n, (_, _, kinds) in enumerate(lines, 1) if kinds is not None}
    found = {n: {i.kind for i in report.issues if i.line_no == n} for n in expected}
    assert found == expected  # every problem of a line, and nothing on the good lines
    duplicates = {n for n, kinds in expected.items() if 'duplicate' in kinds}
    # The agreement: the doctor's bad lines are the lines training fails on, plus duplicates
    # (training accepts a duplicate; only the one that also has a bad label fails).
    assert report.bad_lines == set(failures) | duplicates
    assert set(failures) == {n for n, kinds in expected.items() if kinds - {'duplicate'}}
    assert [n for n, _ in report.lines] == sorted(expected)  # blank lines are not samples
    for line_no, error in failures.items():
        if isinstance(error, AnnotationError):  # the doctor quotes the dataset's own message
            messages = [i.message for i in report.issues if i.line_no == line_no]
            assert error.problem in messages


@pytest.fixture
def rawframes(tmp_path):
    root = tmp_path / 'rawframes'
    folders = {'good': 4, 'ünï_dir': 3, 'plain': 3, 'short': 2, 'zero': 2}
    folders.update({name: 3 for name in ('empty_jpg', 'corrupt_jpg', 'truncated_jpg')})
    folders.update({f'o{i}': 3 for i in range(1, 6)})
    for name, num_frames in folders.items():
        (root / name).mkdir(parents=True)
        for i in range(1, num_frames + 1):
            (root / name / f'img_{i:05d}.jpg').write_bytes(JPEG)
    (root / 'empty_jpg' / 'img_00002.jpg').write_bytes(b'')
    (root / 'corrupt_jpg' / 'img_00003.jpg').write_bytes(b'GIF89a is not what it says' * 4)
    (root / 'truncated_jpg' / 'img_00001.jpg').write_bytes(JPEG[: len(JPEG) * 2 // 3])
    write_list(tmp_path / 'list.txt', RAWFRAME_LINES)
    return tmp_path


def test_doctor_agrees_with_rawframe_dataset(rawframes):
    def make_dataset(ann_file):
        pipeline = [all_frames, RawFrameDecode()]
        root = str(rawframes / 'rawframes')
        return RawframeDataset(ann_file, pipeline, data_prefix=root, num_classes=3, **FAST)

    failures = dataset_verdicts(make_dataset, rawframes, RAWFRAME_LINES)
    report = check_dataset(str(rawframes / 'list.txt'), str(rawframes / 'rawframes'), num_classes=3)
    check_agreement(report, failures, RAWFRAME_LINES)
    # Corrupt frames fail in training naming the file, and the doctor names the same file.
    for line_no, name in ((7, 'empty_jpg'), (8, 'corrupt_jpg'), (9, 'truncated_jpg')):
        issue = next(i for i in report.issues if i.line_no == line_no)
        assert name in str(failures[line_no]) and name in issue.message
    assert 'truncated JPEG' in str(failures[9])
    assert report.class_counts == {0: 1, 1: 1, 2: 1}
    assert report.write_clean(str(rawframes / 'clean.txt')) == 3
    clean = check_dataset(str(rawframes / 'clean.txt'), str(rawframes / 'rawframes'))
    assert clean.ok and len(clean.lines) == 3


@pytest.fixture
def videos(tmp_path, make_video):
    root = tmp_path / 'videos'
    (root / 'my clips').mkdir(parents=True)
    for name in ('good.mp4', 'my clips/take 2.mp4', 'vidéo_ü.mp4', 'v1.mp4', 'v2.mp4'):
        make_video(str(root / name), 6)
    for name in ('v3.mp4', 'v4.mp4'):
        (root / name).write_bytes((root / 'good.mp4').read_bytes())
    (root / 'empty.mp4').write_bytes(b'')
    (root / 'not_video.mp4').write_text('this is a download error page\n')
    write_list(tmp_path / 'videos.txt', VIDEO_LINES)
    return tmp_path


def test_doctor_agrees_with_video_dataset(videos):
    def make_dataset(ann_file):
        pipeline = [DecordInit(), all_frames, DecordDecode()]
        root = str(videos / 'videos')
        return VideoDataset(
            ann_file, pipeline, data_prefix=root, num_classes=2, lazy_init=True, **FAST
        )

    failures = dataset_verdicts(make_dataset, videos, VIDEO_LINES)
    report = diagnose(make_dataset(str(videos / 'videos.txt')))
    check_agreement(report, failures, VIDEO_LINES)
    assert report.class_counts == {0: 2, 1: 1}


def test_training_skips_a_truncated_frame_naming_it(rawframes):
    (rawframes / 'two.txt').write_text('good 4 0\ntruncated_jpg 3 1\n')
    dataset = RawframeDataset(
        str(rawframes / 'two.txt'),
        [all_frames, RawFrameDecode()],
        data_prefix=str(rawframes / 'rawframes'),
        on_bad_sample='skip',
        **FAST,
    )
    assert dataset[1]['frame_dir'].endswith('good')  # replaced by the good sample
    [(index, reason)] = dataset.skipped
    assert index == 1 and 'truncated_jpg/img_00001.jpg is a truncated JPEG' in reason
