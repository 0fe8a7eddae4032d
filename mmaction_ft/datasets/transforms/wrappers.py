"""``PytorchVideoWrapper``: MMAction2's pytorchvideo transforms, without pytorchvideo.

MMAction2 1.2.0 wraps five pytorchvideo transforms by name. Each is rebuilt here on torch /
torchvision with pytorchvideo 0.1.5's arguments and arithmetic: RandAugment and AugMix in
:mod:`.rand_augment`; RandomResizedCrop, ShortSideScale and RandomShortSideScale below (these
three run ``torch.nn.functional.interpolate`` on ``[0, 1]`` floats and truncate back to uint8,
as MMAction2's wrapper does). Random numbers come from torch's global generator in
pytorchvideo's order; see :mod:`.rand_augment` for how far the draws are comparable.
"""

import math
from typing import Dict, Tuple

import numpy as np
import torch
import torch.nn.functional as nnf
from mmcv.transforms import BaseTransform

from mmaction_ft.registry import TRANSFORMS

from .rand_augment import VideoAugMix, VideoRandAugment

_INTERPOLATIONS = ('nearest', 'bilinear', 'bicubic', 'area')


def _check_interpolation(owner: str, interpolation: str, backend: str = 'pytorch') -> None:
    if interpolation not in _INTERPOLATIONS:
        raise ValueError(
            f'{owner}: interpolation must be one of {_INTERPOLATIONS}, got {interpolation!r}'
        )
    if backend != 'pytorch':
        raise ValueError(f"{owner}: only backend='pytorch' is supported, got {backend!r}")


def _check_size(owner: str, **sizes: int) -> None:
    for name, value in sizes.items():
        if not (isinstance(value, int) and not isinstance(value, bool) and value > 0):
            raise ValueError(f'{owner}: {name} must be a positive int, got {value!r}')


def _interpolate(video: torch.Tensor, size: Tuple[int, int], mode: str) -> torch.Tensor:
    align = False if mode in ('bilinear', 'bicubic') else None
    return nnf.interpolate(video, size=size, mode=mode, align_corners=align)


class ShortSideScale:
    """Scale a ``[T, C, H, W]`` float clip so its short side is ``size`` (the long side is
    floored, as in pytorchvideo's ``short_side_scale``)."""

    def __init__(self, size: int, interpolation: str = 'bilinear', backend: str = 'pytorch'):
        _check_size('PytorchVideoWrapper(op=ShortSideScale)', size=size)
        _check_interpolation('PytorchVideoWrapper(op=ShortSideScale)', interpolation, backend)
        self.size = size
        self.interpolation = interpolation

    @staticmethod
    def new_size(h: int, w: int, size: int) -> Tuple[int, int]:
        if w < h:
            return int(math.floor(h / w * size)), size
        return size, int(math.floor(w / h * size))

    def __call__(self, video: torch.Tensor) -> torch.Tensor:
        h, w = video.shape[-2:]
        return _interpolate(video, self.new_size(h, w, self.size), self.interpolation)

    def __repr__(self) -> str:
        return f'ShortSideScale(size={self.size}, interpolation={self.interpolation!r})'


class RandomShortSideScale(ShortSideScale):
    """:class:`ShortSideScale` to a size drawn uniformly from ``[min_size, max_size]``."""

    def __init__(
        self,
        min_size: int,
        max_size: int,
        interpolation: str = 'bilinear',
        backend: str = 'pytorch',
    ) -> None:
        owner = 'PytorchVideoWrapper(op=RandomShortSideScale)'
        _check_size(owner, min_size=min_size, max_size=max_size)
        if min_size > max_size:
            raise ValueError(f'{owner}: min_size {min_size} is larger than max_size {max_size}')
        _check_interpolation(owner, interpolation, backend)
        self.min_size, self.max_size = min_size, max_size
        self.interpolation = interpolation

    def __call__(self, video: torch.Tensor) -> torch.Tensor:
        size = torch.randint(self.min_size, self.max_size + 1, (1,)).item()
        h, w = video.shape[-2:]
        return _interpolate(video, self.new_size(h, w, size), self.interpolation)

    def __repr__(self) -> str:
        return (
            f'RandomShortSideScale(min_size={self.min_size}, max_size={self.max_size}, '
            f'interpolation={self.interpolation!r})'
        )


