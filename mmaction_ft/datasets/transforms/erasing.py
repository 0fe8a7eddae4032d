"""Random erasing of one box, at the same place in every frame of the clip.

Zhong et al., "Random Erasing Data Augmentation", AAAI 2020 (arXiv:1708.04896). The arguments,
the random draws (numpy's global generator, in the same order) and the fills are MMAction2
1.2.0's ``RandomErasing``, which in its video recipes (MViT) runs on the frame list after the
crops and flips, before ``FormatShape``.
"""

from numbers import Number
from typing import Dict, Optional, Sequence, Tuple, Union

import numpy as np
from mmcv.transforms import BaseTransform

from mmaction_ft.registry import TRANSFORMS


def _color(name: str, value) -> Tuple[float, float, float]:
    """A number or an (r, g, b) triple of numbers."""
    triple = [value] * 3 if isinstance(value, Number) else value
    if not (
        isinstance(triple, (tuple, list))
        and len(triple) == 3
        and all(isinstance(v, Number) for v in triple)
    ):
        raise ValueError(f'RandomErasing: {name} must be a number or 3 numbers, got {value!r}')
    return tuple(triple)


@TRANSFORMS.register_module()
class RandomErasing(BaseTransform):
    """With probability ``erase_prob``, overwrite one random box of the clip.

    The box (area a fraction of the frame drawn from ``[min_area_ratio, max_area_ratio]``,
    aspect ratio log-uniform in ``aspect_range``) is drawn once per clip, so it covers the same
    pixels in every frame. As in MMAction2 the ratio is height / width of the box, and the box
    may touch the right / bottom edge only when it spans the frame. The fill:

    - ``mode='const'``: ``fill_color`` (RE-M of the paper with ``fill_color=(123.67, 116.3,
      103.5)``, RE-0 with 0, RE-255 with 255).
    - ``mode='rand'``: noise drawn anew for every frame, uniform in [0, 255] or, with
      ``fill_std``, normal around ``fill_color`` (truncated to an int, clipped to [0, 255]).

    Frames are copied before they are written to, so frames shared with another clip or
    results dict are never modified.

    Required Keys:
        imgs (``H x W x 3`` uint8 frames)

    Added or Modified Keys:
        imgs

    Args:
        erase_prob: Probability of erasing, in [0, 1].
        min_area_ratio: Smallest box area / frame area, in [0, 1].
        max_area_ratio: Largest box area / frame area, in [min_area_ratio, 1].
        aspect_range: ``(min, max)`` of the box's h / w ratio, both > 0; a single number
            ``r`` means ``(min(r, 1/r), max(r, 1/r))``.
        mode: 'const' or 'rand'.
        fill_color: The constant fill, or the mean of the normal noise: a number or (r, g, b).
        fill_std: Standard deviation of the normal noise (a number or (r, g, b)); only used
            with ``mode='rand'``. ``None`` draws uniform noise.
    """

    MODES = ('const', 'rand')

    def __init__(
        self,
        erase_prob: float = 0.5,
        min_area_ratio: float = 0.02,
        max_area_ratio: float = 1 / 3,
        aspect_range: Union[float, Sequence[float]] = (3 / 10, 10 / 3),
        mode: str = 'const',
        fill_color: Union[Number, Sequence[Number]] = (128, 128, 128),
        fill_std: Optional[Union[Number, Sequence[Number]]] = None,
    ) -> None:
        for name, value in (
            ('erase_prob', erase_prob),
            ('min_area_ratio', min_area_ratio),
            ('max_area_ratio', max_area_ratio),
        ):
            if not (isinstance(value, Number) and 0 <= value <= 1):
                raise ValueError(f'RandomErasing: {name} must be in [0, 1], got {value!r}')
        if min_area_ratio > max_area_ratio:
            raise ValueError(
                f'RandomErasing: min_area_ratio {min_area_ratio} is larger than '
                f'max_area_ratio {max_area_ratio}'
            )
        if isinstance(aspect_range, Number) and aspect_range > 0:
            low = min(aspect_range, 1 / aspect_range)
            aspect_range = (low, 1 / low)
        if not (
            isinstance(aspect_range, (tuple, list))
            and len(aspect_range) == 2
            and all(isinstance(v, Number) and v > 0 for v in aspect_range)
            and aspect_range[0] <= aspect_range[1]
        ):
            raise ValueError(
                'RandomErasing: aspect_range must be a positive number or a (min, max) pair '
                f'with 0 < min <= max, got {aspect_range!r}'
            )
        if mode not in self.MODES:
            raise ValueError(f'RandomErasing: mode must be one of {self.MODES}, got {mode!r}')
        self.erase_prob = erase_prob
        self.min_area_ratio = min_area_ratio
        self.max_area_ratio = max_area_ratio
        self.aspect_range = tuple(aspect_range)
        self.mode = mode
        self.fill_color = _color('fill_color', fill_color)
        self.fill_std = None if fill_std is None else _color('fill_std', fill_std)

    def get_box(self, img_h: int, img_w: int) -> Tuple[int, int, int, int]:
        """Draw ``(top, left, h, w)`` for frames of ``img_h x img_w``."""
        # float32 log-range: MMAction2's, kept so seeded draws give the same box.
        log_range = np.log(np.array(self.aspect_range, dtype=np.float32))
        aspect = np.exp(np.random.uniform(*log_range))
        area = img_h * img_w * np.random.uniform(self.min_area_ratio, self.max_area_ratio)
        h = min(int(round(np.sqrt(area * aspect))), img_h)
        w = min(int(round(np.sqrt(area / aspect))), img_w)
        top = np.random.randint(0, img_h - h) if img_h > h else 0
        left = np.random.randint(0, img_w - w) if img_w > w else 0
        return int(top), int(left), h, w

    def _patch(self, h: int, w: int) -> np.ndarray:
        if self.mode == 'const':
            return np.array(self.fill_color, dtype=np.uint8)  # broadcast over the box
        if self.fill_std is None:
            return np.random.uniform(0, 256, (h, w, 3)).astype(np.uint8)
        noise = np.random.normal(self.fill_color, self.fill_std, (h, w, 3))
        return np.clip(noise.astype(np.int32), 0, 255).astype(np.uint8)

    def transform(self, results: Dict) -> Dict:
        if np.random.rand() > self.erase_prob:
            return results
        img_h, img_w = results['imgs'][0].shape[:2]
        top, left, h, w = self.get_box(img_h, img_w)
        erased = []
        for img in results['imgs']:
            img = img.copy()
            img[top : top + h, left : left + w] = self._patch(h, w)
            erased.append(img)
        results['imgs'] = erased
        return results

    def __repr__(self) -> str:
        return (
            f'{type(self).__name__}(erase_prob={self.erase_prob}, '
            f'min_area_ratio={self.min_area_ratio}, max_area_ratio={self.max_area_ratio}, '
            f'aspect_range={self.aspect_range}, mode={self.mode!r}, '
            f'fill_color={self.fill_color}, fill_std={self.fill_std})'
        )
