"""Synthetic motion clips for a download-free finetuning demo.

Every class is a motion (move left, circle clockwise, grow, ...), and every frame also draws
the object at a few earlier times in colours fading into the background (a motion trail, newest
brightest), so a 2D model that sees single frames, such as TSN averaging per-frame features, can
read the motion. Shape, colours, position, speed and background noise change from video to
video, so the class can only be read from the motion. The object is always brighter than the
background; its hue, and the background's, vary.

Two disjoint class sets share the same renderer and nuisances: ``'source'`` (move in 8
directions) to pretrain on and ``'target'`` (rotate either way, grow, shrink, zig-zag) to
finetune on; ``'all'`` is both. Note that horizontal flips swap left/right and clockwise /
counter-clockwise, so pipelines for this data must not flip (crops are fine down to about
0.8 of the frame: the motion keeps a 4% margin from the border).

Layout written under ``out_dir`` (``name`` is the class set, e.g. ``source``)::

    videos/<class>/<class>_<i:04d>.mp4
    rawframes/<class>/<class>_<i:04d>/img_00001.jpg ...      (1-based, RGB saved as JPEG)
    <name>_train_list_videos.txt       <class>/<class>_<i:04d>.mp4 <label>
    <name>_val_list_videos.txt
    <name>_train_list_rawframes.txt    <class>/<class>_<i:04d> <total_frames> <label>
    <name>_val_list_rawframes.txt
    <name>_classes.txt                 one class name per line, line i is label i
    <name>_manifest.json               the arguments, so a complete dataset is reused
"""

import json
import math
import os
import os.path as osp
import shutil
import time
import warnings
import zlib
from dataclasses import dataclass
from typing import Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import cv2
import mmcv
import numpy as np

from mmaction_ft.datasets.video_io import open_video, write_video

# Bump whenever the rendering changes: a dataset cached under another version is not reused.
GENERATOR_VERSION = 1

# Motion trail: the object is drawn again at TRAIL_LENGTH earlier times, spaced by
# TRAIL_STEP in units of the whole video's duration, so the trail looks the same for any
# num_frames and even the first frame shows a full trail (the motion is extrapolated backwards).
TRAIL_LENGTH = 5
TRAIL_STEP = 0.16

# Direction in degrees, counter-clockwise from "right" as a viewer sees it.
_DIRECTIONS = {
    'move_right': 0,
    'move_up_right': 45,
    'move_up': 90,
    'move_up_left': 135,
    'move_left': 180,
    'move_down_left': 225,
    'move_down': 270,
    'move_down_right': 315,
}

#: Class sets by name; the label of a class is its position in the tuple.
CLASS_SETS: Dict[str, Tuple[str, ...]] = {
    'source': tuple(_DIRECTIONS),
    'target': ('rotate_clockwise', 'rotate_counterclockwise', 'grow', 'shrink', 'zigzag'),
}
CLASS_SETS['all'] = CLASS_SETS['source'] + CLASS_SETS['target']

#: What each class looks like, for label maps and docs.
CLASS_DESCRIPTIONS: Dict[str, str] = {
    **{name: f'moves {name[5:].replace("_", " and ")} in a straight line' for name in _DIRECTIONS},
    'rotate_clockwise': 'circles around a point clockwise, turning the same way',
    'rotate_counterclockwise': 'circles around a point counter-clockwise, turning the same way',
    'grow': 'grows in place (drifting slightly)',
    'shrink': 'shrinks in place (drifting slightly)',
    'zigzag': 'moves in a zig-zag along a random direction',
}


def _regular_polygon(num_vertices: int, radius_ratio: float = 1.0) -> np.ndarray:
    """Unit-radius polygon; with ``radius_ratio < 1`` every other vertex is pulled in (a star)."""
    angles = np.arange(num_vertices) * 2 * math.pi / num_vertices - math.pi / 2
    radii = np.where(np.arange(num_vertices) % 2 == 0, 1.0, radius_ratio)
    return np.stack([radii * np.cos(angles), radii * np.sin(angles)], axis=1)


def _cross(arm: float = 0.35) -> np.ndarray:
    a, b = arm, 1.0
    return np.array(
        [[-a, -b], [a, -b], [a, -a], [b, -a], [b, a], [a, a],
         [a, b], [-a, b], [-a, a], [-b, a], [-b, -a], [-a, -a]])  # fmt: skip


