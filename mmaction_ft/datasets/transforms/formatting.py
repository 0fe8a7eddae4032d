"""Formatting: arrange frames into the model's input layout and pack a sample for the model.

1.x pipelines end with ``FormatShape -> PackActionInputs`` (normalisation happens in the model's
data preprocessor). 0.x pipelines end with ``Normalize -> FormatShape -> Collect -> ToTensor``;
those transforms exist here so old configs run, and ``Collect`` already packs the 1.x
``{'inputs', 'data_samples'}`` structure so the result feeds the same models.
"""

from numbers import Number
from typing import Any, Optional, Sequence

import mmcv
import numpy as np
import torch
from mmcv.transforms import BaseTransform

from mmaction_ft.registry import TRANSFORMS
from mmaction_ft.structures import ActionDataSample

# The 0.x Collect default, kept so an old config that relies on it packs the same metadata.
LEGACY_META_KEYS = (
    'filename',
    'label',
    'original_shape',
    'img_shape',
    'pad_shape',
    'flip_direction',
    'img_norm_cfg',
)


def to_tensor(data: Any) -> torch.Tensor:
    """Convert an array, a list of arrays, a number or a sequence of numbers to a tensor."""
    if isinstance(data, torch.Tensor):
        return data
    if isinstance(data, np.ndarray):
        return torch.from_numpy(data)
    if isinstance(data, (list, tuple)) and data and isinstance(data[0], np.ndarray):
        return torch.from_numpy(np.stack(data))
    if isinstance(data, (Number, np.generic)):
        value = np.asarray(data)
        dtype = torch.long if value.dtype.kind in 'iub' else torch.float32
        return torch.tensor([value.item()], dtype=dtype)
    if isinstance(data, Sequence) and not isinstance(data, str):
        return torch.tensor(data)
    raise TypeError(f'cannot convert {type(data).__name__} to a tensor')


def _require(results: dict, key: str, owner: str) -> Any:
    if key not in results:
        raise KeyError(f'{owner}: key {key!r} is not in the results (keys: {sorted(results)})')
    return results[key]


def _data_sample(
    results: dict, sample_keys: Sequence[str], meta_keys: Sequence[str]
) -> ActionDataSample:
    """A data sample with ``label`` as ``gt_label``, the other ``sample_keys`` as data fields
    and the ``meta_keys`` present in ``results`` as metainfo."""
    data_sample = ActionDataSample()
    for key in sample_keys:
        if key == 'label':
            data_sample.set_gt_label(results[key])
        else:
            data_sample.set_field(results[key], key)
    data_sample.set_metainfo({k: results[k] for k in meta_keys if k in results})
    return data_sample


