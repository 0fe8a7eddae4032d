import json
import os
import os.path as osp
import re
import subprocess
import sys
import warnings

import cv2
import numpy as np
import pytest
import torch

from mmaction_ft.datasets.video_io import import_decord
from mmaction_ft.demo.data import (
    CLASS_DESCRIPTIONS,
    CLASS_SETS,
    MOTIONS,
    make_demo_dataset,
    render_video,
    split_indices,
)

REPO = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
# Small enough to write in well under a second.
# (32, 64): decord2 cannot batch-decode some widths (32 among them), see test_decord_warning.
SMALL = dict(videos_per_class=4, num_frames=8, size=(32, 64), val_per_class=1)


@pytest.fixture(scope='module')
def source_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp('demo')
    info = make_demo_dataset(str(out), 'source', **SMALL)
    return out, info


def _read_frames(frame_dir):
    files = sorted(os.listdir(frame_dir))
    return files, np.stack([cv2.imread(osp.join(frame_dir, f))[:, :, ::-1] for f in files])


def test_class_sets_are_disjoint_and_described():
    source, target = set(CLASS_SETS['source']), set(CLASS_SETS['target'])
    assert len(source) == 8 and len(target) == 5
    assert not source & target
    assert CLASS_SETS['all'] == CLASS_SETS['source'] + CLASS_SETS['target']
    assert set(CLASS_DESCRIPTIONS) == source | target


def test_render_video_is_deterministic_and_varies():
    video = render_video('move_left', index=3, num_frames=6, size=(32, 48), seed=1)
    assert video.shape == (6, 32, 48, 3) and video.dtype == np.uint8
    np.testing.assert_array_equal(video, render_video('move_left', 3, 6, (32, 48), seed=1))
    assert not np.array_equal(video, render_video('move_left', 4, 6, (32, 48), seed=1))
    assert not np.array_equal(video, render_video('move_left', 3, 6, (32, 48), seed=2))
    # Frames differ within a video: something moves.
    assert np.abs(video[0].astype(int) - video[-1]).mean() > 1


def test_motions_go_the_named_way_on_screen():
    u = np.linspace(0, 1, 5)
    rng = np.random.default_rng(0)
    up = MOTIONS['move_up'](rng, 64.0, u)
    assert np.all(np.diff(up.y) < 0) and np.ptp(up.x) < 0.3 * np.ptp(up.y)  # y points down
    down_left = MOTIONS['move_down_left'](rng, 64.0, u)
    assert np.all(np.diff(down_left.y) > 0) and np.all(np.diff(down_left.x) < 0)
    for name, sign in (('rotate_clockwise', 1), ('rotate_counterclockwise', -1)):
        path = MOTIONS[name](rng, 64.0, np.linspace(0, 0.2, 3))
        # With y pointing down, a positive cross product of successive radii is clockwise.
        (x0, x1, _), (y0, y1, _) = path.x, path.y
        assert np.sign(x0 * y1 - y0 * x1) == sign, name
        assert np.sign(np.diff(path.angle)).tolist() == [sign, sign]
    grow = MOTIONS['grow'](rng, 64.0, u)
    shrink = MOTIONS['shrink'](rng, 64.0, u)
    assert np.all(np.diff(grow.radius) > 0) and np.all(np.diff(shrink.radius) < 0)


def test_render_video_rejects_bad_arguments():
    with pytest.raises(KeyError, match='unknown demo class'):
        render_video('jump')
    with pytest.raises(ValueError, match='even'):
        render_video('grow', size=33)


