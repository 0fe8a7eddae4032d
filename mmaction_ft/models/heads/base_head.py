"""The interface every classification head implements: ``loss`` for training, ``predict`` for
testing, both on top of ``forward(feats, num_segs) -> cls_scores``."""

from abc import ABCMeta, abstractmethod
from typing import Dict, List, Optional, Sequence, Tuple, Union

import torch
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmaction_ft.registry import MODELS
from mmaction_ft.structures import ActionDataSample
from mmaction_ft.utils.accuracy import top_k_accuracy

AVERAGE_CLIPS = ('score', 'prob', None)


def _check_average_clips(value: Optional[str]) -> Optional[str]:
    if value not in AVERAGE_CLIPS:
        raise ValueError(f"average_clips must be one of 'score', 'prob' or None, got {value!r}")
    return value


class BaseHead(BaseModule, metaclass=ABCMeta):
    """Loss, top-k accuracy and test-time view averaging shared by classification heads.

    Subclasses implement ``forward(x, **kwargs) -> [N * num_segs', num_classes]`` where
    ``num_segs'`` is how many score rows each video still has (1 for TSN, which merges the views
    before ``fc_cls``), and name their classifier in ``classifier_names``.

    Attributes:
        classifier_names: The submodules that map features to class scores, the part that is
            re-initialised when a checkpoint is finetuned to another class count
            (``ActionRunner`` reads them as ``cls_head.<name>``). ``('fc_cls',)`` unless a
            head says otherwise.

    Args:
        num_classes: Number of classes.
        in_channels: Channels of the input feature.
        loss_cls: Config of the classification loss.
        multi_class: Whether a video can have several labels (one-hot float targets; pair with a
            sigmoid loss such as ``BCELossWithLogits``).
        label_smooth_eps: Label smoothing: targets become ``onehot * (1 - eps) + eps /
            num_classes``. 0 disables it.
        topk: The k of the top-k training accuracies logged with the loss.
        average_clips: How ``predict`` merges the score rows of one video: ``'score'`` averages
            the raw scores, ``'prob'`` averages the softmax probabilities, None keeps the raw
            scores (``[num_segs', num_classes]`` per video, or ``[num_classes]`` when there is a
            single row). MMAction2 defaults it to None; published configs set ``'prob'``.
        init_cfg: mmengine initialisation config.
    """

    classifier_names: Tuple[str, ...] = ('fc_cls',)

    def __init__(
        self,
        num_classes: int,
        in_channels: int,
        loss_cls: Dict = dict(type='CrossEntropyLoss'),  # noqa: B006 (never mutated)
        multi_class: bool = False,
        label_smooth_eps: float = 0.0,
        topk: Union[int, Tuple[int, ...]] = (1, 5),
        average_clips: Optional[str] = None,
        init_cfg: Optional[Dict] = None,
    ):
        super().__init__(init_cfg=init_cfg)
        if num_classes <= 0:
            raise ValueError(f'num_classes must be positive, got {num_classes}')
        self.num_classes = num_classes
        self.in_channels = in_channels
        self.loss_cls = MODELS.build(loss_cls) if isinstance(loss_cls, dict) else loss_cls
        self.multi_class = multi_class
        if not 0 <= label_smooth_eps < 1:
            raise ValueError(f'label_smooth_eps must be in [0, 1), got {label_smooth_eps}')
        self.label_smooth_eps = label_smooth_eps
        topk = (topk,) if isinstance(topk, int) else tuple(topk)
        if not topk or any(k <= 0 for k in topk):
            raise ValueError(f'topk must be positive integers, got {topk}')
        self.topk = topk
        self.average_clips = average_clips

    @property
    def average_clips(self) -> Optional[str]:
        return self._average_clips

    @average_clips.setter
    def average_clips(self, value: Optional[str]) -> None:
        self._average_clips = _check_average_clips(value)

    @abstractmethod
    def forward(self, x: torch.Tensor, **kwargs) -> torch.Tensor:
        """Turn features into class scores."""

    def _check_in_channels(self, x: torch.Tensor, detail: str = '') -> None:
        """Fail with the config key to change when flat features ``[M, C]`` do not have
        ``in_channels`` channels (a head copied from a config of another backbone)."""
        if x.shape[-1] != self.in_channels:
            raise ValueError(
                f'cls_head.in_channels={self.in_channels} does not fit the features it gets: '
                f'expected {self.in_channels} channels, got {x.shape[-1]}{detail} (the output '
                f'of the backbone or neck); set cls_head.in_channels={x.shape[-1]}'
            )

    def loss(
        self, feats: torch.Tensor, data_samples: Sequence[ActionDataSample], **kwargs
    ) -> Dict[str, torch.Tensor]:
        """Compute the training loss of a batch.

        Args:
            feats: Upstream features, passed to ``forward`` with ``kwargs`` (e.g. ``num_segs``).
            data_samples: One sample per video, each with ``gt_label``.
            **kwargs: Extra ``forward`` arguments.

        Returns:
            ``loss_cls`` and, for single-label targets, ``top{k}_acc`` for each k in ``topk``.
        """
        cls_scores = self(feats, **kwargs)
        return self.loss_by_feat(cls_scores, data_samples)

    def loss_by_feat(
        self, cls_scores: torch.Tensor, data_samples: Sequence[ActionDataSample]
    ) -> Dict[str, torch.Tensor]:
        """Loss and top-k accuracy of class scores ``[N, num_classes]``.

        A head that scores each view (3D heads) gives ``[N * num_views, num_classes]`` when a
        video is trained on several clips; every clip then counts as a sample with its video's
        label (MMAction2 1.2.0 fails on that shape).
        """
        labels = self._stack_labels(data_samples).to(cls_scores.device)
        rows_per_video, rest = divmod(cls_scores.shape[0], labels.shape[0])
        if rest:
            raise ValueError(
                f'{type(self).__name__}: {cls_scores.shape[0]} score rows for '
                f'{labels.shape[0]} videos'
            )
        if rows_per_video > 1:
            labels = labels.repeat_interleave(rows_per_video, dim=0)  # [N * num_views(, C)]
        losses = {}
        if labels.ndim == 1:  # hard labels [N]: accuracy is defined
            for k, acc in zip(self.topk, _logged_top_k_accuracy(cls_scores, labels, self.topk)):
                losses[f'top{k}_acc'] = acc
        if self.label_smooth_eps != 0:
            if labels.ndim == 1:
                labels = F.one_hot(labels, num_classes=self.num_classes).to(cls_scores.dtype)
            eps = self.label_smooth_eps
            labels = labels * (1 - eps) + eps / self.num_classes
        loss_cls = self.loss_cls(cls_scores, labels)
        if isinstance(loss_cls, dict):
            losses.update(loss_cls)
        else:
            losses['loss_cls'] = loss_cls
        return losses

    def _stack_labels(self, data_samples: Sequence[ActionDataSample]) -> torch.Tensor:
        """``[N]`` int64 class indices, or ``[N, num_classes]`` float targets (multi-label, or
        soft targets from the data preprocessor's ``blending``)."""
        labels = [sample.gt_label for sample in data_samples]
        if all(not lb.is_floating_point() and lb.numel() == 1 for lb in labels):
            return torch.cat([lb.reshape(1) for lb in labels])  # [N]
        shapes = {tuple(lb.shape) for lb in labels}
        if shapes != {(self.num_classes,)}:
            raise ValueError(
                f'gt_label must be one class index per video, or a one-hot float vector of '
                f'length num_classes={self.num_classes} for multi-label data and mixup / '
                f'cutmix targets (is data_preprocessor.blending num_classes the same?); got '
                f'shapes {sorted(shapes)}'
            )
        return torch.stack(labels).float()  # [N, num_classes]

    def predict(
        self, feats: torch.Tensor, data_samples: Sequence[ActionDataSample], **kwargs
    ) -> List[ActionDataSample]:
        """Predict class scores and fill ``pred_score`` / ``pred_label`` of ``data_samples``.

        Args:
            feats: Upstream features, passed to ``forward`` with ``kwargs``.
            data_samples: One sample per video.
            **kwargs: Extra ``forward`` arguments.

        Returns:
            ``data_samples``, each with ``pred_score`` and ``pred_label``.
        """
        cls_scores = self(feats, **kwargs)
        return self.predict_by_feat(cls_scores, data_samples)

    def predict_by_feat(
        self, cls_scores: torch.Tensor, data_samples: Sequence[ActionDataSample]
    ) -> List[ActionDataSample]:
        """Average ``[N * num_segs, num_classes]`` scores per video and store them, in float32:
        a mixed-precision forward (``--amp``) gives bfloat16 or float16 scores, which would be
        averaged less precisely and which numpy (metrics, ``--dump`` readers) cannot take."""
        cls_scores = cls_scores.float()
        num_segs = cls_scores.shape[0] // len(data_samples)
        cls_scores = self.average_clip(cls_scores, num_segs=num_segs)
        pred_labels = cls_scores.argmax(dim=-1).detach()
        for sample, score, label in zip(data_samples, cls_scores, pred_labels):
            sample.set_pred_score(score)
            sample.set_pred_label(label)
        return list(data_samples)

    def average_clip(self, cls_scores: torch.Tensor, num_segs: int = 1) -> torch.Tensor:
        """Merge the ``num_segs`` score rows of each video as ``average_clips`` says.

        Args:
            cls_scores: ``[N * num_segs, num_classes]``.
            num_segs: Score rows per video.

        Returns:
            ``[N, num_classes]``, or ``[N, num_segs, num_classes]`` for ``average_clips=None``
            with several rows per video.
        """
        cls_scores = cls_scores.view((-1, num_segs) + cls_scores.shape[1:])
        # [N, num_segs, num_classes]
        if self.average_clips == 'prob':
            return F.softmax(cls_scores, dim=2).mean(dim=1)
        if self.average_clips == 'score':
            return cls_scores.mean(dim=1)
        return cls_scores.squeeze(1) if num_segs == 1 else cls_scores


def _logged_top_k_accuracy(
    scores: torch.Tensor, labels: torch.Tensor, topk: Tuple[int, ...]
) -> List[torch.Tensor]:
    """:func:`mmaction_ft.utils.accuracy.top_k_accuracy` of ``[N, C]`` scores and ``[N]``
    labels, as tensors on the scores' device for the training log (MMAction2 1.2.0 computes
    it the same way, on CPU in numpy, so equal scores are ranked alike)."""
    scores = scores.detach()
    if scores.dtype == torch.bfloat16:  # numpy has no bfloat16; float32 holds it exactly
        scores = scores.float()
    accuracies = top_k_accuracy(scores.cpu().numpy(), labels.detach().cpu().numpy(), topk)
    return [torch.tensor(acc, device=scores.device) for acc in accuracies]