@TRANSFORMS.register_module()
class FormatShape(BaseTransform):
    """Stack the frames into the layout the backbone expects.

    ``imgs`` holds ``M = num_crops * num_clips * clip_len`` frames of ``H x W x C``, ordered crop,
    then clip, then frame (what sampling, decoding and the crop transforms produce).

    - ``'NCHW'`` (2D models): ``[M, C, H, W]``. For flow, the ``clip_len`` frames of a clip are
      stacked along channels: ``[M / clip_len, clip_len * C, H, W]``.
    - ``'NCTHW'`` (3D models): ``[num_crops * num_clips, C, clip_len, H, W]``.
    - ``'NCHW_Flow'`` (0.x name): the flow layout of ``'NCHW'`` whatever the modality.

    Required Keys:
        - imgs
        - num_clips, clip_len (``'NCTHW'``, flow)
        - modality (optional)

    Modified Keys:
        - imgs: one array in the chosen layout

    Added Keys:
        - input_shape

    Args:
        input_format: ``'NCHW'``, ``'NCTHW'`` or ``'NCHW_Flow'``.
        collapse: Drop the leading axis, which must then have size 1 (one clip, one crop).
    """

    FORMATS = ('NCHW', 'NCTHW', 'NCHW_Flow')

    def __init__(self, input_format: str, collapse: bool = False) -> None:
        if input_format not in self.FORMATS:
            raise ValueError(
                f'FormatShape: input_format must be one of {self.FORMATS}, got {input_format!r}'
            )
        self.input_format = input_format
        self.collapse = collapse

    def transform(self, results: dict) -> dict:
        """Reshape ``imgs`` and record ``input_shape``."""
        imgs = np.asarray(_require(results, 'imgs', 'FormatShape'))  # [M, H, W, C]
        if imgs.ndim == 3:  # single-channel frames
            imgs = imgs[..., None]
        is_flow = self.input_format == 'NCHW_Flow' or results.get('modality') == 'Flow'
        if self.input_format == 'NCTHW':
            # Set by SampleFrames.
            clip_len = _require(results, 'clip_len', 'FormatShape')
            num_clips = _require(results, 'num_clips', 'FormatShape')
            self._check_divisible(imgs, clip_len * num_clips, 'num_clips * clip_len')
            imgs = imgs.reshape((-1, num_clips, clip_len) + imgs.shape[1:])
            # [crops, clips, T, H, W, C]
            imgs = imgs.transpose(0, 1, 5, 2, 3, 4)  # [crops, clips, C, T, H, W]
            imgs = imgs.reshape((-1,) + imgs.shape[2:])  # [crops * clips, C, T, H, W]
        else:
            imgs = imgs.transpose(0, 3, 1, 2)  # [M, C, H, W]
            if is_flow:
                clip_len = _require(results, 'clip_len', 'FormatShape')
                self._check_divisible(imgs, clip_len, 'clip_len')
                imgs = imgs.reshape((-1, clip_len * imgs.shape[1]) + imgs.shape[2:])
                # [M / clip_len, clip_len * C, H, W]
        if self.collapse:
            if imgs.shape[0] != 1:
                raise ValueError(
                    f'FormatShape(collapse=True) needs a single clip and crop, got {imgs.shape[0]}'
                )
            imgs = imgs[0]
        results['imgs'] = imgs
        results['input_shape'] = imgs.shape
        return results

    @staticmethod
    def _check_divisible(imgs: np.ndarray, size: int, what: str) -> None:
        if imgs.shape[0] % size:
            raise ValueError(
                f'FormatShape: {imgs.shape[0]} frames cannot be split into groups of {what}={size}'
            )

    def __repr__(self) -> str:
        return (
            f'{type(self).__name__}(input_format={self.input_format!r}, collapse={self.collapse})'
        )


@TRANSFORMS.register_module()
class PackActionInputs(BaseTransform):
    """Pack a sample as ``{'inputs': tensor, 'data_samples': ActionDataSample}``.

    Required Keys:
        - imgs (or every key of ``collect_keys``)
        - label (optional): becomes ``gt_label`` (an int, or a float one-hot for multi-label)

    Added Keys:
        - inputs
        - data_samples: with ``gt_label``, the ``algorithm_keys`` present as data fields and the
          ``meta_keys`` present as metainfo

    Args:
        collect_keys: Pack these keys as a dict of tensors under ``inputs`` instead of ``imgs``.
        meta_keys: Keys copied to the data sample's metainfo when present.
        algorithm_keys: Keys copied to the data sample as data fields when present.
    """

    def __init__(
        self,
        collect_keys: Optional[Sequence[str]] = None,
        meta_keys: Sequence[str] = ('img_shape', 'img_key', 'video_id', 'timestamp'),
        algorithm_keys: Sequence[str] = (),
    ) -> None:
        if isinstance(collect_keys, str) or isinstance(meta_keys, str):
            raise TypeError('PackActionInputs: collect_keys and meta_keys are sequences of keys')
        self.collect_keys = None if collect_keys is None else tuple(collect_keys)
        self.meta_keys = tuple(meta_keys)
        self.algorithm_keys = tuple(algorithm_keys)

    def transform(self, results: dict) -> dict:
        """Return the packed sample."""
        if self.collect_keys is None:
            inputs = to_tensor(_require(results, 'imgs', 'PackActionInputs'))
        else:
            inputs = {
                k: to_tensor(_require(results, k, 'PackActionInputs')) for k in self.collect_keys
            }
        sample_keys = [k for k in ('label',) + self.algorithm_keys if k in results]
        return {
            'inputs': inputs,
            'data_samples': _data_sample(results, sample_keys, self.meta_keys),
        }

    def __repr__(self) -> str:
        return (
            f'{type(self).__name__}(collect_keys={self.collect_keys}, '
            f'meta_keys={self.meta_keys}, algorithm_keys={self.algorithm_keys})'
        )


