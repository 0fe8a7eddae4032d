"""mmengine's ``EMAHook`` for checkpoints that are loaded before or after ``before_run``.

What a checkpoint written with the hook holds (mmengine's layout, unchanged here)::

    state_dict       the averaged (EMA) weights: what validation scored, what testing loads
    ema_state_dict   'steps' and 'module.<key>': the trained (source) weights, swapped at saving

mmengine's hook copies every loaded checkpoint into its averaged model in
``after_load_checkpoint``. That fails when the checkpoint is loaded before ``before_run`` built
that model (``tools/test.py`` loads the checkpoint strictly, then calls ``runner.test()``), and
it copies the file's raw tensors, without the renames and the head swap of mmaction_ft's loader.
Here a load that is not a resume only marks the averaged model out of date; it is set from the
model, which then holds what the loader loaded, before it is next used.
"""

import logging
from typing import Any, Dict, Optional

from mmengine.hooks import EMAHook
from mmengine.logging import print_log

from mmaction_ft.registry import HOOKS

__all__ = ['ActionEMAHook']


@HOOKS.register_module()
class ActionEMAHook(EMAHook):
    """``EMAHook`` whose averaged model follows the weights the runner loaded.

    :class:`~mmaction_ft.engine.ActionRunner` uses it for ``type='EMAHook'`` in
    ``custom_hooks``; the arguments are mmengine's (``momentum``, ``begin_epoch`` ...).
    Resuming restores the averaged weights and gives the model back its trained ones, as
    mmengine does, also when the checkpoint is loaded before ``before_run``.
    """

    _out_of_date = False  # the model was loaded after the averaged model was made
    _pending_ema_state: Optional[Dict[str, Any]] = None  # resumed before before_run

    def before_run(self, runner) -> None:
        super().before_run(runner)  # the averaged model starts as a copy of the model now
        self._out_of_date = False
        if self._pending_ema_state is not None:
            self.ema_model.load_state_dict(self._pending_ema_state, strict=self.strict_load)
            self._pending_ema_state = None

    def after_load_checkpoint(self, runner, checkpoint: dict) -> None:
        """Resume the averaged weights, or mark them out of date after any other load."""
        # ActionRunner._resuming: only while resume() loads the run's own checkpoint.
        resuming = getattr(runner, '_resuming', runner._resume)
        if resuming and 'ema_state_dict' in checkpoint:
            # The file's state_dict holds the averaged weights: the model gets its own back.
            self._swap_ema_state_dict(checkpoint)
            if hasattr(self, 'ema_model'):
                self.ema_model.load_state_dict(
                    checkpoint['ema_state_dict'], strict=self.strict_load
                )
            else:
                self._pending_ema_state = checkpoint['ema_state_dict']
            return
        if resuming:
            print_log(
                'EMAHook: the checkpoint has no ema_state_dict; the averaged weights start '
                'from the resumed ones',
                'current',
                logging.WARNING,
            )
        self._out_of_date = True

    def _update_from_model(self) -> None:
        if self._out_of_date and hasattr(self, 'ema_model'):
            self.ema_model.module.load_state_dict(self.src_model.state_dict())
            self._out_of_date = False

    def before_train(self, runner) -> None:
        self._update_from_model()
        super().before_train(runner)

    def before_val_epoch(self, runner) -> None:
        self._update_from_model()
        super().before_val_epoch(runner)

    def before_test_epoch(self, runner) -> None:
        self._update_from_model()
        super().before_test_epoch(runner)

    def before_save_checkpoint(self, runner, checkpoint: dict) -> None:
        self._update_from_model()
        super().before_save_checkpoint(runner, checkpoint)