# Polygons of radius about 1 around the origin, x right and y down.
SHAPES: Dict[str, np.ndarray] = {
    'circle': _regular_polygon(32),
    'square': _regular_polygon(4),
    'triangle': _regular_polygon(3),
    'cross': _cross(),
    'star': _regular_polygon(10, radius_ratio=0.45),
    'hexagon': _regular_polygon(6),
}


@dataclass
class _Path:
    """Object state as arrays over normalised time ``u`` (0 = first frame, 1 = last frame).

    ``x``, ``y`` are the centre in pixels relative to an arbitrary origin, ``radius`` in pixels,
    ``angle`` in radians (positive turns clockwise on screen, since y points down).
    """

    x: np.ndarray
    y: np.ndarray
    radius: np.ndarray
    angle: np.ndarray


# A motion maps (rng, frame side in pixels, times u) to the object's path.
Motion = Callable[[np.random.Generator, float, np.ndarray], _Path]


def _translate(direction_deg: float) -> Motion:
    def motion(rng: np.random.Generator, side: float, u: np.ndarray) -> _Path:
        # +-8 degrees keeps the 45 degree neighbours apart while directions are not pixel-exact.
        phi = math.radians(direction_deg + rng.uniform(-8, 8))
        travel = rng.uniform(0.25, 0.38) * side  # over the whole video
        radius = rng.uniform(0.07, 0.1) * side
        angle0 = rng.uniform(0, 2 * math.pi)
        return _Path(
            travel * u * math.cos(phi),
            -travel * u * math.sin(phi),
            np.full_like(u, radius),
            np.full_like(u, angle0),
        )

    return motion


def _rotate(clockwise: bool) -> Motion:
    def motion(rng: np.random.Generator, side: float, u: np.ndarray) -> _Path:
        orbit = rng.uniform(0.16, 0.24) * side
        sweep = rng.uniform(1.2, 2.0) * math.pi  # over the whole video
        radius = rng.uniform(0.07, 0.1) * side
        alpha = rng.uniform(0, 2 * math.pi) + (1 if clockwise else -1) * sweep * u
        # The shape turns with the orbit (always the same side to the centre): a second cue
        # for the sense of rotation on shapes that are not round.
        return _Path(orbit * np.cos(alpha), orbit * np.sin(alpha), np.full_like(u, radius), alpha)

    return motion


def _scale(grow: bool) -> Motion:
    def motion(rng: np.random.Generator, side: float, u: np.ndarray) -> _Path:
        # Both classes span the same sizes within the video, so size alone says nothing.
        factor = rng.uniform(1.8, 2.4)
        largest = rng.uniform(0.14, 0.2) * side
        radius = largest * factor ** (u - 1 if grow else -u)
        drift = rng.uniform(0, 0.08) * side
        phi = rng.uniform(0, 2 * math.pi)
        angle0 = rng.uniform(0, 2 * math.pi)
        return _Path(
            drift * u * math.cos(phi), drift * u * math.sin(phi), radius, np.full_like(u, angle0)
        )

    return motion


def _zigzag(rng: np.random.Generator, side: float, u: np.ndarray) -> _Path:
    phi = rng.uniform(0, 2 * math.pi)
    travel = rng.uniform(0.2, 0.3) * side
    amplitude = rng.uniform(0.12, 0.16) * side  # sideways, well beyond the object's size
    radius = rng.uniform(0.06, 0.08) * side
    # Half a period spans 2-2.5 trail steps, so most trails (0.8 long) bend once or twice.
    period = rng.uniform(0.64, 0.8)
    phase = rng.uniform(0, 1)
    wave = 4 * np.abs((u / period + phase) % 1.0 - 0.5) - 1  # triangle wave in [-1, 1]
    along, across = travel * u, amplitude * wave
    angle0 = rng.uniform(0, 2 * math.pi)
    return _Path(
        along * math.cos(phi) - across * math.sin(phi),
        along * math.sin(phi) + across * math.cos(phi),
        np.full_like(u, radius),
        np.full_like(u, angle0),
    )


MOTIONS: Dict[str, Motion] = {
    **{name: _translate(deg) for name, deg in _DIRECTIONS.items()},
    'rotate_clockwise': _rotate(clockwise=True),
    'rotate_counterclockwise': _rotate(clockwise=False),
    'grow': _scale(grow=True),
    'shrink': _scale(grow=False),
    'zigzag': _zigzag,
}


