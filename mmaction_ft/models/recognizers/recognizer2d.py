"""Recognizer for 2D backbones: every view of a video is an image."""

from typing import Dict, Optional, Sequence, Tuple

import torch

from mmaction_ft.registry import MODELS
from mmaction_ft.structures import ActionDataSample

from .base_recognizer import BaseRecognizer

STAGES = ('backbone', 'neck', 'head')


@MODELS.register_module()
class Recognizer2D(BaseRecognizer):
    """A 2D recognizer such as TSN: the backbone sees ``[N * num_views, C, H, W]`` images and the
    head merges the ``num_views`` views of each video (``num_segs``).

    The neck, if any, is called as ``neck(x)`` on the backbone output and may return
    ``(x, aux_losses)``; the auxiliary losses are added to the training losses.
    See :class:`BaseRecognizer` for the arguments.
    """

    def extract_feat(
        self,
        inputs: torch.Tensor,
        stage: str = 'neck',
        data_samples: Optional[Sequence[ActionDataSample]] = None,
        test_mode: bool = False,
    ) -> Tuple[torch.Tensor, Dict]:
        """Features of ``inputs`` up to ``stage``.

        Args:
            inputs: ``[N, num_views, C, H, W]``.
            stage: ``'backbone'``, ``'neck'`` or ``'head'`` (head scores ``[N, num_classes]``).
            data_samples: Unused by 2D recognizers; part of the interface.
            test_mode: Apply ``test_cfg`` (``max_testing_views``).

        Returns:
            The features and the keyword arguments for the head (``num_segs``, and
            ``loss_aux`` when the neck returns auxiliary losses).
        """
        if stage not in STAGES:
            raise ValueError(f'stage must be one of {STAGES}, got {stage!r}')
        if inputs.ndim != 5:
            raise ValueError(
                f'Recognizer2D expects inputs [N, num_views, C, H, W], got shape '
                f'{tuple(inputs.shape)} (is the pipeline FormatShape NCHW?)'
            )
        head_kwargs = {'num_segs': inputs.shape[1]}
        inputs = inputs.reshape((-1,) + inputs.shape[2:])  # [N * num_views, C, H, W]

        max_views = self.test_cfg.get('max_testing_views') if test_mode else None
        if test_mode and self.test_cfg.get('fcn_test', False):
            raise NotImplementedError('test_cfg.fcn_test is not supported by Recognizer2D')
        if max_views:
            if not isinstance(max_views, int) or max_views <= 0:
                raise ValueError(
                    f'test_cfg.max_testing_views must be a positive int, got {max_views!r}'
                )
            chunks = [self.backbone(chunk) for chunk in inputs.split(max_views)]
            if isinstance(chunks[0], tuple):
                x = tuple(torch.cat(parts) for parts in zip(*chunks))
            else:
                x = torch.cat(chunks)  # [N * num_views, C', H', W']
        else:
            x = self.backbone(inputs)  # [N * num_views, C', H', W']
        if stage == 'backbone':
            return x, head_kwargs

        if self.with_neck:
            x = self.neck(x)
            if isinstance(x, tuple) and len(x) == 2 and isinstance(x[1], dict):
                x, head_kwargs['loss_aux'] = x
        if stage == 'neck' or not self.with_cls_head:
            return x, head_kwargs

        head_kwargs.pop('loss_aux', None)
        return self.cls_head(x, **head_kwargs), head_kwargs  # [N, num_classes]
