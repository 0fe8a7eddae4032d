"""What every recognizer shares: building its parts, and the three forward modes of mmengine
(``'loss'`` for training, ``'predict'`` for testing, ``'tensor'`` for raw outputs)."""

from abc import ABCMeta, abstractmethod
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.logging import MMLogger
from mmengine.model import BaseModel

from mmaction_ft.registry import MODELS
from mmaction_ft.structures import ActionDataSample

ModuleOrCfg = Union[Dict, nn.Module]


def _build(cfg: Optional[ModuleOrCfg]) -> Optional[nn.Module]:
    if cfg is None or isinstance(cfg, nn.Module):
        return cfg
    return MODELS.build(cfg)


class BaseRecognizer(BaseModel, metaclass=ABCMeta):
    """Backbone, optional neck and classification head, built from configs through ``MODELS``.

    Args:
        backbone: Backbone config or module.
        cls_head: Classification head config or module.
        neck: Neck config or module, between the backbone and the head.
        train_cfg: Training options (kept for configs; none is used by the base class).
        test_cfg: Test options: ``max_testing_views`` (run the backbone on at most that many
            views at a time), and the 0.x-style ``average_clips`` which, when given, overrides
            ``cls_head.average_clips``.
        data_preprocessor: Config or module of the data preprocessor; defaults to
            ``ActionDataPreprocessor()`` (no normalisation).
        init_cfg: mmengine initialisation config.
    """

    def __init__(
        self,
        backbone: ModuleOrCfg,
        cls_head: Optional[ModuleOrCfg] = None,
        neck: Optional[ModuleOrCfg] = None,
        train_cfg: Optional[Dict] = None,
        test_cfg: Optional[Dict] = None,
        data_preprocessor: Optional[ModuleOrCfg] = None,
        init_cfg: Optional[Union[Dict, List[Dict]]] = None,
    ):
        if data_preprocessor is None:
            data_preprocessor = dict(type='ActionDataPreprocessor')
        super().__init__(data_preprocessor=_build(data_preprocessor), init_cfg=init_cfg)
        self.backbone = _build(backbone)
        if neck is not None:
            self.neck = _build(neck)
        if cls_head is not None:
            self.cls_head = _build(cls_head)
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

    @property
    def with_neck(self) -> bool:
        """Whether the recognizer has a neck."""
        return getattr(self, 'neck', None) is not None

    @property
    def with_cls_head(self) -> bool:
        """Whether the recognizer has a classification head."""
        return getattr(self, 'cls_head', None) is not None

    @abstractmethod
    def extract_feat(
        self,
        inputs: torch.Tensor,
        stage: str = 'neck',
        data_samples: Optional[Sequence[ActionDataSample]] = None,
        test_mode: bool = False,
    ) -> Tuple[torch.Tensor, Dict]:
        """Features up to ``stage`` and the keyword arguments the head needs."""

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
                (``'head'`` by default: ``[N, num_classes]`` scores before test-time
                averaging; MMAction2's own default is ``stage='backbone'``).
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