def _luma(rgb: np.ndarray) -> float:
    return float(rgb @ np.array([0.299, 0.587, 0.114]))


def _colours(rng: np.random.Generator) -> Tuple[np.ndarray, np.ndarray]:
    """Background and object RGB colours, the object clearly brighter.

    A fixed polarity lets a small network read the trail's fading without first working out
    whether the object is the dark or the bright part; hues still vary freely.
    """
    background = rng.uniform(0, 120, size=3)
    while True:  # rejection sampling: deterministic for a given rng
        colour = rng.uniform(0, 255, size=3)
        if _luma(colour) >= _luma(background) + 90:
            return background, colour


def _size_hw(size: Union[int, Sequence[int]]) -> Tuple[int, int]:
    height, width = (size, size) if isinstance(size, int) else tuple(size)
    if height < 16 or width < 16 or height % 2 or width % 2:
        raise ValueError(
            f'size (height, width) must be even (for yuv420p video) and >= 16 pixels, got {size}'
        )
    return int(height), int(width)


def video_seed(seed: int, class_name: str, index: int) -> np.random.SeedSequence:
    """Seed of one video: the same class and index give the same video in every class set."""
    return np.random.SeedSequence([seed, zlib.crc32(class_name.encode()), index])


def render_video(
    class_name: str,
    index: int = 0,
    num_frames: int = 24,
    size: Union[int, Sequence[int]] = 64,
    seed: int = 0,
) -> np.ndarray:
    """Render one synthetic video.

    Args:
        class_name: A class from :data:`CLASS_SETS` (``'move_left'``, ``'grow'``, ...).
        index: Video number within the class; picks the nuisances (shape, colours, position,
            speed, noise) together with ``seed``.
        num_frames: Number of frames.
        size: Frame size in pixels, ``(height, width)`` or one int for square frames; even.
        seed: Base seed of the dataset.

    Returns:
        ``uint8`` RGB frames, ``[num_frames, height, width, 3]``.
    """
    if class_name not in MOTIONS:
        raise KeyError(f'unknown demo class {class_name!r}; classes: {sorted(MOTIONS)}')
    if num_frames < 1:
        raise ValueError(f'num_frames must be >= 1, got {num_frames}')
    height, width = _size_hw(size)
    side = float(min(height, width))
    rng = np.random.default_rng(video_seed(seed, class_name, index))

    shape = SHAPES[list(SHAPES)[rng.integers(len(SHAPES))]]
    background, colour = _colours(rng)
    noise_std = rng.uniform(0, 8)
    # Times of every frame and, for each frame, of its trail: [num_frames, 1 + TRAIL_LENGTH].
    frame_u = np.arange(num_frames) / max(num_frames - 1, 1)
    u = frame_u[:, None] - TRAIL_STEP * np.arange(TRAIL_LENGTH + 1)[None, :]
    path = MOTIONS[class_name](rng, side, u)

    # Place the whole path (trails included) at a random position inside the frame, with a
    # small margin to the border.
    reach = path.radius
    low_x, high_x = (path.x - reach).min(), (path.x + reach).max()
    low_y, high_y = (path.y - reach).min(), (path.y + reach).max()
    margin = 0.04 * side
    x0 = _place(rng, low_x, high_x, width, margin)
    y0 = _place(rng, low_y, high_y, height, margin)

    # Trail j (0 = now, 1 = newest trail) blends from the object colour to the background.
    fade = [(TRAIL_LENGTH + 1 - j) / (TRAIL_LENGTH + 1) for j in range(TRAIL_LENGTH + 1)]
    trail_colours = [_cv_colour(background + f * (colour - background)) for f in fade]
    frames = np.empty((num_frames, height, width, 3), np.uint8)
    for t in range(num_frames):
        canvas = np.empty((height, width, 3), np.uint8)
        canvas[:] = np.round(background).astype(np.uint8)
        # Paint larger first, then older first: a smaller copy is never hidden (a growing
        # object shows its earlier sizes as darker discs inside) and a moving one gets a comet
        # tail with the newest copy on top.
        for j in sorted(range(TRAIL_LENGTH + 1), key=lambda j: (-round(path.radius[t, j], 1), -j)):
            points = _polygon(
                shape, x0 + path.x[t, j], y0 + path.y[t, j], path.radius[t, j], path.angle[t, j]
            )
            cv2.fillPoly(canvas, [points], trail_colours[j], cv2.LINE_AA, shift=4)
        frames[t] = canvas
    if noise_std > 0:
        noise = rng.standard_normal(frames.shape, dtype=np.float32) * noise_std
        frames = np.clip(frames + noise, 0, 255).round().astype(np.uint8)
    return frames


