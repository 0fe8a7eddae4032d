"""Spatial transforms: resize, crop, flip and colour jitter of the frames of one video.

Every transform works on ``results['imgs']``, a list of ``H x W x 3`` uint8 RGB frames (all
frames of all clips, clip-major), keeps ``results['img_shape']`` = ``(h, w)`` up to date and
records what it did (``crop_bbox``, ``flip``, ``scale_factor`` ...) under the same keys as
MMAction2 1.x. Random choices draw from numpy's and Python's global generators in the same order
as MMAction2, so a seeded pipeline produces the same arrays.

MMAction2's ``lazy`` mode (record crops and resizes, apply them once in ``Fuse``) is not
supported: ``lazy=False`` is accepted so that existing configs load, ``lazy=True`` is an error.
Bounding boxes (``gt_bboxes``, ``proposals``) are not transformed; keypoints are (``keypoint``,
``[num_persons, num_frames, num_joints, 2]`` in pixels).

The whole spatial stage lives in this one module (hence its length) because the transforms
share the crop bookkeeping below and pipelines import them as one stage.
"""

import random
from numbers import Number
from typing import Dict, Optional, Sequence, Tuple, Union

import cv2
import mmcv
import numpy as np
from mmcv.transforms import BaseTransform

from mmaction_ft.registry import TRANSFORMS

SizeLike = Union[int, Sequence[int]]

_INTERPOLATIONS = ('nearest', 'bilinear', 'bicubic', 'area', 'lanczos')


def _reject_lazy(lazy: bool, name: str) -> None:
    if lazy:
        raise ValueError(
            f'{name}(lazy=True) is not supported: mmaction_ft applies every spatial transform '
            f'immediately (there is no Fuse step); remove lazy=True from the pipeline'
        )


def _to_pair(value: SizeLike, name: str, arg: str) -> Tuple[int, int]:
    """Turn ``224`` or ``(w, h)`` into a ``(w, h)`` pair of positive ints."""
    pair = (value, value) if isinstance(value, int) else value
    if (
        not isinstance(pair, (tuple, list))
        or len(pair) != 2
        or not all(isinstance(v, int) and v > 0 for v in pair)
    ):
        raise ValueError(
            f'{name}: {arg} must be a positive int or a (w, h) pair of them, got {value!r}'
        )
    return tuple(pair)


def _img_shape(results: Dict) -> Tuple[int, int]:
    if 'img_shape' not in results:
        results['img_shape'] = results['imgs'][0].shape[:2]
    return results['img_shape']


def _check_fits(name: str, crop_w: int, crop_h: int, img_w: int, img_h: int) -> None:
    if crop_w > img_w or crop_h > img_h:
        raise ValueError(
            f'{name}: crop (w={crop_w}, h={crop_h}) is larger than the frames '
            f'(w={img_w}, h={img_h}); resize first, e.g. Resize(scale=(-1, 256))'
        )


def _crop(results: Dict, left: int, top: int, right: int, bottom: int) -> Dict:
    """Cut one box out of every frame (and shift keypoints) and record it."""
    crop_bbox = np.array([left, top, right, bottom])
    if 'imgs' in results:
        results['imgs'] = [img[top:bottom, left:right] for img in results['imgs']]
    if 'keypoint' in results:
        results['keypoint'] = results['keypoint'] - crop_bbox[:2]
    results['crop_bbox'] = crop_bbox
    results['img_shape'] = (bottom - top, right - left)
    return results


def _multi_crop(results: Dict, boxes: Sequence[Tuple[int, int, int, int]]) -> Dict:
    """Stack several crops of all frames, crop-major: every frame of crop 0, then crop 1 ..."""
    imgs = results['imgs']
    results['imgs'] = [img[y1:y2, x1:x2] for x1, y1, x2, y2 in boxes for img in imgs]
    # One box per output frame, like MMAction2.
    results['crop_bbox'] = np.array([box for box in boxes for _ in imgs])
    results['img_shape'] = results['imgs'][0].shape[:2]
    return results


