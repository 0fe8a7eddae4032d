"""SIGKILLs ``tools/train.py`` at a point that the environment names (for test_crash_resume.py).

The crash-resume test's config imports this module (``custom_imports``); without the variables
below it changes nothing, so the uninterrupted, killed and resumed runs share one config.

- ``SIGKILL_BEFORE_ITER=N``: before training iteration ``N`` (``runner.iter``, 0-based) starts.
- ``SIGKILL_IN_SAVE=N``: while the ``N``-th ``.pth`` file (1-based) of this process is written,
  after half of its bytes reached the file.

SIGKILL cannot be caught: no ``finally`` block, ``atexit`` handler or dataloader shutdown runs,
as when the OOM killer or a scheduler ends a job.
"""

import os
import signal

from mmengine.fileio.backends import LocalBackend

from mmaction_ft.engine.exact_resume import ExactResumeEpochBasedTrainLoop


def _die() -> None:
    os.kill(os.getpid(), signal.SIGKILL)


if 'SIGKILL_BEFORE_ITER' in os.environ:
    _kill_iter = int(os.environ['SIGKILL_BEFORE_ITER'])
    _run_iter = ExactResumeEpochBasedTrainLoop.run_iter

    def _run_iter_or_die(self, idx, data_batch) -> None:
        if self.runner.iter == _kill_iter:
            _die()
        _run_iter(self, idx, data_batch)

    ExactResumeEpochBasedTrainLoop.run_iter = _run_iter_or_die

if 'SIGKILL_IN_SAVE' in os.environ:
    _kill_save = int(os.environ['SIGKILL_IN_SAVE'])
    _saves = 0
    _put = LocalBackend.put

    def _put_or_die(self, obj, filepath) -> None:
        global _saves
        if str(filepath).endswith('.pth'):
            _saves += 1
            if _saves == _kill_save:
                with open(filepath, 'wb') as f:
                    f.write(obj[: len(obj) // 2])
                    f.flush()
                _die()
        _put(self, obj, filepath)

    LocalBackend.put = _put_or_die