def _place(rng: np.random.Generator, low: float, high: float, extent: int, margin: float) -> float:
    """Offset that puts ``[low, high]`` at a random place inside ``[margin, extent - margin]``."""
    free = (extent - 2 * margin) - (high - low)
    if free <= 0:  # too large to fit: centre it
        return extent / 2 - (low + high) / 2
    return margin - low + rng.uniform(0, free)


def _polygon(shape: np.ndarray, x: float, y: float, radius: float, angle: float) -> np.ndarray:
    """Vertices in cv2's fixed point with 4 fractional bits (``shift=4``) for sub-pixel motion."""
    c, s = math.cos(angle), math.sin(angle)
    rotation = np.array([[c, s], [-s, c]])  # row vectors: x' = x c - y s, y' = x s + y c
    points = shape @ rotation * max(radius, 1.0) + (x, y)
    return np.round(points * 16).astype(np.int32)


def _cv_colour(rgb: np.ndarray) -> Tuple[int, int, int]:
    # Canvases are RGB; cv2 draws whatever channel order it is given.
    return tuple(int(round(v)) for v in rgb)


def _check_decord(path: str) -> None:
    """Warn when decord2 pads the rows of ``path`` (then it decodes frame by frame, slowly)."""
    try:
        with open_video(path, 'decord') as reader:
            pads_rows = reader.pads_rows
    except ImportError:  # no decord: nothing to warn about
        return
    if pads_rows:
        warnings.warn(
            f'decord cannot batch-decode {path}: decord2 pads the rows of frames this wide '
            '(seen with widths 16, 24, 32, 48, 96 and 144), so mmaction_ft decodes them one '
            'at a time; pick another --size (64, 112, 128 work) for speed, or decode with '
            'PyAV / OpenCV or use rawframes',
            stacklevel=3,
        )


def _write_rawframes(frame_dir: str, frames: np.ndarray) -> None:
    if osp.isdir(frame_dir):  # no stale frames from a longer earlier run
        shutil.rmtree(frame_dir)
    os.makedirs(frame_dir)
    for i, frame in enumerate(frames, start=1):
        mmcv.imwrite(
            cv2.cvtColor(frame, cv2.COLOR_RGB2BGR), osp.join(frame_dir, f'img_{i:05d}.jpg')
        )


def split_indices(
    class_name: str, videos_per_class: int, num_val: int, seed: int = 0
) -> Tuple[List[int], List[int]]:
    """Deterministic split of one class's video indices.

    Returns:
        ``(train_indices, val_indices)``, each sorted; ``num_val`` indices go to val.
    """
    rng = np.random.default_rng([seed, zlib.crc32(f'split:{class_name}'.encode())])
    order = rng.permutation(videos_per_class).tolist()
    return sorted(order[num_val:]), sorted(order[:num_val])


def _num_val(videos_per_class: int, val_fraction: float, val_per_class: Optional[int]) -> int:
    if val_per_class is None:
        if not 0 <= val_fraction < 1:
            raise ValueError(f'val_fraction must be in [0, 1), got {val_fraction}')
        # At least one val video per class whenever a val split is asked for.
        num_val = max(1, round(videos_per_class * val_fraction)) if val_fraction > 0 else 0
    else:
        num_val = val_per_class
    if not 0 <= num_val < videos_per_class:
        raise ValueError(
            f'{num_val} val videos per class leaves no training video out of {videos_per_class} '
            f'(val_fraction={val_fraction}, val_per_class={val_per_class})'
        )
    return num_val


def _video_name(class_name: str, index: int) -> str:
    return f'{class_name}_{index:04d}'


def _outputs(out_dir: str, name: str, formats: Iterable[str]) -> Dict[str, str]:
    paths = {
        'data_root': out_dir,
        'label_map': osp.join(out_dir, f'{name}_classes.txt'),
        'manifest': osp.join(out_dir, f'{name}_manifest.json'),
    }
    for fmt in formats:
        paths[f'{fmt}_prefix'] = osp.join(out_dir, fmt)
        for split in ('train', 'val'):
            paths[f'{split}_list_{fmt}'] = osp.join(out_dir, f'{name}_{split}_list_{fmt}.txt')
    return paths