# ----------------------------------------------------------------------------- 0.x pipelines
@TRANSFORMS.register_module()
class Normalize(BaseTransform):
    """Normalise the frames in the pipeline (MMAction2 0.x); 1.x normalises in the model.

    Do not combine it with a data preprocessor that normalises again.

    RGB: ``(img - mean) / std`` per channel, after swapping R and B when ``to_bgr`` (so ``mean``
    and ``std`` are then in BGR order), exactly as 0.x did. Flow (``H x W x 2`` frames): the x and
    y channels use ``mean[0] / std[0]`` and ``mean[1] / std[1]``; ``adjust_magnitude`` multiplies
    them by the ``scale_factor`` a Resize recorded.

    Required Keys:
        - imgs
        - modality (optional, default ``'RGB'``)
        - scale_factor (flow with ``adjust_magnitude``)

    Modified Keys:
        - imgs: one ``[M, H, W, C]`` float32 array

    Added Keys:
        - img_norm_cfg

    Args:
        mean: Per-channel means (3 for RGB, 2 for flow).
        std: Per-channel standard deviations.
        to_bgr: Swap the R and B channels first.
        adjust_magnitude: Scale flow by the resize factor.
    """

    batch_parallel = True  # no random draw, nothing kept between calls

    def __init__(
        self,
        mean: Sequence[float],
        std: Sequence[float],
        to_bgr: bool = False,
        adjust_magnitude: bool = False,
    ) -> None:
        self.mean = np.array(mean, dtype=np.float32)
        self.std = np.array(std, dtype=np.float32)
        if self.mean.ndim != 1 or self.mean.shape != self.std.shape or len(self.mean) not in (2, 3):
            raise ValueError(
                f'Normalize: mean and std need 3 (RGB) or 2 (flow) values each, got {mean}, {std}'
            )
        if np.any(self.std == 0):
            raise ValueError(f'Normalize: std must be non-zero, got {std}')
        self.to_bgr = to_bgr
        self.adjust_magnitude = adjust_magnitude

    def transform(self, results: dict) -> dict:
        """Normalise ``imgs`` into a float32 array."""
        imgs = np.array(_require(results, 'imgs', 'Normalize'), dtype=np.float32)
        modality = results.get('modality', 'RGB')
        if imgs.shape[-1] != len(self.mean):
            raise ValueError(
                f'Normalize: {len(self.mean)} mean values for {modality} frames with '
                f'{imgs.shape[-1]} channels'
            )
        if modality == 'Flow':
            imgs = (imgs - self.mean) / self.std
            if self.adjust_magnitude:
                imgs = imgs * np.asarray(results['scale_factor'], dtype=np.float32)[:2]
        else:
            for img in imgs:  # in place, with mmcv's arithmetic (0.x results bit for bit)
                mmcv.imnormalize_(img, self.mean, self.std, self.to_bgr)
        results['imgs'] = imgs
        results['img_norm_cfg'] = dict(mean=self.mean, std=self.std, to_bgr=self.to_bgr)
        return results

    def __repr__(self) -> str:
        return (
            f'{type(self).__name__}(mean={self.mean.tolist()}, std={self.std.tolist()}, '
            f'to_bgr={self.to_bgr}, adjust_magnitude={self.adjust_magnitude})'
        )


