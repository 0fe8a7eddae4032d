"""What the end-to-end tool tests share: ``run_tool`` (through ``tool_server.py``), a tiny demo
dataset with its config, and one tiny TSN trained on it."""

import json
import os
import select
import signal
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Optional, Sequence

import pytest

from mmaction_ft.demo.data import make_demo_dataset

REPO = Path(__file__).resolve().parents[2]


class ToolServer:
    """The client of ``tool_server.py``: one server per test session, started on first use."""

    def __init__(self) -> None:
        self._process: Optional[subprocess.Popen] = None
        self._files = tempfile.TemporaryDirectory(prefix='tool_server_')

    def _server(self) -> subprocess.Popen:
        if self._process is None or self._process.poll() is not None:
            self._process = subprocess.Popen(
                [sys.executable, str(Path(__file__).with_name('tool_server.py'))],
                cwd=REPO, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
            )  # fmt: skip
        return self._process

    def run(self, args: Sequence[str], cwd: Path, timeout: float) -> subprocess.CompletedProcess:
        server = self._server()
        out, err = (os.path.join(self._files.name, name) for name in ('stdout', 'stderr'))
        request = dict(args=list(args), cwd=str(cwd), env=dict(os.environ), stdout=out, stderr=err)
        server.stdin.write(json.dumps(request) + '\n')
        server.stdin.flush()
        pid = self._reply(server, 'pid', 60)
        try:
            status = self._reply(server, 'status', timeout)
        except subprocess.TimeoutExpired:
            os.kill(pid, signal.SIGKILL)
            self._reply(server, 'status', 60)
            raise subprocess.TimeoutExpired([sys.executable, *args], timeout) from None
        with open(out) as f_out, open(err) as f_err:
            stdout, stderr = f_out.read(), f_err.read()
        code = os.waitstatus_to_exitcode(status)
        return subprocess.CompletedProcess([sys.executable, *args], code, stdout, stderr)

    @staticmethod
    def _reply(server: subprocess.Popen, key: str, timeout: float):
        ready, _, _ = select.select([server.stdout], [], [], timeout)
        if not ready:
            raise subprocess.TimeoutExpired(server.args, timeout)
        line = server.stdout.readline()
        if not line:
            raise RuntimeError('tests/tools/tool_server.py ended unexpectedly (its error is above)')
        return json.loads(line)[key]

    def close(self) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.stdin.close()
            self._process.wait(timeout=60)
        self._files.cleanup()


_TOOL_SERVER = ToolServer()


@pytest.fixture(scope='session', autouse=True)
def _close_tool_server():
    yield
    _TOOL_SERVER.close()


def run_tool(
    *args: str, cwd: Path, timeout: int = 600, fresh: bool = False
) -> subprocess.CompletedProcess:
    """Run a script of tools/ as ``python SCRIPT ARGS`` would, in a process of its own forked
    from one that has imported torch, mmengine and mmaction_ft already (``tool_server.py``:
    7 s of imports less per run); the result is what ``subprocess.run`` gives.

    ``fresh=True`` starts a new interpreter instead, as a user does: a few tests per tool do,
    so a tool that depends on an import the server made would fail there.
    """
    if fresh:
        return subprocess.run(
            [sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout
        )
    return _TOOL_SERVER.run(args, cwd, timeout)


@pytest.fixture(scope='session')
def tiny_demo(tmp_path_factory) -> dict:
    """4 train + 2 val videos for each of the 8 source motions, 32 px, and a config for them."""
    root = tmp_path_factory.mktemp('tiny_demo')
    data = make_demo_dataset(
        str(root / 'data'),
        class_set='source',
        videos_per_class=6,
        val_per_class=2,
        num_frames=12,
        size=64,
        formats=('videos',),
    )
    config = root / 'tiny_tsn.py'
    config.write_text(f"""
_base_ = [{str(REPO / 'configs/demo/tsn_r18_demo_pretrain.py')!r}]
ann_train = {data['train_list_videos']!r}
ann_val = {data['val_list_videos']!r}
prefix = dict(video={data['videos_prefix']!r})
label_map = {data['label_map']!r}
train_dataloader = dict(batch_size=8, num_workers=0, persistent_workers=False,
    dataset=dict(ann_file=ann_train, data_prefix=prefix, label_map=label_map))
val_dataloader = dict(batch_size=8, num_workers=0, persistent_workers=False,
    dataset=dict(ann_file=ann_val, data_prefix=prefix, label_map=label_map))
# Tested with the validation views, so tools/test.py must reproduce the logged val accuracy.
test_dataloader = dict(batch_size=8, num_workers=0, persistent_workers=False,
    dataset=dict(ann_file=ann_val, data_prefix=prefix, label_map=label_map,
                 pipeline={{{{_base_.val_pipeline}}}}))
train_cfg = dict(max_epochs=3, val_interval=1)
optim_wrapper = dict(optimizer=dict(lr=0.001))
param_scheduler = [dict(type='MultiStepLR', milestones=[2], gamma=0.1, by_epoch=True)]
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=1, max_keep_ckpts=5))
""")
    return dict(root=root, config=config, **data)


@pytest.fixture(scope='session')
def tiny_trained(tiny_demo, tmp_path_factory) -> tuple:
    """``tools/train.py`` on the tiny demo (3 epochs, seed 0, validation after each epoch): its
    work dir and console output, shared by the tests that need a trained model. A test that
    changes the work dir works on a copy."""
    work_dir = tmp_path_factory.mktemp('tiny_trained')
    result = run_tool(
        'tools/train.py', str(tiny_demo['config']), '--work-dir', str(work_dir), '--seed', '0',
        cwd=REPO,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return work_dir, result.stdout + result.stderr
