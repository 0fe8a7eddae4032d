"""What every recognizer shares: building its parts, and the three forward modes of mmengine
(``'loss'`` for training, ``'predict'`` for testing, ``'tensor'`` for raw outputs)."""

from abc import ABCMeta
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.logging import MMLogger
from mmengine.model import BaseModel

from mmaction_ft.registry import MODELS
from mmaction_ft.structures import ActionDataSample

from .speed import (
    cpu_views_per_chunk,
    drop_folded_weights,
    fold_batch_norms_in_eval,
    preferred_memory_format,
)

ModuleOrCfg = Union[Dict, nn.Module]
Features = Union[torch.Tensor, Tuple['Features', ...]]
STAGES = ('backbone', 'neck', 'head')
# How torch words a pooling / interpolation / conv whose input is too small for it.
_TOO_SMALL = ('Output size is too small', 'should be greater than 0', 'Kernel size can')
MEMORY_FORMATS = ('auto', 'channels_last', 'contiguous')


def _tracing() -> bool:
    """Whether the forward is being traced or compiled (an export): the automatic CPU chunking
    would be baked into the graph for the traced input size."""
    return torch.jit.is_tracing() or torch.compiler.is_compiling()


def _build(cfg: Optional[ModuleOrCfg]) -> Optional[nn.Module]:
    if cfg is None or isinstance(cfg, nn.Module):
        return cfg
    return MODELS.build(cfg)


def _cat_features(chunks: List[Features]) -> Features:
    """Concatenate per-chunk backbone outputs along the batch dim, recursing into tuples."""
    if isinstance(chunks[0], (tuple, list)):
        return tuple(_cat_features(list(parts)) for parts in zip(*chunks))
    return torch.cat(chunks)