def _complete(out_dir: str, fmt: str, names: Sequence[Tuple[str, str]], num_frames: int) -> bool:
    """Whether every file of ``fmt`` exists (rawframe folders with exactly num_frames frames)."""
    for class_name, video in names:
        if fmt == 'videos':
            path = osp.join(out_dir, 'videos', class_name, video + '.mp4')
            if not osp.isfile(path) or osp.getsize(path) == 0:
                return False
        else:
            frame_dir = osp.join(out_dir, 'rawframes', class_name, video)
            if not osp.isdir(frame_dir) or len(os.listdir(frame_dir)) != num_frames:
                return False
    return True


def _read_manifests(out_dir: str) -> Dict[str, dict]:
    manifests = {}
    if not osp.isdir(out_dir):
        return manifests
    for file in sorted(os.listdir(out_dir)):
        if file.endswith('_manifest.json'):
            path = osp.join(out_dir, file)
            try:
                with open(path, encoding='utf-8') as f:
                    manifests[path] = json.load(f)
            except (OSError, ValueError):
                manifests[path] = {}  # unreadable: treated as made with other arguments
    return manifests


def _differences(manifest: dict, args: dict, keys: Iterable[str]) -> List[str]:
    if manifest.get('version') != GENERATOR_VERSION:
        return ['generator_version']
    old = manifest.get('args', {})
    return [key for key in keys if old.get(key) != args[key]]


def _write_text(path: str, lines: Iterable[str]) -> None:
    with open(path, 'w', encoding='utf-8') as f:
        f.writelines(line + '\n' for line in lines)


