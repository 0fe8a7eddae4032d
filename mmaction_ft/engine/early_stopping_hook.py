"""mmengine's ``EarlyStoppingHook``, harmless in a config that is also used for testing."""

from mmengine.hooks import EarlyStoppingHook

from mmaction_ft.registry import HOOKS

__all__ = ['ActionEarlyStoppingHook']


@HOOKS.register_module()
class ActionEarlyStoppingHook(EarlyStoppingHook):
    """``EarlyStoppingHook`` that looks for the train loop only when training.

    mmengine's hook checks ``runner.train_loop.stop_training`` in ``before_run``, which also runs
    for ``runner.val()`` and ``runner.test()``: ``tools/test.py`` with a training config would
    build the train loop and its dataset (reading the training list) only to check an attribute.
    Here the check runs in ``before_train``. :class:`~mmaction_ft.engine.ActionRunner` uses this
    class for ``type='EarlyStoppingHook'`` in ``custom_hooks``; the arguments are mmengine's.

    ``min_delta`` (mmengine's default 0.1) is in the metric's units: accuracies here are
    fractions (``acc/top1`` 0.85), so 0.1 asks for 10 points of improvement per validation.
    """

    def before_run(self, runner) -> None:
        """Nothing: validation and testing have no train loop to stop."""

    def before_train(self, runner) -> None:
        super().before_run(runner)
