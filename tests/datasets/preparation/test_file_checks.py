"""The doctor's per-file checks, called directly (the doctor's own tests go through whole lists)."""

import cv2
import numpy as np
import pytest

from mmaction_ft.datasets.preparation.file_checks import (
    ERROR,
    MAX_NAMED_FRAMES,
    WARNING,
    check_frame_folder,
    check_video,
)

TMPL = 'img_{:05}.jpg'


def kinds(problems):
    return {(kind, severity) for kind, _, severity in problems}


def test_a_complete_folder_has_no_problem(tmp_path, make_frames):
    make_frames(str(tmp_path / 'f'), 5)
    assert check_frame_folder(str(tmp_path / 'f'), 5, 0, 1, TMPL) == []


def test_missing_short_and_longer_folders(tmp_path, make_frames):
    make_frames(str(tmp_path / 'f'), 5)
    folder = str(tmp_path / 'f')
    assert check_frame_folder(str(tmp_path / 'none'), 5, 0, 1, TMPL) == [
        ('missing', f'frame folder {tmp_path / "none"} not found', ERROR)
    ]
    (short,) = check_frame_folder(folder, 7, 0, 1, TMPL)
    assert short == (
        'short_folder',
        f'{folder}: line says 7 frames, 5 of them exist (first missing: img_00006.jpg)',
        ERROR,
    )
    (extra,) = check_frame_folder(folder, 3, 0, 1, TMPL)
    assert extra == ('extra_frames', f'{folder}: line says 3 frames, folder has 5', WARNING)
    # With an offset the line names a part of the folder: frames after it are expected.
    assert check_frame_folder(folder, 3, 1, 1, TMPL) == []
    assert kinds(check_frame_folder(folder, 0, 0, 1, TMPL)) == {('no_frames', ERROR)}


def test_flow_needs_both_files_of_a_frame(tmp_path, make_frames):
    folder = tmp_path / 'flow'
    make_frames(str(folder), 4, tmpl='x_{:05}.jpg')
    make_frames(str(folder), 3, tmpl='y_{:05}.jpg')
    (short,) = check_frame_folder(str(folder), 4, 0, 1, '{}_{:05}.jpg', modality='Flow')
    assert short[0] == 'short_folder'
    assert '3 of them exist (first missing: y_00004.jpg)' in short[1]


def test_corrupt_frames_are_named_a_few_at_a_time(tmp_path, make_frames):
    folder = tmp_path / 'f'
    make_frames(str(folder), 6)
    data = (folder / 'img_00001.jpg').read_bytes()
    broken = [2, 3, 4, 5, 6]
    for i in broken:
        (folder / TMPL.format(i)).write_bytes(data[: len(data) // 3])
    (corrupt,) = check_frame_folder(str(folder), 6, 0, 1, TMPL)
    kind, message, severity = corrupt
    assert (kind, severity) == ('corrupt_frame', ERROR)
    assert message.startswith(f'{len(broken)} of 6 frame files fail: ')
    assert message.endswith(f'(+{len(broken) - MAX_NAMED_FRAMES} more)')
    assert 'img_00002.jpg' in message and 'img_00006.jpg' not in message
    # 'header' only looks the files up.
    assert check_frame_folder(str(folder), 6, 0, 1, TMPL, decode='header') == []


@pytest.mark.parametrize('backend', ['decord', 'pyav', 'opencv'])
def test_videos_open_and_decode_with_the_pipelines_reader(tmp_path, tiny_video, backend):
    assert check_video(tiny_video, backend=backend) == []
    # A name without extension is the .mp4 next to it, as the decoding transforms read it.
    assert check_video(tiny_video[: -len('.mp4')], backend=backend) == []
    missing = str(tmp_path / 'nowhere.mp4')
    assert check_video(missing, backend=backend) == [
        ('missing', f'video {missing} not found', ERROR)
    ]
    empty = tmp_path / 'empty.mp4'
    empty.write_bytes(b'')
    assert check_video(str(empty), backend=backend) == [
        ('empty_file', f'{empty} has 0 bytes', ERROR)
    ]
    garbage = tmp_path / 'garbage.mp4'
    garbage.write_bytes(b'not a video' * 100)
    (undecodable,) = check_video(str(garbage), backend=backend)
    assert undecodable[0] == 'undecodable'
    assert undecodable[1].startswith(f'{garbage} cannot be opened (')


def test_a_video_that_stops_decoding_part_way(tmp_path):
    path = tmp_path / 'motion.avi'
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'MJPG'), 25, (64, 48))
    for i in range(12):
        frame = np.full((48, 64, 3), 10 * i, np.uint8)
        cv2.putText(frame, str(i), (5, 30), cv2.FONT_HERSHEY_SIMPLEX, 0.8, (255, 255, 255), 2)
        writer.write(frame)
    writer.release()
    data = path.read_bytes()
    cut = tmp_path / 'cut.avi'
    cut.write_bytes(data[: data.rfind(b'\xff\xd8\xff') + 200])  # inside the last frame
    (problem,) = check_video(str(cut))
    kind, message, severity = problem
    assert (kind, severity) == ('decode_error', ERROR)
    assert message.startswith(f'{cut}: decoding stops after ')
    assert check_video(str(cut), decode='header') == []
