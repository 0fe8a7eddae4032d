"""Batch augmentations that blend the videos of a training batch and their labels (MixUp,
CutMix), applied by ``ActionDataPreprocessor(blending=...)`` after normalisation.

They draw from the same random streams, in the same order, as MMAction2 1.2.0's
``mmaction/models/utils/blending_utils.py`` (torch for lambda, the permutation and the box,
numpy for the choice of ``RandomBatchAugment``), so a seeded run blends the same way.
"""

from abc import ABCMeta, abstractmethod
from typing import Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
import torch.nn.functional as F
from torch.distributions.beta import Beta

from mmaction_ft.registry import MODELS
from mmaction_ft.structures import ActionDataSample


class BaseMiniBatchBlending(metaclass=ABCMeta):
    """Turn the batch's labels into one-hot targets, blend, and store the soft targets.

    ``inputs`` are ``[N, num_views, C, (T,) H, W]``. Each ``gt_label`` (a class index, or a
    ``[num_classes]`` float vector for multi-label data) becomes a float ``[num_classes]`` soft
    target summing to what the one-hot target summed to (1 for single-label data); the head's
    loss takes those (``CrossEntropyLoss`` computes the soft-target cross entropy).

    Args:
        num_classes: Number of classes; must equal the head's ``num_classes``.
    """

    def __init__(self, num_classes: int):
        if not isinstance(num_classes, int) or num_classes <= 0:
            raise ValueError(f'num_classes must be a positive int, got {num_classes!r}')
        self.num_classes = num_classes

    @abstractmethod
    def do_blending(
        self, inputs: torch.Tensor, label: torch.Tensor, **kwargs
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        """Blend ``inputs`` and their ``[N, num_classes]`` float targets ``label``."""

    def __call__(
        self, inputs: torch.Tensor, data_samples: Sequence[ActionDataSample], **kwargs
    ) -> Tuple[torch.Tensor, Sequence[ActionDataSample]]:
        """Blend a batch; returns the blended inputs and ``data_samples`` with soft targets."""
        label = self._one_hot([sample.gt_label for sample in data_samples]).to(inputs.device)
        inputs, label = self.do_blending(inputs, label, **kwargs)
        for sample, target in zip(data_samples, label):
            sample.set_gt_label(target)
        return inputs, data_samples

    def _one_hot(self, labels: List[torch.Tensor]) -> torch.Tensor:
        """``[N, num_classes]`` float targets from the ``gt_label`` of each video."""
        if all(not lb.is_floating_point() and lb.numel() == 1 for lb in labels):
            index = torch.cat([lb.reshape(1) for lb in labels])  # [N]
            if index.min() < 0 or index.max() >= self.num_classes:
                raise ValueError(
                    f'{type(self).__name__}: labels {index.tolist()} outside '
                    f'[0, num_classes={self.num_classes}); set the blending num_classes to the '
                    f"head's num_classes"
                )
            return F.one_hot(index, self.num_classes).float()
        shapes = {tuple(lb.shape) for lb in labels}
        if shapes != {(self.num_classes,)}:
            raise ValueError(
                f'{type(self).__name__}: gt_label must be a class index or a float vector of '
                f'length num_classes={self.num_classes}; got shapes {sorted(shapes)}'
            )
        return torch.stack(labels).float()  # [N, num_classes]

    def __repr__(self) -> str:
        return f'{type(self).__name__}(num_classes={self.num_classes})'


class _BetaBlending(BaseMiniBatchBlending):
    """A blending whose mixing ratio ``lam`` is drawn from ``Beta(alpha, alpha)``."""

    def __init__(self, num_classes: int, alpha: float = 0.2):
        super().__init__(num_classes)
        if alpha <= 0:
            raise ValueError(f'alpha must be positive (Beta(alpha, alpha)), got {alpha}')
        self.alpha = alpha
        self.beta = Beta(alpha, alpha)

    def __repr__(self) -> str:
        return f'{type(self).__name__}(num_classes={self.num_classes}, alpha={self.alpha})'


@MODELS.register_module()
class MixupBlending(_BetaBlending):
    """MixUp (Zhang et al., mixup: Beyond Empirical Risk Minimization, ICLR 2018): each video
    becomes ``lam * x + (1 - lam) * x[perm]``, its target ``lam * y + (1 - lam) * y[perm]``, with
    one ``lam ~ Beta(alpha, alpha)`` and one random permutation ``perm`` per batch.

    Args:
        num_classes: Number of classes.
        alpha: Parameter of the Beta distribution (MMAction2's MViT configs use 0.8).
    """

    def do_blending(
        self, inputs: torch.Tensor, label: torch.Tensor, **kwargs
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        if kwargs:
            raise TypeError(f'MixupBlending got unexpected arguments {sorted(kwargs)}')
        lam = self.beta.sample()
        perm = torch.randperm(inputs.shape[0])
        mixed = lam * inputs + (1 - lam) * inputs[perm]  # [N, num_views, C, (T,) H, W]
        return mixed, lam * label + (1 - lam) * label[perm]


@MODELS.register_module()
class CutmixBlending(_BetaBlending):
    """CutMix (Yun et al., CutMix, ICCV 2019): a box of every frame of every view is replaced by
    the same box of video ``perm[i]``; the targets mix by the box's share of the frame.

    The box has sides ``sqrt(1 - lam)`` of the frame's (``lam ~ Beta(alpha, alpha)``), a
    uniformly random centre, and is clipped to the frame; the target of video ``i`` is
    ``(1 - area) * y[i] + area * y[perm[i]]`` with ``area`` the clipped box's fraction of the
    frame, as in the reference code (https://github.com/clovaai/CutMix-PyTorch).

    Args:
        num_classes: Number of classes.
        alpha: Parameter of the Beta distribution (MMAction2's MViT configs use 1).
    """

    @staticmethod
    def rand_bbox(size: torch.Size, lam: torch.Tensor) -> Tuple[int, int, int, int]:
        """A random box ``(x1, y1, x2, y2)`` in a frame of ``size[-2:] = (H, W)``."""
        h, w = size[-2], size[-1]
        cut_rat = torch.sqrt(1.0 - lam)
        cut_w, cut_h = int(w * cut_rat), int(h * cut_rat)
        cx = int(torch.randint(w, (1,))[0])
        cy = int(torch.randint(h, (1,))[0])
        x1, x2 = max(cx - cut_w // 2, 0), min(cx + cut_w // 2, w)
        y1, y2 = max(cy - cut_h // 2, 0), min(cy + cut_h // 2, h)
        return x1, y1, x2, y2

    def do_blending(
        self, inputs: torch.Tensor, label: torch.Tensor, **kwargs
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        if kwargs:
            raise TypeError(f'CutmixBlending got unexpected arguments {sorted(kwargs)}')
        perm = torch.randperm(inputs.shape[0])
        lam = self.beta.sample()
        x1, y1, x2, y2 = self.rand_bbox(inputs.shape, lam)
        mixed = inputs.clone()  # MMAction2 pastes in place; the caller's tensor stays intact
        mixed[..., y1:y2, x1:x2] = inputs[perm, ..., y1:y2, x1:x2]
        area = (x2 - x1) * (y2 - y1) / (inputs.shape[-1] * inputs.shape[-2])
        return mixed, (1 - area) * label + area * label[perm]


@MODELS.register_module()
class RandomBatchAugment(BaseMiniBatchBlending):
    """Apply one of several blendings to each batch, chosen at random.

    Example (MMAction2's MViT configs)::

        blending=dict(
            type='RandomBatchAugment',
            augments=[
                dict(type='MixupBlending', alpha=0.8, num_classes=400),
                dict(type='CutmixBlending', alpha=1, num_classes=400),
            ])

    Args:
        augments: Blending configs (or built blendings), all with the same ``num_classes``.
        probs: The probability of each augment; the rest, ``1 - sum(probs)``, leaves the batch
            unchanged. None picks each augment with equal probability (and never none).
    """

    def __init__(
        self,
        augments: Union[Dict, BaseMiniBatchBlending, Sequence[Union[Dict, BaseMiniBatchBlending]]],
        probs: Optional[Union[float, Sequence[float]]] = None,
    ):
        if isinstance(augments, (dict, BaseMiniBatchBlending)):
            augments = [augments]
        built = [MODELS.build(aug) if isinstance(aug, dict) else aug for aug in augments]
        if not built or not all(isinstance(aug, BaseMiniBatchBlending) for aug in built):
            raise TypeError(
                f'RandomBatchAugment augments must be blending configs or blendings, got '
                f'{augments!r}'
            )
        num_classes = {aug.num_classes for aug in built}
        if len(num_classes) > 1:
            raise ValueError(
                f'RandomBatchAugment augments disagree on num_classes: {sorted(num_classes)}'
            )
        super().__init__(num_classes.pop())
        self.augments: List[Optional[BaseMiniBatchBlending]] = built
        if probs is not None:
            probs = [float(probs)] if isinstance(probs, (int, float)) else [float(p) for p in probs]
            if len(probs) != len(built):
                raise ValueError(
                    f'RandomBatchAugment needs one probability per augment: {len(built)} '
                    f'augments, probs {probs}'
                )
            if any(p < 0 for p in probs) or sum(probs) > 1 + 1e-9:  # float rounding
                raise ValueError(
                    f'RandomBatchAugment probs {probs} must be non-negative and sum to at most '
                    f'1 (the rest is the chance of no augment); they sum to {sum(probs):g}'
                )
            # The remainder: leave the batch unchanged (None), as MMAction2.
            self.augments.append(None)
            probs.append(max(0.0, 1 - sum(probs)))
        self.probs = probs

    def do_blending(
        self, inputs: torch.Tensor, label: torch.Tensor, **kwargs
    ) -> Tuple[torch.Tensor, torch.Tensor]:
        aug = self.augments[np.random.choice(len(self.augments), p=self.probs)]
        if aug is None:
            return inputs, label
        return aug.do_blending(inputs, label, **kwargs)

    def __repr__(self) -> str:
        augments = [aug for aug in self.augments if aug is not None]
        return f'RandomBatchAugment(augments={augments}, probs={self.probs})'
