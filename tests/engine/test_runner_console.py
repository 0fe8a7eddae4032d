"""What ActionRunner prints on the console, and what goes to the log file only."""

import torch
from test_runner_resume import runner_kwargs

from mmaction_ft.engine import ActionRunner


def test_startup_dump_goes_to_the_log_file_and_the_console_says_where(tmp_path, capsys):
    runner = ActionRunner(**runner_kwargs(tmp_path, max_epochs=1, cfg=dict(note='recipe')))
    runner.train()  # saves a checkpoint: CheckpointHook's unused FileClient stays quiet
    console = capsys.readouterr().out
    log = open(runner.logger.log_file).read()

    assert f'System environment, config and hook order are in {runner.logger.log_file}' in console
    for dumped in ('System environment:', 'Runtime environment:', 'Config:', 'Hooks will be'):
        assert dumped not in console
        assert dumped in log
    assert "note = 'recipe'" in log  # the config itself
    for deprecation in ('FileClient', 'HardDiskBackend'):
        assert deprecation not in console and deprecation not in log
    assert 'Epoch(train) [1][2/2]' in console  # the run itself is still shown
    if not torch.cuda.is_available():
        assert 'Processes: 1' in log and 'GPU number' not in log


def test_a_file_client_the_user_asked_for_still_warns(tmp_path, capsys):
    kwargs = runner_kwargs(tmp_path, max_epochs=1)
    kwargs['default_hooks'] = dict(
        checkpoint=dict(type='CheckpointHook', interval=1, file_client_args=dict(backend='disk'))
    )
    runner = ActionRunner(**kwargs)
    runner.train()
    assert '"FileClient" will be deprecated' in open(runner.logger.log_file).read()