@TRANSFORMS.register_module()
class Resize(BaseTransform):
    """Resize every frame to a fixed size, a short side or by a factor.

    ``scale=(-1, 256)`` (or ``(256, -1)``) resizes the short side to 256 keeping the aspect
    ratio; as in MMAction2 it is treated as ``(inf, 256)``, a (long, short) bound. A tuple of two
    positive ints with ``keep_ratio=True`` is such a bound too: the largest size whose long side
    is at most ``max(scale)`` and short side at most ``min(scale)``. A float multiplies both
    sides. With ``keep_ratio=False``, ``scale`` is the output ``(w, h)``. New sizes round half
    up (``mmcv.rescale_size``).

    Required Keys:
        imgs (optional), img_shape (or imgs), keypoint (optional)

    Added or Modified Keys:
        imgs, img_shape, keep_ratio, scale_factor (``[w, h]`` float32, multiplied into the
        existing one so it tracks all resizes), keypoint

    Args:
        scale: A positive float, or ``(w, h)`` / ``(long, short)`` / ``(-1, short)``.
        keep_ratio: Keep the aspect ratio (see above).
        interpolation: One of 'nearest', 'bilinear', 'bicubic', 'area', 'lanczos'.
        lazy: Only False is supported (MMAction2 compatibility).
    """

    def __init__(
        self,
        scale: Union[float, Sequence[int]],
        keep_ratio: bool = True,
        interpolation: str = 'bilinear',
        lazy: bool = False,
    ) -> None:
        _reject_lazy(lazy, 'Resize')
        if interpolation not in _INTERPOLATIONS:
            raise ValueError(
                f'Resize: interpolation must be one of {_INTERPOLATIONS}, got {interpolation!r}'
            )
        if isinstance(scale, float):
            if scale <= 0:
                raise ValueError(f'Resize: a float scale must be positive, got {scale}')
            if not keep_ratio:
                raise ValueError(
                    'Resize: a float scale multiplies both sides and needs '
                    'keep_ratio=True; give (w, h) to resize to a fixed size'
                )
            self._target = scale
        elif isinstance(scale, (tuple, list)) and len(scale) == 2:
            scale = tuple(scale)
            valid = all(isinstance(v, int) and (v > 0 or v == -1) for v in scale)
            if not valid or scale == (-1, -1):
                raise ValueError(
                    f'Resize: scale must be two positive ints, one of which may be '
                    f'-1 (keep ratio), got {scale!r}'
                )
            if -1 in scale and not keep_ratio:
                raise ValueError(
                    f'Resize: scale={scale!r} resizes the short side and needs keep_ratio=True'
                )
            # MMAction2: (-1, short) -> (inf, short), a bound that only the short side reaches.
            self._target = (np.inf, max(scale)) if -1 in scale else scale
        else:
            raise TypeError(f'Resize: scale must be a float or a pair of ints, got {scale!r}')
        self.scale = scale
        self.keep_ratio = keep_ratio
        self.interpolation = interpolation
        self.lazy = lazy

    def transform(self, results: Dict) -> Dict:
        img_h, img_w = _img_shape(results)
        if self.keep_ratio:
            new_w, new_h = mmcv.rescale_size((img_w, img_h), self._target)
        else:
            new_w, new_h = self._target
        factor = np.array([new_w / img_w, new_h / img_h], dtype=np.float32)

        if 'imgs' in results:
            results['imgs'] = [
                mmcv.imresize(img, (new_w, new_h), interpolation=self.interpolation)
                for img in results['imgs']
            ]
        if 'keypoint' in results:
            results['keypoint'] = results['keypoint'] * factor
        results['img_shape'] = (new_h, new_w)
        results['keep_ratio'] = self.keep_ratio
        results['scale_factor'] = results.get('scale_factor', np.ones(2, np.float32)) * factor
        return results

    def __repr__(self) -> str:
        return (
            f'{self.__class__.__name__}(scale={self.scale}, keep_ratio={self.keep_ratio}, '
            f'interpolation={self.interpolation!r})'
        )