def test_lists_label_map_and_layout(source_dir):
    out, info = source_dir
    classes = CLASS_SETS['source']
    assert info['classes'] == list(classes) and info['num_classes'] == 8
    assert (info['num_train'], info['num_val']) == (8 * 3, 8 * 1)
    with open(info['label_map']) as f:
        assert f.read().splitlines() == list(classes)

    video_line = re.compile(r'^([a-z_]+)/\1_(\d{4})\.mp4 (\d+)$')
    frame_line = re.compile(r'^([a-z_]+)/\1_(\d{4}) 8 (\d+)$')
    seen = {}
    for split, count in (('train', 3), ('val', 1)):
        with open(info[f'{split}_list_videos']) as f:
            videos = f.read().splitlines()
        with open(info[f'{split}_list_rawframes']) as f:
            frames = f.read().splitlines()
        assert len(videos) == len(frames) == 8 * count
        for video, frame in zip(videos, frames):
            v, r = video_line.match(video), frame_line.match(frame)
            assert v and r, (video, frame)
            assert v.groups() == r.groups()
            class_name, index, label = v.group(1), int(v.group(2)), int(v.group(3))
            assert classes[label] == class_name  # 0-based labels in class-set order
            assert osp.isfile(osp.join(info['videos_prefix'], video.split()[0]))
            frame_dir = osp.join(info['rawframes_prefix'], frame.split()[0])
            assert sorted(os.listdir(frame_dir)) == [f'img_{i:05d}.jpg' for i in range(1, 9)]
            assert (class_name, index) not in seen
            seen[class_name, index] = split
    # Stratified: every class has exactly one val video and all 4 videos appear once.
    assert len(seen) == 8 * 4
    for class_name in classes:
        assert [seen[class_name, i] for i in range(4)].count('val') == 1


def test_split_is_stratified_and_deterministic():
    train, val = split_indices('grow', 20, 5, seed=0)
    assert len(val) == 5 and sorted(train + val) == list(range(20))
    assert split_indices('grow', 20, 5, seed=0) == (train, val)
    assert split_indices('grow', 20, 5, seed=1) != (train, val)


def test_val_fraction_rounds_per_class(tmp_path):
    info = make_demo_dataset(
        str(tmp_path),
        'target',
        videos_per_class=4,
        num_frames=2,
        size=16,
        val_fraction=0.25,
        formats=['rawframes'],
    )
    assert (info['num_train'], info['num_val']) == (5 * 3, 5 * 1)
    assert 'train_list_videos' not in info and not osp.exists(tmp_path / 'videos')
    with pytest.raises(ValueError, match='no training video'):
        make_demo_dataset(str(tmp_path / 'x'), 'target', videos_per_class=2, val_per_class=2)


def test_same_arguments_give_identical_files(source_dir, tmp_path):
    out, info = source_dir
    again = make_demo_dataset(str(tmp_path), 'source', **SMALL)
    for key in (
        'label_map',
        'train_list_videos',
        'val_list_videos',
        'train_list_rawframes',
        'val_list_rawframes',
    ):
        with open(info[key], 'rb') as a, open(again[key], 'rb') as b:
            assert a.read() == b.read(), key
    for class_name in ('move_up', 'move_down_left'):
        for index in range(4):
            rel = osp.join(class_name, f'{class_name}_{index:04d}')
            a_dir = osp.join(info['rawframes_prefix'], rel)
            b_dir = osp.join(again['rawframes_prefix'], rel)
            for name in os.listdir(a_dir):
                with open(osp.join(a_dir, name), 'rb') as a, open(osp.join(b_dir, name), 'rb') as b:
                    assert a.read() == b.read(), (rel, name)


def test_all_class_set_reuses_the_same_videos(source_dir, tmp_path):
    out, source = source_dir
    info = make_demo_dataset(str(tmp_path), 'all', formats=['rawframes'], **SMALL)
    assert info['num_classes'] == 13
    with open(info['train_list_rawframes']) as f:
        labels = {line.split('/')[0]: int(line.split()[2]) for line in f}
    assert labels['move_right'] == 0 and labels['rotate_clockwise'] == 8
    assert labels['zigzag'] == 12
    # One seed per (seed, class, index): a video is the same whatever the class set.
    rel = osp.join('move_up', 'move_up_0002', 'img_00004.jpg')
    with open(osp.join(source['rawframes_prefix'], rel), 'rb') as a:
        with open(osp.join(info['rawframes_prefix'], rel), 'rb') as b:
            assert a.read() == b.read()