@TRANSFORMS.register_module()
class Collect(BaseTransform):
    """Keep the listed keys (MMAction2 0.x), packed for the 1.x models when ``imgs`` is listed.

    With ``'imgs'`` among ``keys`` the result is what :class:`PackActionInputs` returns:
    ``imgs`` -> ``inputs`` (a tensor), ``label`` -> ``data_samples.gt_label``, other keys -> data
    fields of the data sample, ``meta_keys`` present -> its metainfo. Without ``'imgs'`` the
    result is 0.x's ``{key: value, ..., meta_name: {meta_key: value}}``.

    Required Keys:
        - every key of ``keys``

    Added Keys:
        - inputs, data_samples (``'imgs'`` listed) or ``keys`` and ``meta_name``

    Args:
        keys: Keys to keep.
        meta_keys: Keys to keep as metadata when present.
        meta_name: Where the metadata goes when ``imgs`` is not listed.
        nested: 0.x option for test-time augmentation lists; only ``False`` is supported.
    """

    def __init__(
        self,
        keys: Sequence[str],
        meta_keys: Sequence[str] = LEGACY_META_KEYS,
        meta_name: str = 'img_metas',
        nested: bool = False,
    ) -> None:
        if isinstance(keys, str) or not keys:
            raise ValueError(
                f"Collect: keys must be a non-empty list such as ['imgs', 'label'], got {keys!r}"
            )
        if nested:
            raise ValueError('Collect: nested=True (0.x test-time augmentation) is not supported')
        self.keys = tuple(keys)
        self.meta_keys = tuple(meta_keys)
        self.meta_name = meta_name
        self.nested = nested

    def transform(self, results: dict) -> dict:
        """Return the collected (and, with ``imgs``, packed) sample."""
        for key in self.keys:
            _require(results, key, 'Collect')
        if 'imgs' in self.keys:
            sample_keys = [k for k in self.keys if k != 'imgs']
            return {
                'inputs': to_tensor(results['imgs']),
                'data_samples': _data_sample(results, sample_keys, self.meta_keys),
            }
        collected = {k: results[k] for k in self.keys}
        collected[self.meta_name] = {k: results[k] for k in self.meta_keys if k in results}
        return collected

    def __repr__(self) -> str:
        return (
            f'{type(self).__name__}(keys={self.keys}, meta_keys={self.meta_keys}, '
            f'meta_name={self.meta_name!r})'
        )


@TRANSFORMS.register_module()
class ToTensor(BaseTransform):
    """Convert the listed keys to tensors (MMAction2 0.x), before or after :class:`Collect`.

    After a packing ``Collect``, ``'imgs'`` means ``inputs`` and ``'label'`` (or any other key)
    means the data sample's field of that name.

    Required Keys:
        - every key of ``keys``

    Modified Keys:
        - every key of ``keys``

    Args:
        keys: Keys to convert.
    """

    def __init__(self, keys: Sequence[str]) -> None:
        if isinstance(keys, str) or not keys:
            raise ValueError(
                f"ToTensor: keys must be a non-empty list such as ['imgs', 'label'], got {keys!r}"
            )
        self.keys = tuple(keys)

    def transform(self, results: dict) -> dict:
        """Convert the listed keys in place."""
        data_sample = results.get('data_samples')
        packed = 'inputs' in results and isinstance(data_sample, ActionDataSample)
        for key in self.keys:
            if key in results:
                results[key] = to_tensor(results[key])
            elif packed and key == 'imgs':
                results['inputs'] = to_tensor(results['inputs'])
            elif packed and key == 'label' and 'gt_label' in data_sample:
                pass  # set_gt_label already stored a tensor
            elif packed and key in data_sample:
                data_sample.set_field(to_tensor(data_sample.get(key)), key)
            else:
                _require(results, key, 'ToTensor')
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(keys={self.keys})'
