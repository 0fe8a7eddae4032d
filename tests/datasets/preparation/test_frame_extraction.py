import os
import os.path as osp

import cv2
import numpy as np
import pytest

from mmaction_ft.datasets.preparation import (
    count_frames,
    extract_frames,
    extract_video_frames,
    find_videos,
    iter_video_frames,
    read_frame_counts,
)
from mmaction_ft.datasets.preparation.frame_extraction import (
    output_size,
    short_error,
    template_regex,
)
from mmaction_ft.datasets.video_io import import_decord
from mmaction_ft.demo.data import make_demo_dataset

NUM_FRAMES = 10

decord = import_decord()


@pytest.fixture(scope='module')
def demo_videos(tmp_path_factory):
    """Five classes x two mp4 videos of 10 frames, 64x64."""
    root = tmp_path_factory.mktemp('demo')
    info = make_demo_dataset(
        str(root), class_set='target', videos_per_class=2, num_frames=NUM_FRAMES, size=64,
        formats=('videos',),
    )  # fmt: skip
    return info['videos_prefix']


def write_video(path, num_frames=6, size=(40, 24)):
    """A small mp4 (MPEG-4 part 2) with a different colour per frame."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'mp4v'), 25, size)
    for i in range(num_frames):
        writer.write(np.full((size[1], size[0], 3), (20 * i, 100, 200 - 20 * i), np.uint8))
    writer.release()
    assert len(decord.VideoReader(str(path))) == num_frames


def test_extracted_frames_match_decord_and_rerun_skips(demo_videos, tmp_path):
    out = str(tmp_path / 'rawframes')
    videos = find_videos(demo_videos)
    assert len(videos) == 10 and videos[0] == 'grow/grow_0000.mp4'

    report = extract_frames(demo_videos, out, workers=2, progress=False)
    assert not report.failed and not report.skipped
    assert report.extracted == {osp.splitext(v)[0]: NUM_FRAMES for v in videos}
    assert read_frame_counts(osp.join(out, 'frame_counts.txt')) == report.extracted

    for video in videos[:3]:
        expected = (
            decord.VideoReader(osp.join(demo_videos, video)).get_batch(range(NUM_FRAMES)).asnumpy()
        )
        frame_dir = osp.join(out, osp.splitext(video)[0])
        assert sorted(os.listdir(frame_dir)) == [f'img_{i:05d}.jpg' for i in range(1, 11)]
        for i in range(NUM_FRAMES):
            rgb = cv2.imread(osp.join(frame_dir, f'img_{i + 1:05d}.jpg'))[..., ::-1].astype(int)
            errors = np.abs(rgb[None] - expected.astype(int)).mean(axis=(1, 2, 3))
            # Within JPEG (quality 95) error of its own frame; neighbours differ by ~6.
            assert errors.argmin() == i and errors[i] < 2.5, (video, i, errors)

    mtimes = {p: os.stat(p).st_mtime_ns for p in _all_files(out) if p.endswith('.jpg')}
    again = extract_frames(demo_videos, out, workers=2, progress=False)
    assert again.extracted == {} and again.skipped == report.extracted
    assert {p: os.stat(p).st_mtime_ns for p in mtimes} == mtimes

    # A folder that lost a frame is redone, and only that one.
    os.remove(osp.join(out, 'grow', 'grow_0001', 'img_00004.jpg'))
    third = extract_frames(demo_videos, out, progress=False)
    assert third.extracted == {'grow/grow_0001': NUM_FRAMES} and len(third.skipped) == 9
    assert count_frames(osp.join(out, 'grow', 'grow_0001')) == NUM_FRAMES


def _all_files(root):
    return [osp.join(d, f) for d, _, files in os.walk(root) for f in files]


def test_corrupt_videos_are_reported_not_fatal(tmp_path):
    src = tmp_path / 'videos'
    (src / 'a').mkdir(parents=True)
    write_video(src / 'a' / 'good.mp4', num_frames=6)
    (src / 'a' / 'empty.mp4').write_bytes(b'')
    (src / 'a' / 'text.mp4').write_text('not a video')
    data = (src / 'a' / 'good.mp4').read_bytes()
    (src / 'a' / 'truncated.mp4').write_bytes(data[: len(data) // 2])
    out = tmp_path / 'rawframes'

    report = extract_frames(str(src), str(out), progress=False)

    assert report.extracted == {'a/good': 6}
    assert set(report.failed) == {'a/empty.mp4', 'a/text.mp4', 'a/truncated.mp4'}
    assert '0 bytes' in report.failed['a/empty.mp4']
    assert 'a/truncated.mp4' in report.summary()
    assert sorted(os.listdir(out / 'a')) == ['good']  # no partial folder left behind
    assert read_frame_counts(str(out / 'frame_counts.txt')) == {'a/good': 6}


def test_unfinished_folder_is_redone_and_stale_frames_removed(tmp_path):
    write_video(tmp_path / 'v.mp4', num_frames=6)
    frame_dir = tmp_path / 'out' / 'v'
    frame_dir.mkdir(parents=True)
    for i in range(1, 21):  # left by a crashed run of a longer video; not in frame_counts.txt
        (frame_dir / f'img_{i:05d}.jpg').write_bytes(b'x')
    report = extract_frames(str(tmp_path), str(tmp_path / 'out'), progress=False)
    assert report.extracted == {'v': 6}
    assert count_frames(str(frame_dir)) == 6


@pytest.mark.parametrize(
    'kwargs, shape', [({'short_side': 12}, (12, 20)), ({'size': (16, 8)}, (8, 16))]
)
def test_resize_options(tmp_path, kwargs, shape):
    write_video(tmp_path / 'v.mp4', num_frames=3, size=(40, 24))
    n = extract_video_frames(str(tmp_path / 'v.mp4'), str(tmp_path / 'f'), quality=80, **kwargs)
    assert n == 3
    assert cv2.imread(str(tmp_path / 'f' / 'img_00003.jpg')).shape[:2] == shape


@pytest.mark.parametrize('backend', ['pyav', 'opencv'])
def test_other_backends_give_the_same_frames(tmp_path, backend):
    write_video(tmp_path / 'v.mp4', num_frames=5)
    extract_video_frames(str(tmp_path / 'v.mp4'), str(tmp_path / 'decord'))
    assert (
        extract_video_frames(str(tmp_path / 'v.mp4'), str(tmp_path / backend), backend=backend) == 5
    )
    for i in range(1, 6):
        a = cv2.imread(str(tmp_path / 'decord' / f'img_{i:05d}.jpg')).astype(int)
        b = cv2.imread(str(tmp_path / backend / f'img_{i:05d}.jpg')).astype(int)
        assert np.abs(a - b).mean() < 3


def test_options_are_validated(tmp_path):
    with pytest.raises(ValueError, match='either short_side or size'):
        output_size(10, 10, short_side=5, size=(4, 4))
    with pytest.raises(ValueError, match='backend'):
        extract_frames(str(tmp_path), str(tmp_path / 'o'), backend='ffmpeg')
    with pytest.raises(ValueError, match='one index field'):
        template_regex('img.jpg')


def test_template_regex_and_short_error():
    assert template_regex('img_{:05}.jpg').match('img_00012.jpg').group(1) == '00012'
    assert template_regex('{:05d}.jpg').match('img_00012.jpg') is None
    message = '[22:14:04] /src/a.cc:292: [22:14:04] /src/b.cc:218: Check failed: bad packet'
    assert short_error(RuntimeError(message)) == 'RuntimeError: Check failed: bad packet'


def test_decord_row_padding_is_undone(tmp_path):
    # decord2 pads the rows of 32-pixel-wide frames to 64 pixels (shape [H, 32, 6]).
    write_video(tmp_path / 'v.mp4', num_frames=3, size=(32, 24))
    decoded = list(iter_video_frames(str(tmp_path / 'v.mp4'), 'decord'))
    reference = list(iter_video_frames(str(tmp_path / 'v.mp4'), 'pyav'))
    assert [f.shape for f in decoded] == [(24, 32, 3)] * 3
    for a, b in zip(decoded, reference):
        assert np.abs(a.astype(int) - b).mean() < 1
