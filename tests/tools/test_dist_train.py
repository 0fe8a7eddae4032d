"""tools/dist_train.sh: two processes train one epoch on the CPU over gloo, quietly."""

import os
import re
import shutil
import subprocess

import pytest
import torch
from conftest import REPO

pytestmark = pytest.mark.slow


@pytest.mark.skipif(shutil.which('bash') is None, reason='needs bash')
def test_two_process_cpu_training_completes_an_epoch(tiny_demo, tmp_path):
    def train(work_dir, port):
        # Thread counts unset, as for a user: the script sets them without torchrun's notice.
        threads = ('OMP_NUM_THREADS', 'MKL_NUM_THREADS')
        env = {k: v for k, v in os.environ.items() if k not in threads}
        env['PORT'] = str(port)
        return subprocess.run(
            [
                'bash',
                'tools/dist_train.sh',
                str(tiny_demo['config']),
                '2',
                '--work-dir',
                str(work_dir),
                '--cfg-options',
                'train_cfg.max_epochs=1',
            ],
            cwd=REPO,
            env=env,
            capture_output=True,
            text=True,
            timeout=600,
        )

    result = train(tmp_path, 29517)
    if result.returncode != 0 and 'terminate called without an active exception' in result.stderr:
        # A rare native abort of one worker in its first gloo all-reduce (seen once in ~20 runs
        # on this machine, not reproduced since); one retry keeps CI meaningful while it is
        # investigated. Any other failure fails at once.
        tmp_path = tmp_path / 'retry'
        result = train(tmp_path, 29518)
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-4000:]
    # Nothing on the console that says nothing to the user, and no GPU language on a CPU.
    for noise in ('NUM_THREADS', 'broadcast_buffers', 'Grad strides', 'GPU', 'Warning'):
        assert noise not in log, (noise, log[-4000:])
    (log_file,) = tmp_path.glob('*/*.log')  # rank 0's; the environment dump went there
    dump = log_file.read_text()
    assert 'Distributed training: True' in dump and 'Processes: 2' in dump
    # 32 training videos, batch 8 per process: 2 processes share them in 2 iterations each.
    assert re.search(r'Epoch\(train\) \[1\]\[2/2\]', log), log[-4000:]
    checkpoint = torch.load(tmp_path / 'epoch_1.pth', map_location='cpu', weights_only=False)
    # State dicts saved from a DDP-wrapped model must keep the plain key names.
    assert all(not k.startswith('module.') for k in checkpoint['state_dict'])
    assert checkpoint['meta']['epoch'] == 1
