"""Crop transforms: random, random resized, multi-scale, centre, three and ten crops.

The conventions (keys, lazy mode, random generators) are those of :mod:`.spatial`. Multi-crop
transforms multiply the views: ``imgs`` becomes crop-major (all frames of crop 0, then crop 1 ...).
"""

import random
from numbers import Number
from typing import Dict, Sequence, Tuple

import mmcv
import numpy as np
from mmcv.transforms import BaseTransform

from mmaction_ft.registry import TRANSFORMS

from .spatial import SizeLike, _img_shape, _reject_lazy, _to_pair


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
class RandomCrop(BaseTransform):
    """A square crop of ``size`` at a random position, the same for every frame of the clip
    (C3D's training crop).

    The offsets are MMAction2 1.x's: ``np.random.randint(0, free)`` along each side with free
    space, so (as there) the crop never touches the right / bottom edge unless it spans the
    frame.

    Required Keys:
        img_shape (or imgs), imgs (optional), keypoint (optional)

    Added or Modified Keys:
        imgs, img_shape, crop_bbox (``[left, top, right, bottom]``), keypoint

    Args:
        size: Side of the square crop.
        lazy: Only False is supported (MMAction2 compatibility).
    """

    def __init__(self, size: int, lazy: bool = False) -> None:
        _reject_lazy(lazy, 'RandomCrop')
        if not isinstance(size, int) or isinstance(size, bool) or size < 1:
            raise TypeError(f'RandomCrop: size must be a positive int, got {size!r}')
        self.size = size
        self.lazy = lazy

    def transform(self, results: Dict) -> Dict:
        img_h, img_w = _img_shape(results)
        _check_fits('RandomCrop', self.size, self.size, img_w, img_h)
        top = int(np.random.randint(0, img_h - self.size)) if img_h > self.size else 0
        left = int(np.random.randint(0, img_w - self.size)) if img_w > self.size else 0
        return _crop(results, left, top, left + self.size, top + self.size)

    def __repr__(self) -> str:
        return f'{self.__class__.__name__}(size={self.size})'


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

    batch_parallel = True  # no random draw, nothing kept between calls

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

    batch_parallel = True  # no random draw, nothing kept between calls

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

    batch_parallel = True  # no random draw, nothing kept between calls

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
