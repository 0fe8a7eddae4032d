"""Fused training augmentation: one warp per frame for a run of resizes, a random crop and a flip.

MMAction2's training pipelines touch every frame four times between decoding and formatting:
``Resize((-1, 256))`` interpolates the whole frame, ``MultiScaleCrop`` / ``RandomResizedCrop`` /
``RandomCrop`` cuts a box out of it, ``Resize((224, 224), keep_ratio=False)`` interpolates the
box again and ``Flip`` copies it mirrored. Each step maps output pixel coordinates to input ones
linearly (a resize scales about pixel centres as OpenCV does, a crop shifts, a flip mirrors), so
the whole run is one affine map from the network's input pixels to the decoded frame's:
:class:`FusedGeometry` samples each output pixel once, with ``cv2.warpAffine`` (bilinear, edges
replicated like ``cv2.resize``), instead of making two interpolated frames and two copies.

The transforms of the run still run, in order, on the sample without its frames: they draw the
same random numbers from the same generators and record the same keys (``crop_bbox``,
``img_shape``, ``scale_factor``, ``flip``, ``keypoint``, a flipped ``label`` ...) as unfused.
Only the pixels differ, by one bilinear interpolation less: half a grey level on average on the
benchmark's 320x240 frames, tens of levels at single pixels of sharp edges
(``tests/datasets/transforms/test_fusion.py`` bounds both ways on ramps and textures).

:func:`fuse_pipeline` picks the runs: consecutive ``Resize`` (bilinear), crop and ``Flip``
transforms that contain a random crop and a ``Resize``. Evaluation pipelines (``Resize`` then
``CenterCrop`` / ``ThreeCrop`` / ``TenCrop``) have no random crop and keep MMAction2's pixels
exactly, so test scores stay those of MMAction2. Datasets fuse their pipelines unless built with
``fuse_augmentation=False``. In a fused pipeline the warp is a transform of its own,
:class:`FusedWarp`, after the :class:`FusedGeometry` that draws: outside dataloader workers a
batch's samples may then warp side by side (:mod:`~mmaction_ft.datasets.batch_loading`).
"""

from typing import Callable, Dict, List, Sequence

import cv2
import numpy as np
from mmcv.transforms import BaseTransform

from .cropping import CenterCrop, MultiScaleCrop, RandomCrop, RandomResizedCrop
from .decoding import RawFrameDecode
from .spatial import Flip, Resize

RANDOM_CROPS = (MultiScaleCrop, RandomResizedCrop, RandomCrop)
GEOMETRIC = (Resize, CenterCrop, Flip) + RANDOM_CROPS


def _fusable(transform: Callable) -> bool:
    # Exact types: a subclass may change what the transform does to the pixels.
    if type(transform) not in GEOMETRIC:
        return False
    return type(transform) is not Resize or transform.interpolation == 'bilinear'


def _to_source(transform: Callable, results: Dict, before: Sequence[int]) -> np.ndarray:
    """The 3 x 3 map from pixel coordinates after ``transform`` to those before it."""
    step = np.eye(3)
    if type(transform) is Resize:
        (h0, w0), (h1, w1) = before, results['img_shape']
        # cv2.resize (bilinear) samples output pixel x at (x + 0.5) * w0 / w1 - 0.5.
        sx, sy = w0 / w1, h0 / h1
        step[0] = (sx, 0, 0.5 * sx - 0.5)
        step[1] = (0, sy, 0.5 * sy - 0.5)
    elif type(transform) is Flip:
        if results['flip']:
            h, w = results['img_shape']
            axis, size = (0, w) if results['flip_direction'] == 'horizontal' else (1, h)
            step[axis, axis], step[axis, 2] = -1, size - 1
    else:  # a crop: shift by the box's top-left corner
        step[0, 2], step[1, 2] = results['crop_bbox'][:2]
    return step


