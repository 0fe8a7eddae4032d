"""Hooks mmaction_ft adds to mmengine's."""

import os.path as osp
from typing import Optional, Sequence

from mmengine.dist import is_main_process
from mmengine.hooks import CheckpointHook, Hook
from mmengine.utils import ProgressBar

from mmaction_ft.registry import HOOKS

from .checkpoint_files import write_text_atomic


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


@HOOKS.register_module()
class ActionCheckpointHook(CheckpointHook):
    """mmengine's ``CheckpointHook`` in an order that a crash cannot break.

    mmengine deletes the checkpoint that ``max_keep_ckpts`` drops *before* writing the new one
    and then rewrites ``last_checkpoint`` in place: killed in between, a run with
    ``max_keep_ckpts=1`` has no checkpoint left and ``last_checkpoint`` names a missing file.
    Here the new checkpoint is written first (atomically, by ``ActionRunner.save_checkpoint``),
    then ``last_checkpoint`` is replaced atomically, and only then the old file is deleted.

    :class:`~mmaction_ft.engine.ActionRunner` uses it for ``type='CheckpointHook'`` configs;
    the arguments are mmengine's.
    """

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
            path = self.file_backend.join_path(self.out_dir, self.filename_tmpl.format(stale))
            if self.file_backend.isfile(path):
                self.file_backend.remove(path)
            elif self.file_backend.isdir(path):  # deepspeed checkpoints are folders
                self.file_backend.rmtree(path)