class VideoRandomResizedCrop:
    """pytorchvideo's ``RandomResizedCrop`` on a ``[T, C, H, W]`` float clip: an
    Inception-style box (area fraction in ``scale``, w / h in ``aspect_ratio``, ``num_tries``
    draws, then a centre fallback), resized to ``(target_height, target_width)``. With
    ``shift=True`` a second box is drawn for the last frame and the boxes of the frames in
    between are interpolated linearly."""

    def __init__(
        self,
        target_height: int,
        target_width: int,
        scale: Tuple[float, float],
        aspect_ratio: Tuple[float, float],
        shift: bool = False,
        log_uniform_ratio: bool = True,
        interpolation: str = 'bilinear',
        num_tries: int = 10,
    ) -> None:
        owner = 'PytorchVideoWrapper(op=RandomResizedCrop)'
        _check_size(owner, target_height=target_height, target_width=target_width)
        _check_size(owner, num_tries=num_tries)
        _check_interpolation(owner, interpolation)
        for name, pair in (('scale', scale), ('aspect_ratio', aspect_ratio)):
            if not (len(pair) == 2 and all(isinstance(v, (int, float)) and v > 0 for v in pair)):
                raise ValueError(f'{owner}: {name} must be two positive numbers, got {pair!r}')
        self.target_size = (target_height, target_width)
        self.scale = tuple(sorted(scale))
        self.aspect_ratio = tuple(sorted(aspect_ratio))
        self.shift = shift
        self.log_uniform_ratio = log_uniform_ratio
        self.interpolation = interpolation
        self.num_tries = num_tries

    def box(self, height: int, width: int) -> Tuple[int, int, int, int]:
        """Draw ``(top, left, h, w)``."""
        (s0, s1), (r0, r1) = self.scale, self.aspect_ratio
        for _ in range(self.num_tries):
            target_area = height * width * (s0 + torch.rand(1).item() * (s1 - s0))
            if self.log_uniform_ratio:
                lo, hi = math.log(r0), math.log(r1)
                ratio = math.exp(lo + torch.rand(1).item() * (hi - lo))
            else:
                ratio = r0 + torch.rand(1).item() * (r1 - r0)
            w = int(round(math.sqrt(target_area * ratio)))
            h = int(round(math.sqrt(target_area / ratio)))
            if 0 < w <= width and 0 < h <= height:
                top = torch.randint(0, height - h + 1, (1,)).item()
                left = torch.randint(0, width - w + 1, (1,)).item()
                return top, left, h, w
        in_ratio = width / height
        if in_ratio < r0:
            w, h = width, int(round(width / r0))
        elif in_ratio > r1:
            h, w = height, int(round(height * r1))
        else:
            h, w = height, width
        return (height - h) // 2, (width - w) // 2, h, w

    def __call__(self, video: torch.Tensor) -> torch.Tensor:
        num_frames, height, width = video.shape[0], video.shape[-2], video.shape[-1]
        top, left, h, w = self.box(height, width)
        if not self.shift:
            crop = video[..., top : top + h, left : left + w]
            return _interpolate(crop, self.target_size, self.interpolation)
        last = self.box(height, width)
        boxes = [
            [int(v) for v in torch.linspace(a, b, steps=num_frames).tolist()]
            for a, b in zip((top, left, h, w), last)
        ]
        frames = [
            _interpolate(
                video[t : t + 1, :, y : y + bh, x : x + bw], self.target_size, self.interpolation
            )
            for t, (y, x, bh, bw) in enumerate(zip(*boxes))
        ]
        return torch.cat(frames)  # [T, C, target_height, target_width]

    def __repr__(self) -> str:
        return (
            f'RandomResizedCrop(target_size={self.target_size}, scale={self.scale}, '
            f'aspect_ratio={self.aspect_ratio}, shift={self.shift})'
        )


