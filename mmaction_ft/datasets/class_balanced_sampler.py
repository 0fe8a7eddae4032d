"""``ClassBalancedSampler``: every class drawn equally often in an epoch, on 1 or N processes.

For training lists where a few classes have most of the videos. Use it in place of mmengine's
``DefaultSampler``::

    train_dataloader = dict(sampler=dict(type='ClassBalancedSampler'), ...)
"""

import logging
import math
from typing import Any, Dict, Iterator, List, Optional

import torch
from mmengine.dist import get_dist_info, sync_random_seed
from mmengine.logging import print_log
from torch.utils.data import Sampler

from mmaction_ft.engine.dataset_labels import dataset_labels
from mmaction_ft.registry import DATA_SAMPLERS

__all__ = ['ClassBalancedSampler']


@DATA_SAMPLERS.register_module()
class ClassBalancedSampler(Sampler):
    """Draws ``num_samples`` indices an epoch, the same number from every class.

    Each epoch, the ``total_size`` draws (``num_samples`` rounded up to a multiple of the
    process count) are split evenly over the classes that have samples (``total_size // C``
    each; the ``total_size % C`` remaining draws go to as many classes picked at random). A class
    draws its samples in a random order, and once every sample has been drawn starts again in
    a new order: a rare class repeats its few videos, a frequent class sees different videos
    every epoch. The draws are then shuffled, and process ``rank`` takes positions
    ``rank::world_size``: the processes get disjoint shares of one draw, all of the same length.

    Everything follows from ``seed + epoch`` (mmengine's ``DistSamplerSeedHook`` calls
    :meth:`set_epoch`), as with ``DefaultSampler``: every process computes the same draw, and
    ``ExactResumeEpochBasedTrainLoop`` replays an epoch exactly when resuming.

    Labels are read through ``dataset.get_data_info(idx)['label']`` without loading any video,
    so the dataset may be any ``BaseActionDataset`` (``RepeatAugDataset`` included: a sample
    is a video, whose clips all count as one draw) or mmengine wrapper (``ConcatDataset``,
    ``RepeatDataset``). A dataset without ``get_data_info`` is refused. A multi-label sample
    belongs to each of its classes: it can be drawn for any of them, so a class that often
    appears together with others is seen more often than ``total_size / C``.

    Args:
        dataset: The training dataset.
        num_samples: Draws per epoch over all processes; None for ``len(dataset)``.
        seed: The random seed; the same on every process. None (the runner passes the
            config's ``randomness.seed``) draws one and shares it between processes.
        shuffle: Must be True (the draw is always random). Accepted so that a config changes
            only the ``type`` of its base's ``dict(type='DefaultSampler', shuffle=True)``.
    """

    def __init__(
        self,
        dataset: Any,
        num_samples: Optional[int] = None,
        seed: Optional[int] = None,
        shuffle: bool = True,
    ) -> None:
        if shuffle is not True:
            raise ValueError(
                f'ClassBalancedSampler always draws in a random order; got shuffle={shuffle!r} '
                "(for an evaluation loader in order, keep dict(type='DefaultSampler', "
                'shuffle=False))'
            )
        if num_samples is not None and (
            not isinstance(num_samples, int) or isinstance(num_samples, bool) or num_samples < 1
        ):
            raise ValueError(
                f'ClassBalancedSampler: num_samples must be an int >= 1 or None, '
                f'got {num_samples!r}'
            )
        self.rank, self.world_size = get_dist_info()
        self.dataset = dataset
        self.seed = sync_random_seed() if seed is None else seed
        self.epoch = 0

        by_class: Dict[int, List[int]] = {}
        for idx, classes in enumerate(dataset_labels(dataset)):
            for c in classes:
                by_class.setdefault(c, []).append(idx)
        if not by_class:
            raise ValueError(f'ClassBalancedSampler: {type(dataset).__name__} is empty')
        self.classes = sorted(by_class)
        self._pools = [torch.tensor(by_class[c]) for c in self.classes]

        num_samples = len(dataset) if num_samples is None else num_samples
        self.num_samples = math.ceil(num_samples / self.world_size)  # per process
        self.total_size = self.num_samples * self.world_size
        lengths = [len(pool) for pool in self._pools]
        if len(lengths) <= 30:
            sizes = '/'.join(map(str, lengths))
        else:
            sizes = f'{min(lengths)} to {max(lengths)}'
        low, high = self.total_size // len(self.classes), -(-self.total_size // len(self.classes))
        times = str(low) if low == high else f'{low} or {high}'
        print_log(
            f'ClassBalancedSampler: {len(self.classes)} classes with {sizes} samples; each is '
            f'drawn {times} times in the {self.total_size} draws of an epoch',
            logger='current',
            level=logging.INFO,
        )

    def __iter__(self) -> Iterator[int]:
        generator = torch.Generator()
        generator.manual_seed(self.seed + self.epoch)
        num_classes = len(self._pools)
        quotas = torch.full((num_classes,), self.total_size // num_classes, dtype=torch.long)
        quotas[
            torch.randperm(num_classes, generator=generator)[: self.total_size % num_classes]
        ] += 1

        draws = []
        for pool, quota in zip(self._pools, quotas.tolist()):
            rounds = max(1, math.ceil(quota / len(pool)))  # 1 permutation even for quota 0
            order = torch.cat(
                [torch.randperm(len(pool), generator=generator) for _ in range(rounds)]
            )
            draws.append(pool[order[:quota]])
        indices = torch.cat(draws)  # [total_size], class by class
        indices = indices[torch.randperm(self.total_size, generator=generator)]
        return iter(indices[self.rank : self.total_size : self.world_size].tolist())

    def __len__(self) -> int:
        """Draws per epoch on this process."""
        return self.num_samples

    def set_epoch(self, epoch: int) -> None:
        """Draw the indices of ``epoch`` next (called by ``DistSamplerSeedHook``)."""
        self.epoch = epoch
