"""Hooks mmaction_ft adds to mmengine's."""

import contextlib
import logging
import os.path as osp
import sys
from typing import Iterator, List, Optional, Sequence

from mmengine.dist import is_main_process
from mmengine.fileio.backends import LocalBackend
from mmengine.hooks import CheckpointHook, Hook
from mmengine.logging import MMLogger
from mmengine.utils import ProgressBar

from mmaction_ft.registry import HOOKS

from .checkpoint_files import remove_interrupted_writes, write_text_atomic


class _EndBarLine(logging.Filter):
    """Ends the progress bar's line before a log record is written to the console."""

    def __init__(self, hook: 'TestProgressHook') -> None:
        super().__init__()
        self.hook = hook

    def filter(self, record: logging.LogRecord) -> bool:
        self.hook.end_bar_line()
        return True


def _console_handlers(logger: logging.Logger) -> List[logging.Handler]:
    return [h for h in logger.handlers if not isinstance(h, logging.FileHandler)]


@HOOKS.register_module()
class TestProgressHook(Hook):
    """A progress bar over the test set (multi-view testing of a large set takes a while).

    Only the main process draws it; the bar counts batches of its own shard. The bar is redrawn
    in place on one line; a log line written meanwhile (the ``LoggerHook``'s ``Epoch(test)``
    lines) starts on a line of its own, and the bar goes on below it.
    """

    priority = 'VERY_LOW'

    def __init__(self) -> None:
        self._bar: Optional[ProgressBar] = None
        self._bar_line_open = False  # the bar was drawn and its line not ended yet
        self._end_line_filter = _EndBarLine(self)

    def before_test_epoch(self, runner) -> None:
        if runner.rank == 0:
            for handler in _console_handlers(runner.logger):
                handler.addFilter(self._end_line_filter)
            self._bar = ProgressBar(len(runner.test_dataloader), file=sys.stdout)
            self._bar_line_open = True

    def after_test_iter(
        self, runner, batch_idx: int, data_batch=None, outputs: Optional[Sequence] = None
    ) -> None:
        if self._bar is not None:
            self._bar.update()
            self._bar_line_open = True

    def after_test_epoch(self, runner, metrics=None) -> None:
        if self._bar is not None:
            self.end_bar_line()
            self._bar = None
        for handler in _console_handlers(runner.logger):
            handler.removeFilter(self._end_line_filter)

    def end_bar_line(self) -> None:
        """Move the console to a new line if the bar's line is open."""
        if self._bar is not None and self._bar_line_open:
            self._bar.file.write('\n')
            self._bar.file.flush()
            self._bar_line_open = False


# mmengine's CheckpointHook.before_train and its save_checkpoint function build a FileClient
# that they do not use when file_client_args is None (kept "until MMEngine 1.0"); building it
# logs these two deprecation warnings about mmengine's own code on every run.
_UNUSED_FILE_CLIENT_WARNINGS = (
    '"FileClient" will be deprecated in future.',
    '"HardDiskBackend" is the alias of "LocalBackend"',
)


class _DropMessages(logging.Filter):
    """Drops records whose message starts with one of ``prefixes``."""

    def __init__(self, prefixes: Sequence[str]) -> None:
        super().__init__()
        self.prefixes = tuple(prefixes)

    def filter(self, record: logging.LogRecord) -> bool:
        return not (isinstance(record.msg, str) and record.msg.startswith(self.prefixes))


@contextlib.contextmanager
def unused_file_client_unlogged(runner) -> Iterator[None]:
    """Within the block, the deprecation warnings of a FileClient that mmengine builds without
    using it (``file_client_args`` is None) are not logged."""
    drop = _DropMessages(_UNUSED_FILE_CLIENT_WARNINGS)
    # print_log(logger='current') reaches the runner's logger or the one created last.
    loggers = list(dict.fromkeys([runner.logger, MMLogger.get_current_instance()]))
    for logger in loggers:
        logger.addFilter(drop)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(drop)


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
        if self.file_client_args is None:
            with unused_file_client_unlogged(runner):
                super().before_train(runner)
        else:  # the user asked for a FileClient: mmengine's deprecation notice is for them
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
        if not self.save_best or not hasattr(self, 'file_backend'):
            # Nothing to rank, or a val()/test()-only run: before_train never set up saving.
            return
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
