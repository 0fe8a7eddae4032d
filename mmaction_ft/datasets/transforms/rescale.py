"""Scale jittering: resize the short side to a random length (MMAction2's ``RandomRescale``)."""

from typing import Dict, Sequence

import numpy as np
from mmcv.transforms import BaseTransform

from mmaction_ft.registry import TRANSFORMS

from .spatial import _INTERPOLATIONS, Resize


@TRANSFORMS.register_module()
class RandomRescale(BaseTransform):
    """Resize every frame so the short side is a length drawn from ``scale_range``.

    The length is ``np.random.randint(low, high + 1)`` (both ends included, one draw per
    clip, MMAction2's draw), then the frames go through ``Resize((-1, length))`` keeping the
    aspect ratio.

    Required Keys:
        imgs (optional), img_shape (or imgs), keypoint (optional)

    Added or Modified Keys:
        imgs, img_shape, keep_ratio, scale_factor, keypoint, short_edge (the drawn length)

    Args:
        scale_range: ``(low, high)`` short-side lengths, positive ints with ``low < high``.
        interpolation: One of 'nearest', 'bilinear', 'bicubic', 'area', 'lanczos'.
    """

    def __init__(self, scale_range: Sequence[int], interpolation: str = 'bilinear') -> None:
        if not (
            isinstance(scale_range, (tuple, list))
            and len(scale_range) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) and v > 0 for v in scale_range)
            and scale_range[0] < scale_range[1]
        ):
            raise ValueError(
                'RandomRescale: scale_range must be (low, high), positive ints with low < high, '
                f'got {scale_range!r}'
            )
        if interpolation not in _INTERPOLATIONS:
            raise ValueError(
                f'RandomRescale: interpolation must be one of {_INTERPOLATIONS}, '
                f'got {interpolation!r}'
            )
        self.scale_range = tuple(scale_range)
        self.keep_ratio = True
        self.interpolation = interpolation

    def transform(self, results: Dict) -> Dict:
        short_edge = int(np.random.randint(self.scale_range[0], self.scale_range[1] + 1))
        resize = Resize((-1, short_edge), keep_ratio=True, interpolation=self.interpolation)
        results = resize(results)
        results['short_edge'] = short_edge
        return results

    def __repr__(self) -> str:
        return (
            f'{type(self).__name__}(scale_range={self.scale_range}, '
            f'interpolation={self.interpolation!r})'
        )
