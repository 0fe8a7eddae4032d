"""Hooks mmaction_ft adds to mmengine's."""

import os.path as osp
from typing import List, Optional, Sequence

from mmengine.dist import is_main_process
from mmengine.fileio.backends import LocalBackend
from mmengine.hooks import CheckpointHook, Hook
from mmengine.utils import ProgressBar

from mmaction_ft.registry import HOOKS

from .checkpoint_files import remove_interrupted_writes, write_text_atomic


@HOOKS.register_module()
class TestProgressHook(Hook):
    """A progress bar over the test set (multi-view testing of a large set takes a while).

    Only the main process draws it; the bar counts batches of its own shard.
    """

    priority = 'VERY_LOW'

    def __init__(self) -> None:
        self._bar: Optional[ProgressBar] = None

    def before_test_epoch(self, runner) -> None:
        if runner.rank == 0:
            self._bar = ProgressBar(len(runner.test_dataloader))

    def after_test_iter(
        self, runner, batch_idx: int, data_batch=None, outputs: Optional[Sequence] = None
    ) -> None:
        if self._bar is not None:
            self._bar.update()

    def after_test_epoch(self, runner, metrics=None) -> None:
        if self._bar is not None:
            self._bar.file.write('\n')
            self._bar = None


class _DeferredRemovals:
    """A file backend whose ``remove`` and ``rmtree`` only note the path, to delete it later."""

    def __init__(self, backend) -> None:
        self.backend = backend
        self.paths: List[str] = []

    def remove(self, path: str) -> None:
        self.paths.append(path)

    def rmtree(self, path: str) -> None:
        self.paths.append(path)

    def __getattr__(self, name: str):
        return getattr(self.backend, name)


@HOOKS.register_module()
class ActionCheckpointHook(CheckpointHook):
    """mmengine's ``CheckpointHook`` in an order that a crash cannot break.

    mmengine deletes what it replaces *before* writing the replacement: the checkpoint that
    ``max_keep_ckpts`` drops, and the previous ``best_*.pth`` when a validation finds a new best.
    It then rewrites ``last_checkpoint`` in place. Killed in between, a run with
    ``max_keep_ckpts=1`` has no checkpoint left, ``last_checkpoint`` names a missing file, and
    a run with ``save_best`` has no best checkpoint. Here the new file is written first
    (atomically, by ``ActionRunner.save_checkpoint``), then ``last_checkpoint`` is replaced
    atomically, and only then the old file is deleted. Temporary files that a killed run left
    behind (see :func:`~mmaction_ft.engine.checkpoint_files.remove_interrupted_writes`) are
    deleted when the next run starts.

    :class:`~mmaction_ft.engine.ActionRunner` uses it for ``type='CheckpointHook'`` configs;
    the arguments are mmengine's.
    """

    def before_train(self, runner) -> None:
        super().before_train(runner)
        if not is_main_process() or not isinstance(self.file_backend, LocalBackend):
            return
        for directory in dict.fromkeys((runner.work_dir, self.out_dir)):
            removed = remove_interrupted_writes(directory)
            if removed:
                runner.logger.info(
                    'removed what interrupted checkpoint writes left (incomplete, never '
                    'renamed into place): ' + ', '.join(removed)
                )

    def _save_best_checkpoint(self, runner, metrics) -> None:
        """mmengine's, but the previous best checkpoint is deleted after the new one is written."""
        backend = self.file_backend
        deferred = self.file_backend = _DeferredRemovals(backend)
        try:
            super()._save_best_checkpoint(runner, metrics)
        finally:
            self.file_backend = backend
        current = {getattr(self, 'best_ckpt_path', None)}
        current.update(getattr(self, 'best_ckpt_path_dict', {}).values())
        for path in deferred.paths:
            if path not in current:  # a re-validated step may save under the same name
                self._remove(path)

    def _save_checkpoint_with_step(self, runner, step: int, meta: dict) -> None:
        stale = None
        if self.max_keep_ckpts > 0 and not (self.keep_ckpt_ids and self.keep_ckpt_ids[-1] == step):
            # _save_checkpoint and _save_best_checkpoint may both save this step.
            if len(self.keep_ckpt_ids) == self.max_keep_ckpts:
                stale = self.keep_ckpt_ids.popleft()
            self.keep_ckpt_ids.append(step)
            runner.message_hub.update_info('keep_ckpt_ids', list(self.keep_ckpt_ids))

        ckpt_filename = self.filename_tmpl.format(step)
        self.last_ckpt = self.file_backend.join_path(self.out_dir, ckpt_filename)
        runner.message_hub.update_info('last_ckpt', self.last_ckpt)
        runner.save_checkpoint(
            self.out_dir,
            ckpt_filename,
            self.file_client_args,
            save_optimizer=self.save_optimizer,
            save_param_scheduler=self.save_param_scheduler,
            meta=meta,
            by_epoch=self.by_epoch,
            backend_args=self.backend_args,
            **self.args,
        )
        if not is_main_process():
            return
        write_text_atomic(osp.join(runner.work_dir, 'last_checkpoint'), self.last_ckpt)
        if stale is not None:
            self._remove(
                self.file_backend.join_path(self.out_dir, self.filename_tmpl.format(stale))
            )

    def _remove(self, path: str) -> None:
        if self.file_backend.isfile(path):
            self.file_backend.remove(path)
        elif self.file_backend.isdir(path):  # deepspeed checkpoints are folders
            self.file_backend.rmtree(path)