def test_reuse_mismatch_and_overwrite(tmp_path):
    first = make_demo_dataset(str(tmp_path), 'target', **SMALL)
    assert not first['reused']
    some_frame = osp.join(first['rawframes_prefix'], 'grow', 'grow_0000', 'img_00001.jpg')
    mtime = os.stat(some_frame).st_mtime_ns

    second = make_demo_dataset(str(tmp_path), 'target', **SMALL)
    assert second['reused'] and os.stat(some_frame).st_mtime_ns == mtime

    # A missing file makes the dataset incomplete: it is written again.
    os.remove(some_frame)
    assert not make_demo_dataset(str(tmp_path), 'target', **SMALL)['reused']
    assert osp.isfile(some_frame)

    changed = dict(SMALL, num_frames=5)
    with pytest.raises(FileExistsError, match='num_frames'):
        make_demo_dataset(str(tmp_path), 'target', **changed)
    # 'all' writes over the same class folders, so it is checked against 'target' too.
    with pytest.raises(FileExistsError, match='target_manifest.json'):
        make_demo_dataset(str(tmp_path), 'all', **changed)

    third = make_demo_dataset(str(tmp_path), 'target', overwrite=True, **changed)
    assert not third['reused']
    frame_dir = osp.dirname(some_frame)
    assert len(os.listdir(frame_dir)) == 5  # no stale frames from the 8-frame run
    with open(third['train_list_rawframes']) as f:
        assert f.readline().split()[1] == '5'
    with open(third['manifest']) as f:
        assert json.load(f)['args']['num_frames'] == 5

    # Source shares no class with target: it can live in the same folder.
    assert not make_demo_dataset(str(tmp_path), 'source', **SMALL)['reused']


def test_missing_format_is_added(tmp_path):
    make_demo_dataset(str(tmp_path), 'target', formats=['rawframes'], **SMALL)
    info = make_demo_dataset(str(tmp_path), 'target', formats=['videos', 'rawframes'], **SMALL)
    assert not info['reused'] and osp.isfile(info['train_list_videos'])
    assert make_demo_dataset(str(tmp_path), 'target', formats=['videos'], **SMALL)['reused']


def test_mp4_matches_rawframes(source_dir):
    decord = import_decord()
    av = pytest.importorskip('av')
    out, info = source_dir
    rel = osp.join('move_up_left', 'move_up_left_0002')
    files, frames = _read_frames(osp.join(info['rawframes_prefix'], rel))
    video_path = osp.join(info['videos_prefix'], rel + '.mp4')

    reader = decord.VideoReader(video_path)
    assert len(reader) == len(files) == 8
    decoded = reader.get_batch(list(range(len(reader)))).asnumpy()
    with av.open(video_path) as container:
        pyav = [frame.to_ndarray(format='rgb24') for frame in container.decode(video=0)]
    assert len(pyav) == 8
    assert decoded.shape == frames.shape == (8, 32, 64, 3)
    # Same frames up to JPEG / MPEG-4 losses; a wrong frame order or channel swap is far larger.
    diff = np.abs(decoded.astype(int) - frames).mean(axis=(1, 2, 3))
    assert diff.max() < 12, diff
    assert np.abs(decoded[0].astype(int) - frames[-1]).mean() > diff[0]
    assert np.abs(decoded[0].astype(int) - frames[0][..., ::-1]).mean() > diff[0]


def test_decord_warning(tmp_path):
    """The warning comes exactly when the installed decord2 pads the rows of 32-pixel-wide
    frames on this machine (see tests/datasets/test_video_io.py::_decord_pads)."""
    decord = import_decord()
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter('always')
        info = make_demo_dataset(
            str(tmp_path), 'target', videos_per_class=2, num_frames=2, size=32, formats=['videos']
        )
    warned = any('decord cannot batch-decode' in str(w.message) for w in caught)
    with open(info['train_list_videos']) as f:
        first = f.readline().split()[0]
    video = osp.join(info['videos_prefix'], first)
    pads = decord.VideoReader(video)[0].asnumpy().shape[2] != 3
    assert warned == pads


