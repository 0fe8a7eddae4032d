"""Batch the packed samples of a data loader and normalise them on the model's device."""

from typing import Callable, Dict, Optional, Sequence, Union

import torch
from mmengine.model import BaseDataPreprocessor

from mmaction_ft.registry import MODELS

# Dimensions of one video's ``inputs`` for each layout FormatShape produces.
_SAMPLE_NDIM = {'NCHW': 4, 'NCTHW': 5}  # [num_views, C, H, W] / [num_views, C, T, H, W]


@MODELS.register_module()
class ActionDataPreprocessor(BaseDataPreprocessor):
    """Stack ``inputs`` into a batch, optionally flip BGR/RGB, and normalise.

    ``data = {'inputs': [num_views, C, (T,) H, W] tensors (one per video) or a stacked tensor,
    'data_samples': [...]}`` becomes ``{'inputs': [N, num_views, C, (T,) H, W] float tensor,
    'data_samples': [...]}`` on the model's device.

    Args:
        mean: Per-channel mean subtracted from the inputs (pixel scale, e.g. ``[123.675,
            116.28, 103.53]`` for ImageNet RGB); None skips normalisation, for pipelines that
            already normalised.
        std: Per-channel std the inputs are divided by; given together with ``mean``.
        to_rgb: Reverse the channel order (BGR <-> RGB) before normalising.
        to_float32: Cast unnormalised inputs to float32 (normalised ones always are).
        format_shape: ``'NCHW'`` (2D recognizers) or ``'NCTHW'`` (3D recognizers), as produced
            by ``FormatShape``.
        blending: Config (or built object) of a batch augmentation such as
            ``MixupBlending``, ``CutmixBlending`` or ``RandomBatchAugment`` (see
            ``blending.py``), called as ``inputs, data_samples = blending(inputs, data_samples)``
            on the normalised inputs, in training only; it replaces each ``gt_label`` by a soft
            ``[num_classes]`` target.
    """

    def __init__(
        self,
        mean: Optional[Sequence[float]] = None,
        std: Optional[Sequence[float]] = None,
        to_rgb: bool = False,
        to_float32: bool = True,
        format_shape: str = 'NCHW',
        blending: Optional[Union[Dict, Callable]] = None,
    ):
        super().__init__()
        if format_shape not in _SAMPLE_NDIM:
            raise ValueError(
                f'ActionDataPreprocessor format_shape must be one of {sorted(_SAMPLE_NDIM)}, '
                f'got {format_shape!r}'
            )
        if (mean is None) != (std is None):
            raise ValueError('ActionDataPreprocessor needs both mean and std, or neither')
        self.format_shape = format_shape
        self.to_rgb = to_rgb
        self.to_float32 = to_float32
        self._enable_normalize = mean is not None
        if self._enable_normalize:
            # Broadcast on the channel axis of [N, num_views, C, H, W] / [..., C, T, H, W].
            shape = (-1,) + (1,) * (_SAMPLE_NDIM[format_shape] - 2)
            mean_t = torch.tensor(mean, dtype=torch.float32).view(shape)
            std_t = torch.tensor(std, dtype=torch.float32).view(shape)
            if mean_t.numel() != std_t.numel():
                raise ValueError(f'mean {list(mean)} and std {list(std)} differ in length')
            # Not persistent: normalisation is a config setting, not a learned weight, and
            # MMAction2 checkpoints do not carry it.
            self.register_buffer('mean', mean_t, persistent=False)
            self.register_buffer('std', std_t, persistent=False)
        else:
            self.mean = None
            self.std = None
        if isinstance(blending, dict):
            blending = MODELS.build(blending)
        self.blending = blending

    def forward(self, data: Dict, training: bool = False) -> Dict:
        """Batch, move to the device and normalise.

        Args:
            data: ``{'inputs': ..., 'data_samples': ...}`` from the data loader.
            training: Whether this is a training step (enables ``blending``).

        Returns:
            ``{'inputs': [N, num_views, C, (T,) H, W], 'data_samples': ...}``.
        """
        data = self.cast_data(data)
        inputs = self._stack(data['inputs'])
        data_samples = data.get('data_samples')
        inputs = self.normalize(inputs)
        if training and self.blending is not None:
            inputs, data_samples = self.blending(inputs, data_samples)
        return {'inputs': inputs, 'data_samples': data_samples}

    def normalize(self, inputs: torch.Tensor) -> torch.Tensor:
        """Flip BGR/RGB and normalise a batch ``[N, num_views, C, (T,) H, W]`` (pixel values,
        any dtype); an exported model with its preprocessing runs this on raw uint8 frames."""
        if self.to_rgb:
            if inputs.shape[2] != 3:
                raise ValueError(f'to_rgb needs 3 channels, inputs have {inputs.shape[2]}')
            inputs = inputs.flip(2)  # reverse C of [N, num_views, C, ...]
        if self._enable_normalize:
            return (inputs - self.mean) / self.std
        if self.to_float32:
            return inputs.to(torch.float32)
        return inputs

    def _stack(self, inputs: Union[torch.Tensor, Sequence[torch.Tensor]]) -> torch.Tensor:
        ndim = _SAMPLE_NDIM[self.format_shape] + 1
        if isinstance(inputs, torch.Tensor):
            batch = inputs
        else:
            shapes = {tuple(x.shape) for x in inputs}
            if len(shapes) > 1:
                raise ValueError(
                    f'cannot batch inputs of different shapes {sorted(shapes)}: the test/val '
                    f'pipeline must give every video the same number of views and crop size'
                )
            batch = torch.stack(list(inputs))  # [N, num_views, C, (T,) H, W]
        if batch.ndim != ndim:
            layout = '[N, num_views, C, H, W]' if ndim == 5 else '[N, num_views, C, T, H, W]'
            raise ValueError(
                f'format_shape={self.format_shape!r} expects a batch {layout}, got shape '
                f'{tuple(batch.shape)}; does the pipeline FormatShape match?'
            )
        return batch
