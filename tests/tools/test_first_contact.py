"""What a new user sees on the console of a short tools/train.py run (issue 14)."""

import re

from conftest import REPO, run_tool


def test_console_shows_the_run_and_the_log_file_keeps_the_environment(tiny_demo, tmp_path):
    result = run_tool(
        str(REPO / 'tools/train.py'),
        str(tiny_demo['config']),
        '--work-dir',
        str(tmp_path),
        '--cfg-options',
        'train_cfg.max_epochs=1',
        cwd=tmp_path,
        fresh=True,  # what a new user sees, from the interpreter's start
    )
    console = result.stdout + result.stderr
    assert result.returncode == 0, console[-4000:]

    for noise in (
        'System environment:',
        'Runtime environment:',
        'Config:',
        'Hooks will be executed',
        'GPU number',
        'FileClient',
        'HardDiskBackend',
        'Warning',  # no Python warnings (UserWarning, FutureWarning ...) either
    ):
        assert noise not in console, noise
    where = re.search(r'System environment, config and hook order are in (\S+\.log)', console)
    assert where, console[:2000]
    # The dump is the first thing in the log file, before the run.
    log = open(where.group(1)).read()
    dump = [log.index(s) for s in ('System environment:', 'Config:', 'Hooks will be executed')]
    assert dump == sorted(dump) and dump[-1] < log.index('Epoch(train) [1]')
    assert 'Epoch(train) [1][4/4]' in console and 'Epoch(val) [1][2/2]' in console