@TRANSFORMS.register_module()
class RandomResizedCrop(BaseTransform):
    """Crop a random box of random area and aspect ratio (Inception-style; no resize).

    Ten candidate boxes are drawn (area a fraction of the frame in ``area_range``, aspect ratio
    w/h log-uniform in ``aspect_ratio_range``); the first that fits is placed at a random
    position. If none fits, the centred square of the short side is taken. Follow with
    ``Resize((224, 224), keep_ratio=False)`` to get a fixed input size.

    Required Keys:
        img_shape (or imgs), imgs (optional), keypoint (optional)

    Added or Modified Keys:
        imgs, img_shape, crop_bbox (``[left, top, right, bottom]``), keypoint

    Args:
        area_range: ``(min, max)`` fraction of the frame area, ``0 < min <= max <= 1``.
        aspect_ratio_range: ``(min, max)`` of w / h, ``0 < min <= max``.
        lazy: Only False is supported (MMAction2 compatibility).
    """

    max_attempts = 10

    def __init__(
        self,
        area_range: Tuple[float, float] = (0.08, 1.0),
        aspect_ratio_range: Tuple[float, float] = (3 / 4, 4 / 3),
        lazy: bool = False,
    ) -> None:
        _reject_lazy(lazy, 'RandomResizedCrop')
        for arg, value in (('area_range', area_range), ('aspect_ratio_range', aspect_ratio_range)):
            if not (
                isinstance(value, (tuple, list))
                and len(value) == 2
                and all(isinstance(v, Number) for v in value)
            ):
                raise TypeError(
                    f'RandomResizedCrop: {arg} must be a (min, max) pair of numbers, got {value!r}'
                )
        if not 0 < area_range[0] <= area_range[1] <= 1:
            raise ValueError(
                f'RandomResizedCrop: area_range must satisfy 0 < min <= max <= 1, '
                f'got {area_range!r}'
            )
        if not 0 < aspect_ratio_range[0] <= aspect_ratio_range[1]:
            raise ValueError(
                f'RandomResizedCrop: aspect_ratio_range must satisfy '
                f'0 < min <= max, got {aspect_ratio_range!r}'
            )
        self.area_range = tuple(area_range)
        self.aspect_ratio_range = tuple(aspect_ratio_range)
        self.lazy = lazy

    def get_crop_bbox(self, img_h: int, img_w: int) -> Tuple[int, int, int, int]:
        """Draw ``(left, top, right, bottom)`` for a frame of ``img_h x img_w``."""
        n = self.max_attempts
        log_ratios = np.log(self.aspect_ratio_range)
        ratios = np.exp(np.random.uniform(log_ratios[0], log_ratios[1], size=n))
        areas = np.random.uniform(*self.area_range, size=n) * img_h * img_w
        widths = np.round(np.sqrt(areas * ratios)).astype(np.int32)
        heights = np.round(np.sqrt(areas / ratios)).astype(np.int32)
        for crop_w, crop_h in zip(widths, heights):
            if crop_w <= img_w and crop_h <= img_h:
                left = random.randint(0, img_w - crop_w)
                top = random.randint(0, img_h - crop_h)
                return left, top, left + crop_w, top + crop_h
        side = min(img_h, img_w)
        left, top = (img_w - side) // 2, (img_h - side) // 2
        return left, top, left + side, top + side

    def transform(self, results: Dict) -> Dict:
        img_h, img_w = _img_shape(results)
        return _crop(results, *self.get_crop_bbox(img_h, img_w))

    def __repr__(self) -> str:
        return (
            f'{self.__class__.__name__}(area_range={self.area_range}, '
            f'aspect_ratio_range={self.aspect_ratio_range})'
        )