# op -> (implementation, works on uint8 (True) or on [0, 1] floats (False))
PYTORCHVIDEO_OPS: Dict[str, Tuple[type, bool]] = {
    'AugMix': (VideoAugMix, True),
    'RandAugment': (VideoRandAugment, True),
    'RandomResizedCrop': (VideoRandomResizedCrop, False),
    'ShortSideScale': (ShortSideScale, False),
    'RandomShortSideScale': (RandomShortSideScale, False),
}


@TRANSFORMS.register_module()
class PytorchVideoWrapper(BaseTransform):
    """One of MMAction2's pytorchvideo transforms, applied to the whole clip at once.

    The frames are stacked into one ``[T, C, H, W]`` tensor so every frame gets the same
    random parameters (the same ops, magnitudes and boxes). RandAugment and AugMix work on
    uint8; the resizing ops on ``frames / 255`` as float32, truncated back to uint8 after
    ``* 255`` (MMAction2's arithmetic). The random draws are torch's, in pytorchvideo's order
    (identical to MMAction2 + pytorchvideo 0.1.5 under the same torch seed when checked), but
    pytorchvideo is not a dependency: count on the same distribution, not on the same draws.

    Required Keys:
        imgs (``H x W x 3`` uint8 frames)

    Added or Modified Keys:
        imgs, img_shape (after the resizing ops)

    Args:
        op: One of 'AugMix', 'RandAugment', 'RandomResizedCrop', 'ShortSideScale',
            'RandomShortSideScale'.
        **kwargs: The pytorchvideo 0.1.5 arguments of that op, e.g. ``magnitude``,
            ``num_layers``, ``prob`` for RandAugment; ``magnitude``, ``alpha``, ``width``,
            ``depth`` for AugMix; ``target_height``, ``target_width``, ``scale``,
            ``aspect_ratio`` for RandomResizedCrop; ``size`` / ``min_size``, ``max_size``
            for the short-side scales.
    """

    def __init__(self, op: str, **kwargs) -> None:
        if op not in PYTORCHVIDEO_OPS:
            raise ValueError(
                f'PytorchVideoWrapper: op must be one of {tuple(PYTORCHVIDEO_OPS)} (the '
                f'pytorchvideo transforms MMAction2 supports), got {op!r}'
            )
        cls, self._on_uint8 = PYTORCHVIDEO_OPS[op]
        try:
            self.trans = cls(**kwargs)
        except TypeError as err:
            raise TypeError(f'PytorchVideoWrapper(op={op!r}): {err}') from None
        self.op = op

    def transform(self, results: Dict) -> Dict:
        for key in ('gt_bboxes', 'proposals'):
            if key in results:
                raise ValueError(f'PytorchVideoWrapper(op={self.op!r}) does not transform {key}')
        frames = np.stack(results['imgs'])  # [T, H, W, C]
        if self._on_uint8:
            video = torch.from_numpy(frames).permute(0, 3, 1, 2)  # [T, C, H, W]
            out = self.trans(video).permute(0, 2, 3, 1).contiguous().numpy()  # [T, H, W, C]
        else:
            video = torch.from_numpy((frames / 255.0).astype(np.float32)).permute(0, 3, 1, 2)
            out = self.trans(video).permute(0, 2, 3, 1).numpy() * 255
            out = np.clip(out, 0, 255).astype(np.uint8)  # truncates, like MMAction2
        results['imgs'] = list(out)
        results['img_shape'] = out.shape[1:3]
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(op={self.op!r}, trans={self.trans!r})'
