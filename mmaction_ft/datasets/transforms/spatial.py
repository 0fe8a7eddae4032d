"""Spatial transforms that keep the whole frame: resize, flip and colour jitter.

Every spatial transform (here and in :mod:`.cropping`) works on ``results['imgs']``, a list of
``H x W x 3`` uint8 RGB frames (all frames of all clips, clip-major), keeps
``results['img_shape']`` = ``(h, w)`` up to date and records what it did (``crop_bbox``,
``flip``, ``scale_factor`` ...) under the same keys as MMAction2 1.x. Random choices draw from
numpy's and Python's global generators in the same order as MMAction2, so a seeded pipeline
produces the same arrays.

MMAction2's ``lazy`` mode (record crops and resizes, apply them once in ``Fuse``) is not
supported: ``lazy=False`` is accepted so that existing configs load, ``lazy=True`` is an error.
Bounding boxes (``gt_bboxes``, ``proposals``) are not transformed; keypoints are (``keypoint``,
``[num_persons, num_frames, num_joints, 2]`` in pixels).
"""

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

    batch_parallel = True  # no random draw, nothing kept between calls

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

    def output_shape(self, img_shape: Sequence[int]) -> Tuple[int, int]:
        """``(h, w)`` of a frame of ``img_shape`` (``(h, w)``) after this resize."""
        img_h, img_w = img_shape
        if self.keep_ratio:
            new_w, new_h = mmcv.rescale_size((img_w, img_h), self._target)
        else:
            new_w, new_h = self._target
        return new_h, new_w

    @property
    def size_is_fixed(self) -> bool:
        """Whether the output size depends on the input's aspect ratio at most (a ``(w, h)``
        or ``(long, short)`` target), not on its size (a float factor)."""
        return not isinstance(self._target, float)

    def transform(self, results: Dict) -> Dict:
        img_h, img_w = _img_shape(results)
        new_h, new_w = self.output_shape((img_h, img_w))
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


_CV2_FLIP_CODES = {'horizontal': 1, 'vertical': 0, 'diagonal': -1}


def _flip_image(img: np.ndarray, direction: str) -> np.ndarray:
    """A flipped, contiguous copy of ``img``.

    ``mmcv.imflip`` returns a negative-stride view; stacking such views later (FormatShape,
    collate) is about 50 times slower than stacking contiguous frames, which made the flip the
    most expensive step of a TSN training pipeline. ``cv2.flip`` copies once, fast.
    """
    if img.ndim == 2 or (img.ndim == 3 and img.shape[2] in (3, 4)):
        return cv2.flip(img, _CV2_FLIP_CODES[direction])
    return np.ascontiguousarray(mmcv.imflip(img, direction))


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
            imgs = [_flip_image(img, self.direction) for img in results['imgs']]
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