def _comet_direction(frame):
    """Unit vector from the trail's centre of mass to the brightest part (the newest copy)."""
    pixels = frame.astype(np.float32)
    background = np.median(pixels.reshape(-1, 3), axis=0)
    contrast = np.linalg.norm(pixels - background, axis=2)
    weight = np.where(contrast > 30, contrast, 0)
    ys, xs = np.mgrid[: frame.shape[0], : frame.shape[1]]
    centre = np.array([(weight * xs).sum(), (weight * ys).sum()]) / weight.sum()
    head = contrast >= 0.9 * contrast.max()
    vector = np.array([xs[head].mean(), ys[head].mean()]) - centre
    return vector / (np.linalg.norm(vector) + 1e-6)


def test_single_frames_show_the_motion():
    """Nearest centroid on one number pair per single frame separates the 8 source classes."""
    classes = CLASS_SETS['source']
    features = {
        c: [np.stack([_comet_direction(f) for f in render_video(c, i, 6, 64)]) for i in range(6)]
        for c in classes
    }
    centroids = np.stack([np.concatenate(features[c][:3]).mean(0) for c in classes])
    predictions = np.concatenate(
        [np.argmax(np.concatenate(features[c][3:]) @ centroids.T, 1) for c in classes]
    )
    labels = np.repeat(np.arange(len(classes)), 3 * 6)
    accuracy = (predictions == labels).mean()
    assert accuracy > 0.8, accuracy  # chance is 0.125


@pytest.mark.slow
def test_tiny_cnn_learns_source_from_single_frames():
    torch.manual_seed(0)

    def frames(indices):
        x = [render_video(c, i, 8, 32) for c in CLASS_SETS['source'] for i in indices]
        y = np.repeat(np.arange(8), len(indices) * 8)
        x = torch.from_numpy(np.concatenate(x)).permute(0, 3, 1, 2).float() / 255
        return x, torch.from_numpy(y)

    x_train, y_train = frames(range(12))
    x_val, y_val = frames(range(100, 104))
    layers = []
    for c_in, c_out in ((3, 16), (16, 32), (32, 64)):
        layers += [
            torch.nn.Conv2d(c_in, c_out, 3, padding=1),
            torch.nn.BatchNorm2d(c_out),
            torch.nn.ReLU(),
            torch.nn.MaxPool2d(2),
        ]
    net = torch.nn.Sequential(
        *layers, torch.nn.AdaptiveAvgPool2d(1), torch.nn.Flatten(), torch.nn.Linear(64, 8)
    )
    optimizer = torch.optim.Adam(net.parameters(), 3e-3)
    for _ in range(100):
        batch = torch.randint(len(x_train), (32,))
        loss = torch.nn.functional.cross_entropy(net(x_train[batch]), y_train[batch])
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    net.eval()
    with torch.no_grad():
        accuracy = (net(x_val).argmax(1) == y_val).float().mean().item()
    assert accuracy > 0.4, accuracy  # chance is 0.125


def test_cli_writes_and_reuses(tmp_path):
    command = [
        sys.executable,
        osp.join(REPO, 'tools', 'data', 'make_demo_dataset.py'),
        str(tmp_path),
        '--class-set',
        'target',
        '--videos-per-class',
        '2',
        '--num-frames',
        '3',
        '--size',
        '16',
        '24',
        '--formats',
        'rawframes',
    ]
    first = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    assert first.startswith("wrote 'target' demo data") and 'zigzag' in first
    assert 'target_train_list_rawframes.txt' in first
    frame = cv2.imread(str(tmp_path / 'rawframes' / 'grow' / 'grow_0001' / 'img_00003.jpg'))
    assert frame.shape == (16, 24, 3)
    second = subprocess.run(command, capture_output=True, text=True, check=True).stdout
    assert second.startswith("reused existing 'target' demo data")
