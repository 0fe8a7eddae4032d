"""A process that has imported what every tool imports and runs each tool in a child of its own.

Starting a tool in a new interpreter spends about 7 s on imports here (torch, mmengine,
every registered mmaction_ft module): most of the end-to-end tests' time, and most of the test
suite's. This server imports them once; for each request it forks, and the child runs the
script as ``python SCRIPT ARGS`` would (``__main__``, ``sys.argv``, ``sys.path[0]``, working
directory, environment, stdin from /dev/null, stdout and stderr into files) and exits with the
script's exit status. The server itself never runs a torch operation, so each child starts
torch's thread pools fresh, as a new interpreter does.

Protocol, one JSON object per line: the request ``{"args", "cwd", "env", "stdout",
"stderr"}`` on stdin; the replies ``{"pid"}`` after the fork and ``{"status"}`` (the wait
status) when the child has ended, on stdout.
"""

import json
import os
import runpy
import sys
import traceback

import cv2  # noqa: F401
import mmengine.runner  # noqa: F401
import torch  # noqa: F401

import mmaction_ft.apis  # noqa: F401
from mmaction_ft.datasets.video_io import import_decord
from mmaction_ft.utils import register_all_modules

import_decord()
register_all_modules(init_default_scope=False)  # imports only: no default scope is set


def _run_child(request: dict) -> None:
    """In the forked child: become ``python SCRIPT ARGS`` and exit with its status."""
    os.chdir(request['cwd'])
    os.environ.clear()
    os.environ.update(request['env'])
    devnull = os.open(os.devnull, os.O_RDONLY)
    os.dup2(devnull, 0)
    os.close(devnull)
    sys.stdin = open(os.devnull)  # noqa: SIM115  (the child's stdin for its whole life)
    for fd, path in ((1, request['stdout']), (2, request['stderr'])):
        out = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
        os.dup2(out, fd)
        os.close(out)
    script, *args = request['args']
    sys.argv = [script, *args]
    sys.path[0] = os.path.dirname(os.path.abspath(script))
    try:
        runpy.run_path(script, run_name='__main__')
    except SystemExit:
        raise  # the interpreter turns it into the exit status, as for a script
    except BaseException:
        traceback.print_exc()
        sys.exit(1)
    sys.exit(0)


def main() -> None:
    for line in sys.stdin:
        request = json.loads(line)
        sys.stdout.flush()
        sys.stderr.flush()
        pid = os.fork()
        if pid == 0:
            _run_child(request)  # never returns
        print(json.dumps({'pid': pid}), flush=True)
        _, status = os.waitpid(pid, 0)
        print(json.dumps({'status': status}), flush=True)


if __name__ == '__main__':
    main()