class BaseRecognizer(BaseModel, metaclass=ABCMeta):
    """Backbone, optional neck and classification head, built from configs through ``MODELS``.

    The backbone sees the ``num_views`` views of the ``N`` videos as one batch
    ``[N * num_views, ...]``; the head gets ``num_segs=num_views``. The neck, if any, is called
    as ``neck(x)`` on the backbone output and may return ``(x, aux_losses)``; the auxiliary
    losses are added to the training losses. Subclasses only say what one view is
    (``input_layout``, ``format_shape``).

    Differences from MMAction2 1.2.0: ``max_testing_views`` chunks the backbone alone (the neck
    then sees all the views, once) and works for any batch size (MMAction2's 3D recognizer
    requires one video per batch and runs the neck per chunk; its 2D one runs the neck twice).

    Args:
        backbone: Backbone config or module.
        cls_head: Classification head config or module.
        neck: Neck config or module, between the backbone and the head.
        train_cfg: Training options (kept for configs; none is used by the base class).
        test_cfg: Test options: ``max_testing_views`` (run the backbone on at most that many
            views at a time; unset, a CPU runs :func:`cpu_views_per_chunk` at a time, a GPU
            all at once), and the 0.x-style ``average_clips`` which, when given, overrides
            ``cls_head.average_clips``.
        memory_format: Layout of the backbone's weights and inputs: ``'channels_last'``,
            ``'contiguous'`` (as MMAction2) or ``'auto'`` (:func:`preferred_memory_format`:
            channels-last for 2D convnets).
        fold_bn: Run each conv + BatchNorm pair (mmcv ``ConvModule``) as one conv while the
            BatchNorm is in eval mode (:func:`fold_batch_norms_in_eval`); False runs them
            apart, as MMAction2.
        data_preprocessor: Config or module of the data preprocessor; defaults to
            ``ActionDataPreprocessor()`` (no normalisation).
        init_cfg: mmengine initialisation config.

    Attributes:
        input_layout: The dims of ``inputs``, for checks and messages.
        format_shape: The ``FormatShape`` of the pipeline that produces that layout.
    """

    input_layout: Tuple[str, ...]
    format_shape: str

    def __init__(
        self,
        backbone: ModuleOrCfg,
        cls_head: Optional[ModuleOrCfg] = None,
        neck: Optional[ModuleOrCfg] = None,
        train_cfg: Optional[Dict] = None,
        test_cfg: Optional[Dict] = None,
        data_preprocessor: Optional[ModuleOrCfg] = None,
        memory_format: str = 'auto',
        fold_bn: bool = True,
        init_cfg: Optional[Union[Dict, List[Dict]]] = None,
    ):
        if not hasattr(type(self), 'input_layout'):
            raise TypeError(f'{type(self).__name__} must set input_layout and format_shape')
        if data_preprocessor is None:
            data_preprocessor = dict(type='ActionDataPreprocessor')
        super().__init__(data_preprocessor=_build(data_preprocessor), init_cfg=init_cfg)
        self.backbone = _build(backbone)
        if neck is not None:
            self.neck = _build(neck)
        if cls_head is not None:
            self.cls_head = _build(cls_head)
            self._check_blending_classes()
        self.train_cfg = dict(train_cfg) if train_cfg else {}
        self.test_cfg = dict(test_cfg) if test_cfg else {}
        if 'average_clips' in self.test_cfg:
            # MMAction2 0.x configs set it on the model's test_cfg; 1.x moved it to the head.
            if not self.with_cls_head:
                raise ValueError('test_cfg.average_clips is given but the model has no cls_head')
            self.cls_head.average_clips = self.test_cfg['average_clips']
            MMLogger.get_current_instance().info(
                f'test_cfg.average_clips={self.test_cfg["average_clips"]!r} (0.x style) sets '
                f'cls_head.average_clips'
            )
        if memory_format not in MEMORY_FORMATS:
            raise ValueError(
                f'model.memory_format must be one of {MEMORY_FORMATS}, got {memory_format!r}'
            )
        if memory_format == 'auto':
            self.memory_format = preferred_memory_format(self.backbone)
        elif memory_format == 'channels_last':
            self.memory_format = torch.channels_last
        else:
            self.memory_format = torch.contiguous_format
        if self.memory_format is torch.channels_last:
            self.backbone.to(memory_format=torch.channels_last)
        if fold_bn:
            fold_batch_norms_in_eval(self)

    def init_weights(self) -> None:
        """mmengine's initialisation in the contiguous layout, then back to
        :attr:`memory_format`: a random initialiser fills a tensor in memory order, so the same
        seed gives the same weights as MMAction2 only in its layout."""
        if self.memory_format is not torch.channels_last:
            return super().init_weights()
        self.backbone.to(memory_format=torch.contiguous_format)
        try:
            super().init_weights()
        finally:
            self.backbone.to(memory_format=torch.channels_last)

    def _check_blending_classes(self) -> None:
        """Mixup / cutmix targets must have the head's length: a finetuning config that changes
        ``cls_head.num_classes`` must change the blending's too (MMAction2's MViT configs set
        400 in both places)."""
        blending = getattr(self.data_preprocessor, 'blending', None)
        blend_classes = getattr(blending, 'num_classes', None)
        head_classes = getattr(self.cls_head, 'num_classes', None)
        if blend_classes is not None and head_classes is not None and blend_classes != head_classes:
            augments = getattr(blending, 'augments', None)
            where = 'model.data_preprocessor.blending' + ('.augments.N' if augments else '')
            raise ValueError(
                f'{where}.num_classes={blend_classes} but model.cls_head.num_classes='
                f'{head_classes}: mixup / cutmix targets must have one entry per class; set '
                f'both to {head_classes}'
            )

    @property
    def with_neck(self) -> bool:
        """Whether the recognizer has a neck."""
        return getattr(self, 'neck', None) is not None

    @property
    def with_cls_head(self) -> bool:
        """Whether the recognizer has a classification head."""
        return getattr(self, 'cls_head', None) is not None

    def extract_feat(
        self,
        inputs: torch.Tensor,
        stage: str = 'neck',
        data_samples: Optional[Sequence[ActionDataSample]] = None,
        test_mode: bool = False,
    ) -> Tuple[Union[torch.Tensor, Tuple[torch.Tensor, ...]], Dict]:
        """Features of ``inputs`` up to ``stage``.

        Args:
            inputs: ``input_layout``, e.g. ``[N, num_views, C, T, H, W]`` for 3D.
            stage: ``'backbone'``, ``'neck'`` or ``'head'`` (head scores before test-time
                averaging, ``[N * num_views', num_classes]``).
            data_samples: Unused here; part of the interface.
            test_mode: Apply ``test_cfg`` (``max_testing_views``).

        Returns:
            The features and the keyword arguments for the head (``num_segs``, and
            ``loss_aux`` when the neck returns auxiliary losses).
        """
        if stage not in STAGES:
            raise ValueError(f'stage must be one of {STAGES}, got {stage!r}')
        if inputs.ndim != len(self.input_layout):
            raise ValueError(
                f'{type(self).__name__} expects inputs [{", ".join(self.input_layout)}], got '
                f'shape {tuple(inputs.shape)} (is the pipeline FormatShape {self.format_shape}?)'
            )
        if test_mode and self.test_cfg.get('fcn_test', False):
            raise NotImplementedError(
                f'test_cfg.fcn_test is not supported by {type(self).__name__}'
            )
        head_kwargs = {'num_segs': inputs.shape[1]}
        inputs = inputs.reshape((-1,) + inputs.shape[2:])  # [N * num_views, C, (T,) H, W]
        if self.memory_format is torch.channels_last and inputs.ndim == 4:
            inputs = inputs.contiguous(memory_format=torch.channels_last)
        try:
            x = self._backbone_views(inputs, test_mode)  # [N * num_views, C', (T',) H', W']
        except RuntimeError as error:
            if not any(sign in str(error) for sign in _TOO_SMALL):
                raise
            raise ValueError(
                f'{type(self.backbone).__name__} cannot run on views of shape '
                f'{list(inputs.shape[1:])} ([C, (T,) H, W]): a pooling or stride leaves nothing '
                '(torch: ' + str(error).strip() + '). The clips are too short or too small '
                'for this backbone: raise clip_len in SampleFrames (e.g. SlowFast needs at '
                'least resample_rate frames) or the crop size of the pipeline.'
            ) from error
        if stage == 'backbone':
            return x, head_kwargs

        if self.with_neck:
            x = self.neck(x)
            if isinstance(x, tuple) and len(x) == 2 and isinstance(x[1], dict):
                x, head_kwargs['loss_aux'] = x
        if stage == 'neck' or not self.with_cls_head:
            return x, head_kwargs

        head_kwargs.pop('loss_aux', None)
        return self.cls_head(x, **head_kwargs), head_kwargs

    def _backbone_views(
        self, inputs: torch.Tensor, test_mode: bool
    ) -> Union[torch.Tensor, Tuple[torch.Tensor, ...]]:
        """The backbone on ``[N * num_views, ...]``, at most ``test_cfg.max_testing_views``
        views at a time when testing (the features are concatenated back, tuples of pathway
        features element by element, so the head sees the same batch either way). Without
        that key a CPU test runs :func:`cpu_views_per_chunk` views at a time."""
        max_views = self.test_cfg.get('max_testing_views') if test_mode else None
        if max_views is not None and (
            not isinstance(max_views, int) or isinstance(max_views, bool) or max_views <= 0
        ):
            raise ValueError(
                f'test_cfg.max_testing_views must be a positive int, got {max_views!r}'
            )
        num_segments = getattr(self.backbone, 'num_segments', None)
        if not isinstance(num_segments, int):
            num_segments = 1
        if max_views is not None and max_views % num_segments:
            # A temporal-shift backbone mixes each group of num_segments frames: a chunk
            # must not cut a clip.
            raise ValueError(
                f'test_cfg.max_testing_views={max_views} must be a multiple of '
                f'backbone.num_segments={num_segments}'
            )
        if max_views is None and test_mode and inputs.device.type == 'cpu' and not _tracing():
            max_views = cpu_views_per_chunk(inputs.shape[1:], num_segments)
        if not max_views or max_views >= len(inputs):
            return self.backbone(inputs)
        return _cat_features([self.backbone(chunk) for chunk in inputs.split(max_views)])

    def train(self, mode: bool = True) -> 'BaseRecognizer':
        """``nn.Module.train``; entering training also drops the folded eval weights."""
        if mode:
            drop_folded_weights(self)
        return super().train(mode)

    def val_step(self, data: Union[tuple, dict, list]) -> List[ActionDataSample]:
        """mmengine's ``val_step`` under ``torch.inference_mode`` (no autograd bookkeeping at
        all; the validation loop's ``no_grad`` still records versions and views)."""
        with torch.inference_mode():
            return super().val_step(data)

    def test_step(self, data: Union[tuple, dict, list]) -> List[ActionDataSample]:
        """mmengine's ``test_step`` under ``torch.inference_mode``, as :meth:`val_step`."""
        with torch.inference_mode():
            return super().test_step(data)

    def forward(
        self,
        inputs: torch.Tensor,
        data_samples: Optional[Sequence[ActionDataSample]] = None,
        mode: str = 'tensor',
        **kwargs,
    ) -> Union[Dict[str, torch.Tensor], List[ActionDataSample], torch.Tensor]:
        """Run the model in one of mmengine's modes.

        Args:
            inputs: The batch from the data preprocessor, ``[N, num_views, C, (T,) H, W]``.
            data_samples: One sample per video (needed by ``'loss'`` and ``'predict'``).
            mode: ``'loss'`` -> dict of losses; ``'predict'`` -> ``data_samples`` with
                ``pred_score`` / ``pred_label``; ``'tensor'`` -> the raw output of ``stage``
                (``'head'`` by default: the head's scores before test-time averaging,
                ``[N, num_classes]`` for TSN, ``[N * num_views, num_classes]`` for 3D heads;
                MMAction2's own default is ``stage='backbone'``).
            **kwargs: ``stage`` for ``'tensor'`` mode.

        Returns:
            Depends on ``mode``, see above.
        """
        if mode == 'loss':
            return self.loss(inputs, data_samples, **kwargs)
        if mode == 'predict':
            return self.predict(inputs, data_samples, **kwargs)
        if mode == 'tensor':
            return self._forward(inputs, **kwargs)
        raise RuntimeError(f"invalid forward mode {mode!r}: use 'loss', 'predict' or 'tensor'")

    def loss(
        self, inputs: torch.Tensor, data_samples: Sequence[ActionDataSample], **kwargs
    ) -> Dict[str, torch.Tensor]:
        """Training losses of a batch (the head's ``loss_cls``, ``top{k}_acc``, neck losses)."""
        self._require_head('loss')
        feats, head_kwargs = self.extract_feat(inputs, data_samples=data_samples)
        aux_losses = head_kwargs.pop('loss_aux', {})
        losses = self.cls_head.loss(feats, data_samples, **head_kwargs, **kwargs)
        losses.update(aux_losses)
        return losses

    def predict(
        self, inputs: torch.Tensor, data_samples: Sequence[ActionDataSample], **kwargs
    ) -> List[ActionDataSample]:
        """``data_samples`` with ``pred_score`` / ``pred_label`` of each video."""
        self._require_head('predict')
        feats, head_kwargs = self.extract_feat(inputs, test_mode=True)
        head_kwargs.pop('loss_aux', None)
        return self.cls_head.predict(feats, data_samples, **head_kwargs, **kwargs)

    def _forward(self, inputs: torch.Tensor, stage: str = 'head', **kwargs) -> torch.Tensor:
        feats, _ = self.extract_feat(inputs, stage=stage)
        return feats

    def _require_head(self, mode: str) -> None:
        if not self.with_cls_head:
            raise RuntimeError(f'mode={mode!r} needs a cls_head; this recognizer has none')
