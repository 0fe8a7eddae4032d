"""Hooks mmaction_ft adds to mmengine's."""

from typing import Optional, Sequence

from mmengine.hooks import Hook
from mmengine.utils import ProgressBar

from mmaction_ft.registry import HOOKS


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
