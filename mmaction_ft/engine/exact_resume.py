"""Exact resume: the random-number state a checkpoint carries and the epoch loop that replays it.

A resumed run ends with the same weights as the uninterrupted run (same seed, CPU or
``deterministic=True``) when it continues from the same random state at the same sample. What
mmengine already makes reproducible, and what is added here:

- Data order: ``DefaultSampler`` shuffles with ``seed + epoch`` (``DistSamplerSeedHook`` sets the
  epoch), so the order of every epoch follows from the seed; nothing to save.
- Position inside an epoch: a checkpoint taken mid-epoch (``CheckpointHook(by_epoch=False)``)
  has ``meta['iter']`` past the start of ``meta['epoch']``; mmengine's ``EpochBasedTrainLoop``
  restarts that epoch from its first batch. :class:`ExactResumeEpochBasedTrainLoop` replays the
  batches already trained instead: they are loaded and dropped, not trained on.
- Augmentation state of dataloader workers: mmengine's ``worker_init_fn`` seeds every worker
  from ``seed + worker_id + num_workers * rank``, the same at every epoch (not per epoch), and
  non-persistent workers restart each epoch. Replaying the skipped batches through the workers
  (rather than skipping indices in the sampler) leaves each worker exactly where it was.
- The main process's RNGs (python ``random``, numpy, torch CPU and CUDA): saved in
  ``checkpoint['meta']['rng_state']`` by ``ActionRunner.save_checkpoint`` and restored right
  before the first batch the resumed run trains on (with ``num_workers=0`` the pipeline draws
  from these RNGs, so after the dropped batches have been loaded). Validation runs with these
  RNGs saved and restored around it, so training draws the same numbers with or without a
  validation between two epochs (a resumed run starts after the validation it does not repeat).

Not guaranteed: resuming after the first epoch with ``persistent_workers=True`` and
``num_workers > 0`` (persistent workers carry their RNGs from one epoch into the next, and those
cannot be read from the main process; a resumed run starts its workers seeded as in the first
epoch, so their augmentations differ from the uninterrupted run's; a warning says so. A resume
inside the first epoch is exact, as is everything but the workers' random draws), several processes
(only rank 0's RNGs are saved; other ranks keep their seeded state), ``IterBasedTrainLoop`` or
another loop (mmengine's own behaviour: the RNGs are restored when resuming, the position is
the loop's business), a checkpoint taken inside a gradient-accumulation window
(``accumulative_counts``: the accumulated gradients are not saved), and ``best_*.pth`` files
(saved without the optimizer state; the auto-resume fallback takes them last). Checkpoints
written during validation (mmengine re-saves the latest one after a new best) carry the RNG
states from before the validation, which training continues with.
"""

import logging
import random
from typing import Any, Dict, Optional

import numpy as np
import torch
from mmengine.logging import print_log
from mmengine.runner import EpochBasedTrainLoop

from mmaction_ft.registry import LOOPS

__all__ = ['ExactResumeEpochBasedTrainLoop', 'get_rng_state', 'set_rng_state']


def get_rng_state() -> Dict[str, Any]:
    """The main process's RNG states, in types a weights-only ``torch.load`` reads back."""
    version, mt_state, gauss = random.getstate()
    np_state = np.random.get_state(legacy=False)
    state = dict(
        python=dict(version=version, state=list(mt_state), gauss=gauss),
        numpy=dict(
            bit_generator=np_state['bit_generator'],
            key=torch.from_numpy(np_state['state']['key'].astype(np.int64)),
            pos=int(np_state['state']['pos']),
            has_gauss=int(np_state['has_gauss']),
            gauss=float(np_state['gauss']),
        ),
        torch=torch.get_rng_state(),
    )
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def set_rng_state(state: Dict[str, Any]) -> None:
    """Restore what :func:`get_rng_state` returned."""
    python = state['python']
    random.setstate((python['version'], tuple(python['state']), python['gauss']))
    numpy = state['numpy']
    np.random.set_state(
        dict(
            bit_generator=numpy['bit_generator'],
            state=dict(key=numpy['key'].numpy().astype(np.uint32), pos=numpy['pos']),
            has_gauss=numpy['has_gauss'],
            gauss=numpy['gauss'],
        )
    )
    torch.set_rng_state(state['torch'])
    if 'cuda' in state and torch.cuda.is_available():
        # One state per GPU visible when saved; a resumed run may see fewer.
        for device, cuda_state in enumerate(state['cuda'][: torch.cuda.device_count()]):
            torch.cuda.set_rng_state(cuda_state, device)