def make_demo_dataset(
    out_dir: str,
    class_set: str = 'source',
    videos_per_class: int = 30,
    num_frames: int = 24,
    size: Union[int, Sequence[int]] = 64,
    val_fraction: float = 0.25,
    val_per_class: Optional[int] = None,
    seed: int = 0,
    formats: Sequence[str] = ('videos', 'rawframes'),
    fps: float = 12,
    overwrite: bool = False,
) -> Dict[str, object]:
    """Write a synthetic action-recognition dataset with MMAction2-style file lists.

    The same arguments always give byte-identical frames and list files. A complete dataset
    already written with the same arguments is reused (only missing formats are written). Class
    folders are named after the classes, so ``'source'`` and ``'target'`` can share one
    ``out_dir``; writing over classes that an existing dataset made with other arguments uses
    (same ``class_set``, or ``'all'`` over ``'source'``) raises unless ``overwrite`` is set.

    Args:
        out_dir: Root folder (created if missing).
        class_set: ``'source'``, ``'target'`` or ``'all'`` (see :data:`CLASS_SETS`).
        videos_per_class: Videos per class, train and val together.
        num_frames: Frames per video.
        size: Frame size, ``(height, width)`` or one int; even.
        val_fraction: Share of each class's videos that go to val (at least one if > 0).
        val_per_class: Number of val videos per class; overrides ``val_fraction``.
        seed: Base seed; video ``i`` of a class is the same in every class set.
        formats: Any of ``'videos'`` (mp4, MPEG-4 part 2) and ``'rawframes'`` (JPEG folders).
        fps: Frame rate stored in the mp4 files.
        overwrite: Replace datasets made with other arguments instead of raising.

    Returns:
        Paths and facts for configs: ``data_root``, ``label_map``, ``manifest``, per format
        ``<fmt>_prefix`` (the dataset's ``data_prefix``) and ``train_list_<fmt>`` /
        ``val_list_<fmt>``; ``class_set``, ``classes``, ``num_classes``, ``num_train``,
        ``num_val``, ``num_frames``, ``reused`` (no video had to be rendered), ``seconds``.
    """
    start = time.perf_counter()
    if class_set not in CLASS_SETS:
        raise KeyError(f'unknown class_set {class_set!r}; choose from {sorted(CLASS_SETS)}')
    formats = sorted(set(formats))
    if not formats or set(formats) - {'videos', 'rawframes'}:
        raise ValueError(
            f"formats must be a non-empty subset of ('videos', 'rawframes'), got {formats}"
        )
    if videos_per_class < 1 or num_frames < 1:
        raise ValueError(
            f'videos_per_class ({videos_per_class}) and num_frames ({num_frames}) must be >= 1'
        )
    height, width = _size_hw(size)
    num_val = _num_val(videos_per_class, val_fraction, val_per_class)
    classes = CLASS_SETS[class_set]
    # Everything that decides the files' content; `formats` only decides which files exist.
    content = dict(
        videos_per_class=videos_per_class,
        num_frames=num_frames,
        size=[height, width],
        num_val_per_class=num_val,
        seed=seed,
        fps=fps,
    )
    args = dict(class_set=class_set, classes=list(classes), **content)
    out_dir = osp.abspath(out_dir)
    paths = _outputs(out_dir, class_set, formats)

    # Find what exists: our own manifest, and others whose classes we would write over.
    manifests = _read_manifests(out_dir)
    own = manifests.pop(paths['manifest'], None)
    stale = {}
    if own is not None and _differences(own, args, args):
        stale[paths['manifest']] = _differences(own, args, args)
    for path, manifest in manifests.items():
        shared = set(manifest.get('args', {}).get('classes', [])) & set(classes)
        if shared and _differences(manifest, args, content):
            stale[path] = _differences(manifest, args, content)
    if stale and not overwrite:
        found = '; '.join(f'{path} (differs in: {", ".join(keys)})' for path, keys in stale.items())
        raise FileExistsError(
            f'demo data made with other arguments would be overwritten: {found}. '
            'Pass overwrite=True (--overwrite) or use another out_dir'
        )
    for path in stale:
        os.remove(path)
    if paths['manifest'] in stale:  # start clean: no stale frames, videos or lists of ours
        for fmt in ('videos', 'rawframes'):
            for class_name in classes:
                shutil.rmtree(osp.join(out_dir, fmt, class_name), ignore_errors=True)
        for old in _outputs(out_dir, class_set, ('videos', 'rawframes')).values():
            if old.endswith('.txt') and osp.isfile(old):
                os.remove(old)
        own = None

    names = [(name, _video_name(name, i)) for name in classes for i in range(videos_per_class)]
    kept = own.get('formats', []) if own is not None else []
    done = [fmt for fmt in formats if fmt in kept and _complete(out_dir, fmt, names, num_frames)]
    todo = [fmt for fmt in formats if fmt not in done]
    for n, (class_name, video) in enumerate(names if todo else ()):
        index = int(video.rsplit('_', 1)[1])
        frames = render_video(class_name, index, num_frames, (height, width), seed)
        if 'videos' in todo:
            os.makedirs(osp.join(out_dir, 'videos', class_name), exist_ok=True)
            video_path = osp.join(out_dir, 'videos', class_name, video + '.mp4')
            write_video(video_path, frames, fps)
            if n == 0:
                _check_decord(video_path)
        if 'rawframes' in todo:
            _write_rawframes(osp.join(out_dir, 'rawframes', class_name, video), frames)

    _write_text(paths['label_map'], classes)
    for split, part in (('train', 0), ('val', 1)):
        samples = [
            (name, _video_name(name, i), label)
            for label, name in enumerate(classes)
            for i in split_indices(name, videos_per_class, num_val, seed)[part]
        ]
        if 'videos' in formats:
            _write_text(
                paths[f'{split}_list_videos'], (f'{c}/{v}.mp4 {label}' for c, v, label in samples)
            )
        if 'rawframes' in formats:
            _write_text(
                paths[f'{split}_list_rawframes'],
                (f'{c}/{v} {num_frames} {label}' for c, v, label in samples),
            )

    # Written last and atomically: a manifest means the formats it lists are complete.
    tmp = paths['manifest'] + '.tmp'
    manifest = dict(version=GENERATOR_VERSION, args=args, formats=sorted(set(kept) | set(formats)))
    with open(tmp, 'w', encoding='utf-8') as f:
        json.dump(manifest, f, indent=2)
    os.replace(tmp, paths['manifest'])

    return dict(
        paths,
        class_set=class_set,
        classes=list(classes),
        num_classes=len(classes),
        num_train=len(classes) * (videos_per_class - num_val),
        num_val=len(classes) * num_val,
        num_frames=num_frames,
        reused=not todo,
        seconds=time.perf_counter() - start,
    )