@TRANSFORMS.register_module()
class MultiScaleCrop(BaseTransform):
    """Crop a box whose sides are picked from scales of the short side (TSN augmentation).

    Side lengths are ``int(short_side * s)`` for ``s`` in ``scales``; a (w, h) pair is drawn
    among pairs whose scale indices differ by at most ``max_wh_scale_gap``, and a side within
    2 px of ``input_size`` snaps to it. The box sits at a random position (``random_crop``) or at
    one of 5 fixed places (4 corners, centre) or 13 (also centre left/right, upper/lower centre
    and the 4 quarter points), on a grid of quarter steps of the free space.
    Wang et al., "Temporal Segment Networks", ECCV 2016, section 3.2.

    Required Keys:
        img_shape (or imgs), imgs (optional), keypoint (optional)

    Added or Modified Keys:
        imgs, img_shape, crop_bbox (``[left, top, right, bottom]``), scales, keypoint

    Args:
        input_size: ``(w, h)`` (or one int) the network takes; crops near it snap to it.
        scales: Fractions of the short side, each in (0, 1].
        max_wh_scale_gap: Largest difference between the w and h scale indices.
        random_crop: Place the box anywhere instead of at the fixed places.
        num_fixed_crops: 5 or 13 fixed places.
        lazy: Only False is supported (MMAction2 compatibility).
    """

    def __init__(
        self,
        input_size: SizeLike,
        scales: Sequence[float] = (1,),
        max_wh_scale_gap: int = 1,
        random_crop: bool = False,
        num_fixed_crops: int = 5,
        lazy: bool = False,
    ) -> None:
        _reject_lazy(lazy, 'MultiScaleCrop')
        self.input_size = _to_pair(input_size, 'MultiScaleCrop', 'input_size')
        if not (
            isinstance(scales, (tuple, list))
            and scales
            and all(isinstance(s, Number) and 0 < s <= 1 for s in scales)
        ):
            raise ValueError(
                f'MultiScaleCrop: scales must be a non-empty tuple of numbers in '
                f'(0, 1], e.g. (1, .875, .75, .66), got {scales!r}'
            )
        if not (isinstance(max_wh_scale_gap, int) and max_wh_scale_gap >= 0):
            raise ValueError(
                f'MultiScaleCrop: max_wh_scale_gap must be an int >= 0, got {max_wh_scale_gap!r}'
            )
        if num_fixed_crops not in (5, 13):
            raise ValueError(
                f'MultiScaleCrop: num_fixed_crops must be 5 or 13, got {num_fixed_crops!r}'
            )
        self.scales = tuple(scales)
        self.max_wh_scale_gap = max_wh_scale_gap
        self.random_crop = random_crop
        self.num_fixed_crops = num_fixed_crops
        self.lazy = lazy

    def _fixed_offsets(self, w_step: int, h_step: int) -> list:
        # (x, y) in quarter steps of the free space, in MMAction2's order (random.choice).
        grid = [(0, 0), (4, 0), (0, 4), (4, 4), (2, 2)]
        if self.num_fixed_crops == 13:
            grid += [(0, 2), (4, 2), (2, 4), (2, 0), (1, 1), (3, 1), (1, 3), (3, 3)]
        return [(x * w_step, y * h_step) for x, y in grid]

    def transform(self, results: Dict) -> Dict:
        img_h, img_w = _img_shape(results)
        sides = [int(min(img_h, img_w) * s) for s in self.scales]
        candidates = [
            [w, h]
            for i, h in enumerate(sides)
            for j, w in enumerate(sides)
            if abs(i - j) <= self.max_wh_scale_gap
        ]
        crop_size = random.choice(candidates)
        for axis in range(2):
            if abs(crop_size[axis] - self.input_size[axis]) < 3:
                crop_size[axis] = self.input_size[axis]
        crop_w, crop_h = crop_size
        _check_fits('MultiScaleCrop', crop_w, crop_h, img_w, img_h)

        if self.random_crop:
            left = random.randint(0, img_w - crop_w)
            top = random.randint(0, img_h - crop_h)
        else:
            offsets = self._fixed_offsets((img_w - crop_w) // 4, (img_h - crop_h) // 4)
            left, top = random.choice(offsets)
        results['scales'] = self.scales
        return _crop(results, left, top, left + crop_w, top + crop_h)

    def __repr__(self) -> str:
        return (
            f'{self.__class__.__name__}(input_size={self.input_size}, '
            f'scales={self.scales}, max_wh_scale_gap={self.max_wh_scale_gap}, '
            f'random_crop={self.random_crop}, num_fixed_crops={self.num_fixed_crops})'
        )


@TRANSFORMS.register_module()
class CenterCrop(BaseTransform):
    """Crop the centre of every frame; odd margins leave the extra pixel right / bottom.

    Required Keys:
        img_shape (or imgs), imgs (optional), keypoint (optional)

    Added or Modified Keys:
        imgs, img_shape, crop_bbox (``[left, top, right, bottom]``), keypoint

    Args:
        crop_size: ``(w, h)`` or one int for a square.
        lazy: Only False is supported (MMAction2 compatibility).
    """

    def __init__(self, crop_size: SizeLike, lazy: bool = False) -> None:
        _reject_lazy(lazy, 'CenterCrop')
        self.crop_size = _to_pair(crop_size, 'CenterCrop', 'crop_size')
        self.lazy = lazy

    def transform(self, results: Dict) -> Dict:
        img_h, img_w = _img_shape(results)
        crop_w, crop_h = self.crop_size
        _check_fits('CenterCrop', crop_w, crop_h, img_w, img_h)
        left, top = (img_w - crop_w) // 2, (img_h - crop_h) // 2
        return _crop(results, left, top, left + crop_w, top + crop_h)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(crop_size={self.crop_size})'


@TRANSFORMS.register_module()
class ThreeCrop(BaseTransform):
    """Three crops along the long side (test-time views): left, right, then middle.

    The crop must span the frame on one side (e.g. ``ThreeCrop(256)`` after
    ``Resize((-1, 256))``). Output frames are crop-major: every frame of the left crop, then of
    the right crop, then of the middle crop, so ``len(imgs)`` triples; ``FormatShape`` folds the
    crops into the view axis.

    Required Keys:
        imgs

    Added or Modified Keys:
        imgs, img_shape, crop_bbox (``[3 * len(imgs), 4]``, one box per output frame)

    Args:
        crop_size: ``(w, h)`` or one int for a square.
    """

    def __init__(self, crop_size: SizeLike) -> None:
        self.crop_size = _to_pair(crop_size, 'ThreeCrop', 'crop_size')

    def transform(self, results: Dict) -> Dict:
        img_h, img_w = results['imgs'][0].shape[:2]
        crop_w, crop_h = self.crop_size
        _check_fits('ThreeCrop', crop_w, crop_h, img_w, img_h)
        if crop_h == img_h:
            step = (img_w - crop_w) // 2
            offsets = [(0, 0), (2 * step, 0), (step, 0)]
        elif crop_w == img_w:
            step = (img_h - crop_h) // 2
            offsets = [(0, 0), (0, 2 * step), (0, step)]
        else:
            raise ValueError(
                f'ThreeCrop: the crop (w={crop_w}, h={crop_h}) must have the '
                f'width or the height of the frames (w={img_w}, h={img_h})'
            )
        boxes = [(x, y, x + crop_w, y + crop_h) for x, y in offsets]
        return _multi_crop(results, boxes)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(crop_size={self.crop_size})'


@TRANSFORMS.register_module()
class TenCrop(BaseTransform):
    """Ten test-time views: 4 corners and the centre, each followed by its horizontal mirror.

    Output order, crop-major: all frames of upper-left, all of them mirrored, upper-right,
    mirrored, lower-left, mirrored, lower-right, mirrored, centre, mirrored (``len(imgs)`` x 10).
    Positions use quarter steps of the free space, so the "centre" is
    ``2 * ((img - crop) // 4)``, which can sit a pixel left of / above ``CenterCrop``'s.

    Required Keys:
        imgs

    Added or Modified Keys:
        imgs, img_shape, crop_bbox (``[10 * len(imgs), 4]``, one box per output frame)

    Args:
        crop_size: ``(w, h)`` or one int for a square.
    """

    def __init__(self, crop_size: SizeLike) -> None:
        self.crop_size = _to_pair(crop_size, 'TenCrop', 'crop_size')

    def transform(self, results: Dict) -> Dict:
        img_h, img_w = results['imgs'][0].shape[:2]
        crop_w, crop_h = self.crop_size
        _check_fits('TenCrop', crop_w, crop_h, img_w, img_h)
        w_step, h_step = (img_w - crop_w) // 4, (img_h - crop_h) // 4
        imgs = results['imgs']
        out, boxes = [], []
        for x, y in [(0, 0), (4, 0), (0, 4), (4, 4), (2, 2)]:
            left, top = x * w_step, y * h_step
            crops = [img[top : top + crop_h, left : left + crop_w] for img in imgs]
            out += crops + [mmcv.imflip(c, 'horizontal') for c in crops]
            boxes += [(left, top, left + crop_w, top + crop_h)] * (2 * len(imgs))
        results['imgs'] = out
        results['crop_bbox'] = np.array(boxes)
        results['img_shape'] = out[0].shape[:2]
        return results

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(crop_size={self.crop_size})'


@TRANSFORMS.register_module()
class Flip(BaseTransform):
    """Mirror all frames of the video with probability ``flip_ratio`` (one draw per video).

    For optical flow (``modality == 'Flow'``, frames alternating x, y) a horizontal flip also
    negates the x component (``255 - x``). ``flip_label_map`` renames classes whose meaning
    flips with the image (e.g. "swiping left" <-> "swiping right"); classes not in it keep
    their label.

    Required Keys:
        img_shape (or imgs), imgs (optional), modality (optional, default 'RGB'),
        label (optional), keypoint (optional), keypoint_score (optional)

    Added or Modified Keys:
        imgs, flip, flip_direction, label, keypoint, keypoint_score

    Args:
        flip_ratio: Probability of flipping, in [0, 1].
        direction: 'horizontal' or 'vertical'.
        flip_label_map: ``{label: label_when_flipped}``; applied to an int label or to each
            entry of a list / int array of labels.
        left_kp: Joint indices on the left of the body, swapped with ``right_kp`` when
            keypoints are flipped.
        right_kp: The matching right-side joint indices.
        lazy: Only False is supported (MMAction2 compatibility).
    """

    def __init__(
        self,
        flip_ratio: float = 0.5,
        direction: str = 'horizontal',
        flip_label_map: Optional[Dict[int, int]] = None,
        left_kp: Optional[Sequence[int]] = None,
        right_kp: Optional[Sequence[int]] = None,
        lazy: bool = False,
    ) -> None:
        _reject_lazy(lazy, 'Flip')
        if not (isinstance(flip_ratio, Number) and 0 <= flip_ratio <= 1):
            raise ValueError(f'Flip: flip_ratio must be in [0, 1], got {flip_ratio!r}')
        if direction not in ('horizontal', 'vertical'):
            raise ValueError(
                f"Flip: direction must be 'horizontal' or 'vertical', got {direction!r}"
            )
        if flip_label_map is not None and not (
            isinstance(flip_label_map, dict)
            and all(isinstance(k, int) and isinstance(v, int) for k, v in flip_label_map.items())
        ):
            raise TypeError(
                f'Flip: flip_label_map must be a dict of int labels, got {flip_label_map!r}'
            )
        if (left_kp is None) != (right_kp is None) or (
            left_kp is not None and len(left_kp) != len(right_kp)
        ):
            raise ValueError(
                'Flip: left_kp and right_kp must be given together, with the same '
                f'length, got {left_kp!r} and {right_kp!r}'
            )
        self.flip_ratio = flip_ratio
        self.direction = direction
        self.flip_label_map = flip_label_map
        self.left_kp = left_kp
        self.right_kp = right_kp
        self.lazy = lazy

    def _map_label(self, label):
        if isinstance(label, (int, np.integer)):
            return self.flip_label_map.get(int(label), label)
        if isinstance(label, np.ndarray) and label.dtype.kind in 'iu':
            mapped = [self.flip_label_map.get(int(v), v) for v in label.reshape(-1)]
            return np.array(mapped, label.dtype).reshape(label.shape)
        if isinstance(label, (list, tuple)):
            return type(label)(self.flip_label_map.get(v, v) for v in label)
        raise TypeError(
            f'Flip: flip_label_map needs int labels, got {label!r}; a one-hot '
            f'(multi-label) label cannot be remapped'
        )

    def _flip_keypoints(self, results: Dict, img_w: int) -> None:
        kp = results['keypoint'].copy()  # [M, T, V, 2]
        x = kp[..., 0]
        x[x != 0] = img_w - x[x != 0]  # 0 marks a missing joint
        order = list(range(kp.shape[2]))
        for left, right in zip(self.left_kp or (), self.right_kp or ()):
            order[left], order[right] = right, left
        results['keypoint'] = kp[:, :, order]
        if 'keypoint_score' in results:
            results['keypoint_score'] = results['keypoint_score'][:, :, order]

    def transform(self, results: Dict) -> Dict:
        img_w = _img_shape(results)[1]
        modality = results.get('modality', 'RGB')
        if modality == 'Flow' and self.direction != 'horizontal':
            raise ValueError('Flip: optical flow can only be flipped horizontally')
        flip = bool(np.random.rand() < self.flip_ratio)
        results['flip'] = flip
        results['flip_direction'] = self.direction
        if not flip:
            return results

        if self.flip_label_map is not None and 'label' in results:
            results['label'] = self._map_label(results['label'])
        if 'imgs' in results:
            imgs = [mmcv.imflip(img, self.direction) for img in results['imgs']]
            if modality == 'Flow':
                # Mirroring reverses horizontal motion: flow-x frames are the even ones.
                imgs[::2] = [mmcv.iminvert(img) for img in imgs[::2]]
            results['imgs'] = imgs
        if 'keypoint' in results:
            if self.direction != 'horizontal':
                raise ValueError('Flip: keypoints can only be flipped horizontally')
            self._flip_keypoints(results, img_w)
        return results

    def __repr__(self) -> str:
        return (
            f'{self.__class__.__name__}(flip_ratio={self.flip_ratio}, '
            f'direction={self.direction!r}, flip_label_map={self.flip_label_map})'
        )


@TRANSFORMS.register_module()
class ColorJitter(BaseTransform):
    """Randomly change brightness, contrast, saturation and hue (MMAction2 1.x version).

    One set of factors is drawn per video and applied to every frame. The order of the four
    adjustments is drawn once, when the transform is built (as MMAction2 does), so it is the
    same for every video. Contrast blends with the mean grey level, saturation with the grey
    image (ITU-R BT.601 luma weights). The hue factor is applied as a shift of
    ``int(factor * 255)`` on OpenCV's 0-179 hue circle (MMAction2's arithmetic, kept for
    identical outputs).

    Required Keys:
        imgs

    Added or Modified Keys:
        imgs

    Args:
        brightness: ``x`` for factors in ``(1 - x, 1 + x)``, x in [0, 1], or a (min, max)
            range within [0, 2].
        contrast: Same form as ``brightness``.
        saturation: Same form as ``brightness``.
        hue: ``x`` for shifts in ``(-x, x)``, x in [0, 0.5], or a range within [-0.5, 0.5].
    """

    def __init__(
        self,
        brightness: Union[float, Tuple[float, float]] = 0.5,
        contrast: Union[float, Tuple[float, float]] = 0.5,
        saturation: Union[float, Tuple[float, float]] = 0.5,
        hue: Union[float, Tuple[float, float]] = 0.1,
    ) -> None:
        self.brightness = self._range('brightness', brightness, center=1, bound=1)
        self.contrast = self._range('contrast', contrast, center=1, bound=1)
        self.saturation = self._range('saturation', saturation, center=1, bound=1)
        self.hue = self._range('hue', hue, center=0, bound=0.5)
        self.order = np.random.permutation(4)

    @staticmethod
    def _range(name: str, value, center: float, bound: float) -> Tuple[float, float]:
        if isinstance(value, Number):
            if not 0 <= value <= bound:
                raise ValueError(f'ColorJitter: {name}={value!r} must be in [0, {bound}]')
            return (center - value, center + value)
        if (
            isinstance(value, (tuple, list))
            and len(value) == 2
            and center - bound <= value[0] <= value[1] <= center + bound
        ):
            return tuple(value)
        raise ValueError(
            f'ColorJitter: {name} must be a number in [0, {bound}] or a (min, max) '
            f'range within [{center - bound}, {center + bound}], got {value!r}'
        )

    @staticmethod
    def _gray(img: np.ndarray) -> np.ndarray:
        return 0.2989 * img[..., 0] + 0.587 * img[..., 1] + 0.114 * img[..., 2]

    @staticmethod
    def _shift_hue(img: np.ndarray, factor: float) -> np.ndarray:
        hsv = cv2.cvtColor(np.clip(img, 0, 255).astype(np.uint8), cv2.COLOR_RGB2HSV)
        hue = hsv[..., 0].astype(np.int16) + int(factor * 255)
        hsv[..., 0] = hue % 180
        return cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB).astype(np.float32)

    def _adjust(self, img: np.ndarray, op: int, factors: Sequence[float]) -> np.ndarray:
        b, c, s, h = factors
        if op == 0 and b != 1:
            return img * b
        if op == 1 and c != 1:
            return c * img + (1 - c) * np.mean(self._gray(img))
        if op == 2 and s != 1:
            return s * img + (1 - s) * np.stack([self._gray(img)] * 3, axis=-1)
        if op == 3 and h != 0:
            return self._shift_hue(img, h)
        return img

    def transform(self, results: Dict) -> Dict:
        factors = [
            np.random.uniform(low, high)
            for low, high in (self.brightness, self.contrast, self.saturation, self.hue)
        ]
        out = []
        for img in results['imgs']:
            img = img.astype(np.float32)
            for op in self.order:
                img = self._adjust(img, op, factors)
            out.append(np.clip(img, 0, 255).astype(np.uint8))
        results['imgs'] = out
        return results

    def __repr__(self) -> str:
        return (
            f'{self.__class__.__name__}(brightness={self.brightness}, '
            f'contrast={self.contrast}, saturation={self.saturation}, hue={self.hue})'
        )