@LOOPS.register_module()
class ExactResumeEpochBasedTrainLoop(EpochBasedTrainLoop):
    """mmengine's ``EpochBasedTrainLoop`` that resumes mid-epoch at the right batch and RNG state.

    :class:`~mmaction_ft.engine.ActionRunner` uses it for ``EpochBasedTrainLoop`` configs; the
    arguments are the same. Differences, both needed for a resumed run to match the
    uninterrupted one exactly (see the module docstring):

    - after :meth:`resume_at` (called by ``ActionRunner.resume``), the first epoch loads and drops
      the batches that were trained before the checkpoint, then restores the saved RNG states;
    - validation runs with the RNG states saved and restored around it.
    """

    _skip_batches = 0
    _pending_rng: Optional[Dict[str, Any]] = None
    _rng_before_val: Optional[Dict[str, Any]] = None

    def resume_at(self, skip_batches: int, rng_state: Optional[Dict[str, Any]]) -> None:
        """Continue the current epoch after its first ``skip_batches`` batches.

        Args:
            skip_batches: Batches of the current epoch trained before the checkpoint.
            rng_state: :func:`get_rng_state` at the checkpoint (None: an older checkpoint; the
                RNGs are left as they are).
        """
        if not 0 <= skip_batches <= len(self.dataloader):
            raise ValueError(
                f'cannot resume inside epoch {self._epoch + 1}: the checkpoint is '
                f'{skip_batches} batches into it but an epoch has {len(self.dataloader)} batches '
                '(did the dataset or the batch size change?)'
            )
        self._skip_batches = skip_batches
        self._pending_rng = rng_state
        loader = self.dataloader
        if getattr(loader, 'persistent_workers', False) and loader.num_workers > 0 and self._epoch:
            print_log(
                f'resuming in epoch {self._epoch + 1} with train_dataloader.persistent_workers='
                f'True (num_workers={loader.num_workers}): the new dataloader workers start '
                'from their first-epoch seeds, not from the random state the interrupted '
                "run's workers had reached, so augmentations differ from the uninterrupted run "
                '(weights, optimizer, LR schedule, sample order and the main process RNGs '
                'continue exactly); set persistent_workers=False for a bit-exact resume',
                logger='current',
                level=logging.WARNING,
            )

    def checkpoint_rng_state(self) -> Dict[str, Any]:
        """The RNG states a checkpoint taken now must carry: those training continues with.

        During validation (``save_best`` checkpoints, and mmengine's re-save of the latest
        checkpoint after a new best) these are the states from before the validation.
        """
        return self._rng_before_val if self._rng_before_val is not None else get_rng_state()

    def run(self) -> torch.nn.Module:
        """Train; each validation leaves the RNG states as it found them."""
        self.runner.call_hook('before_train')
        while self._epoch < self._max_epochs and not self.stop_training:
            self.run_epoch()
            self._decide_current_val_interval()
            if (
                self.runner.val_loop is not None
                and self._epoch >= self.val_begin
                and (self._epoch % self.val_interval == 0 or self._epoch == self._max_epochs)
            ):
                self._rng_before_val = get_rng_state()
                try:
                    self.runner.val_loop.run()
                finally:
                    set_rng_state(self._rng_before_val)
                    self._rng_before_val = None
        self.runner.call_hook('after_train')
        return self.runner.model

    def run_epoch(self) -> None:
        """One epoch; after a mid-epoch resume, its trained batches are loaded and dropped."""
        skip, self._skip_batches = self._skip_batches, 0
        if skip == 0:
            self._restore_rng()  # resumed at an epoch boundary (no-op otherwise)
        self.runner.call_hook('before_train_epoch')
        self.runner.model.train()
        for idx, data_batch in enumerate(self.dataloader):
            if idx < skip:
                if idx == skip - 1:
                    self._restore_rng()  # before the next batch is loaded
                continue
            self.run_iter(idx, data_batch)
        self.runner.call_hook('after_train_epoch')
        self._epoch += 1

    def _restore_rng(self) -> None:
        if self._pending_rng is not None:
            set_rng_state(self._pending_rng)
            self._pending_rng = None