class FusedGeometry(BaseTransform):
    """Run resizes, crops and a flip as one bilinear warp of each frame (see the module doc).

    Built by :func:`fuse_pipeline`, not from configs. Frames of optical flow (``modality``
    ``'Flow'``, whose flip also inverts the x component) and frames of different sizes go
    through the transforms one by one, unfused.

    Required Keys:
        The union of its transforms' (``imgs``, ``img_shape`` ...)

    Added or Modified Keys:
        The union of its transforms' (``imgs``, ``img_shape``, ``crop_bbox``, ``scale_factor``,
        ``flip`` ...), with the same values as the transforms run one by one

    Args:
        transforms: The run of :class:`~.spatial.Resize` (bilinear), crop and
            :class:`~.spatial.Flip` transforms, in pipeline order.
        warp: Warp the frames here; ``False`` leaves them to the :class:`FusedWarp` that must
            follow (``fused_warp`` holds the map): the random draws stay here, the pixel work
            may then run for several samples at once (:mod:`~mmaction_ft.datasets.batch_loading`).
    """

    def __init__(self, transforms: Sequence[Callable], warp: bool = True) -> None:
        transforms = list(transforms)
        bad = [t for t in transforms if not _fusable(t)]
        if bad:
            raise TypeError(
                f'FusedGeometry: can only fuse bilinear Resize, crop and Flip transforms, got {bad}'
            )
        self.transforms = transforms
        self.warp = warp

    def _unfused(self, results: Dict) -> Dict:
        for transform in self.transforms:
            results = transform(results)
        return results

    def transform(self, results: Dict) -> Dict:
        imgs = results.get('imgs')
        if not imgs or results.get('modality', 'RGB') != 'RGB':
            return self._unfused(results)
        shape = imgs[0].shape
        if any(img.shape != shape for img in imgs):
            return self._unfused(results)
        del results['imgs']
        results.setdefault('img_shape', shape[:2])
        to_source = np.eye(3)  # output pixel -> decoded-frame pixel
        for transform in self.transforms:
            before = results['img_shape']
            results = transform(results)
            to_source = to_source @ _to_source(transform, results, before)
        results['imgs'] = imgs
        results['fused_warp'] = to_source[:2]
        return results if not self.warp else FusedWarp()(results)

    def __repr__(self) -> str:
        return f'{type(self).__name__}(transforms={self.transforms}, warp={self.warp})'


class FusedWarp(BaseTransform):
    """The pixel work of a :class:`FusedGeometry` built with ``warp=False``: each frame warped
    to ``img_shape`` by the map in ``fused_warp`` (a sample without one passes unchanged: its
    frames went through the transforms unfused).

    Required Keys:
        - imgs
        - img_shape
        - fused_warp (removed)
    """

    batch_parallel = True  # no random draw, nothing kept between calls

    def transform(self, results: Dict) -> Dict:
        to_source = results.pop('fused_warp', None)
        if to_source is None:
            return results
        out_h, out_w = results['img_shape']
        flags = cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP
        results['imgs'] = [
            cv2.warpAffine(
                img, to_source, (out_w, out_h), flags=flags, borderMode=cv2.BORDER_REPLICATE
            )
            for img in results['imgs']
        ]
        return results


def fuse_pipeline(pipeline: Sequence[Callable]) -> List[Callable]:
    """``pipeline`` with each fusable run replaced by a :class:`FusedGeometry` (the random
    draws and keys) and a :class:`FusedWarp` (the pixels).

    A run is a maximal sequence of consecutive bilinear ``Resize``, crop (``CenterCrop``,
    ``MultiScaleCrop``, ``RandomResizedCrop``, ``RandomCrop``) and ``Flip`` transforms; it is
    fused when it holds a random crop (a training augmentation, whose exact pixels are a random
    draw anyway) and a ``Resize`` (otherwise there is no interpolation to save).

    A :class:`~.decoding.RawFrameDecode` right before a fused run that starts with a ``Resize``
    is given that resize (``shrink_for``), so it may decode JPEG frames at reduced size.
    """
    fused: List[Callable] = []
    run: List[Callable] = []

    def close_run() -> None:
        has_resize = any(type(t) is Resize for t in run)
        has_random_crop = any(type(t) in RANDOM_CROPS for t in run)
        fusing = has_resize and has_random_crop
        fused.extend([FusedGeometry(run, warp=False), FusedWarp()] if fusing else run)
        run.clear()

    for transform in pipeline:
        if _fusable(transform):
            run.append(transform)
            continue
        close_run()
        fused.append(transform)
    close_run()
    for decode, after in zip(fused, fused[1:]):
        if type(decode) is RawFrameDecode and type(after) is FusedGeometry:
            first = after.transforms[0]
            decode.shrink_for = first if type(first) is Resize else None
    return fused
