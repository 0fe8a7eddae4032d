"""Tiny on-disk fixtures for the dataset and decoding tests: frame folders and short videos."""

import os
import os.path as osp

import cv2
import numpy as np
import pytest

# 64 x 48: decord2 mis-decodes some tiny widths (16, 24, 32, 48, 96 px).
FRAME_H, FRAME_W = 48, 64


def frame_color(idx: int) -> tuple:
    """RGB colour of frame ``idx`` (0-based) in the fixtures: every frame is distinguishable."""
    return (20 + 10 * idx, 200 - 10 * idx, 100)


def write_frames(frame_dir: str, num_frames: int, tmpl: str = 'img_{:05}.jpg', start: int = 1):
    """Write ``num_frames`` solid-colour jpgs; file ``start + i`` holds ``frame_color(i)``."""
    os.makedirs(frame_dir, exist_ok=True)
    for i in range(num_frames):
        rgb = np.zeros((FRAME_H, FRAME_W, 3), np.uint8)
        rgb[:] = frame_color(i)
        cv2.imwrite(osp.join(frame_dir, tmpl.format(start + i)), rgb[..., ::-1])


def write_video(path: str, num_frames: int, fps: float = 25.0) -> str:
    """Write an mp4 (MPEG-4 part 2) whose frame ``i`` is ``frame_color(i)`` plus a moving bar."""
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'mp4v'), fps, (FRAME_W, FRAME_H))
    assert writer.isOpened()
    for i in range(num_frames):
        rgb = np.zeros((FRAME_H, FRAME_W, 3), np.uint8)
        rgb[:] = frame_color(i)
        rgb[:, : 2 + 2 * i] = 255  # texture, so the codec has something to encode
        writer.write(np.ascontiguousarray(rgb[..., ::-1]))
    writer.release()
    return path


def which_frame(img: np.ndarray) -> int:
    """The fixture frame index whose colour is closest to ``img`` (its right-hand part)."""
    right = img[:, -6:].reshape(-1, 3).astype(float).mean(0)
    dists = [np.abs(right - frame_color(i)).sum() for i in range(20)]
    return int(np.argmin(dists))


@pytest.fixture
def tiny_video(tmp_path):
    """A 12-frame, 25 fps mp4."""
    return write_video(str(tmp_path / 'tiny.mp4'), 12)


@pytest.fixture
def make_frames():
    """``make_frames(frame_dir, num_frames, tmpl='img_{:05}.jpg', start=1)``."""
    return write_frames


@pytest.fixture
def make_video():
    """``make_video(path, num_frames, fps=25.0) -> path``."""
    return write_video


@pytest.fixture
def identify_frame():
    """``identify_frame(img) -> fixture frame index`` (by colour)."""
    return which_frame


@pytest.fixture
def color_of():
    """``color_of(idx) -> RGB colour`` of fixture frame ``idx``."""
    return frame_color
