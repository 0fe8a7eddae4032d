"""TestProgressHook shares the console with the logger without running into its lines."""

import re
import uuid
from types import SimpleNamespace

from mmengine.logging import MMLogger

from mmaction_ft.engine import hooks

TIMESTAMP = re.compile(r'^\d\d/\d\d \d\d:\d\d:\d\d - ')


def test_log_lines_during_the_test_start_on_their_own_line(capsys):
    logger = MMLogger.get_instance(f'progress-{uuid.uuid4().hex}', log_level='INFO')
    runner = SimpleNamespace(rank=0, logger=logger, test_dataloader=[0, 1, 2])
    hook = hooks.TestProgressHook()  # (a module attribute: pytest would collect the class)

    hook.before_test_epoch(runner)
    for i in range(3):
        logger.info(f'Epoch(test) [{i + 1}/3]')  # what LoggerHook writes, before the bar moves
        hook.after_test_iter(runner, i)
    logger.info('Epoch(test) [3/3]    acc/top1: 0.5')  # LoggerHook's after_test_epoch
    hook.after_test_epoch(runner)
    logger.info('after the test')

    out = capsys.readouterr().out
    lines = [line.lstrip('\r') for line in out.split('\n')]  # the bar redraws after a \r
    logged = [line for line in lines if 'Epoch(test)' in line or 'after the test' in line]
    assert len(logged) == 5
    assert all(TIMESTAMP.match(line) for line in logged), lines
    assert [line for line in lines if '3/3' in line and line.startswith('[')], lines  # bar shown
    assert '\n\n' not in out  # the bar's line is ended once
    # The console is the logger's alone again after the test.
    assert not [f for h in logger.handlers for f in h.filters if isinstance(f, hooks._EndBarLine)]
