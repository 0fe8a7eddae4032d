"""Checkpoint files in a work dir: written atomically, and the newest intact one found again.

A checkpoint is written under a temporary name in the same directory, flushed to disk (fsync)
and renamed into place, so ``epoch_3.pth`` either does not exist or is complete. The work dir's
``last_checkpoint`` file is replaced the same way, after the checkpoint, and old checkpoints
(``max_keep_ckpts``) are deleted only after both (:class:`~mmaction_ft.engine.hooks.
ActionCheckpointHook`), as is the previous ``best_*.pth``. A run killed at any moment thus
leaves a checkpoint to resume from; the temporary file it may leave behind is deleted when the
next run starts in that work dir (:func:`remove_interrupted_writes`).

:func:`find_resumable_checkpoint` is what ``--resume`` without a path uses: the checkpoint named
by ``last_checkpoint`` when it is intact, otherwise the newest intact ``.pth`` of the work dir,
with a warning saying what was wrong and which file is used instead.
"""

import contextlib
import glob
import logging
import os
import os.path as osp
import zipfile
from typing import Iterator, List, Optional

from mmengine.logging import print_log

__all__ = [
    'checkpoint_damage',
    'find_resumable_checkpoint',
    'remove_interrupted_writes',
    'replace_durably',
    'temporary_name',
    'write_text_atomic',
    'written_atomically',
]

# Prefix of the temporary files a checkpoint is written to (never picked up as a checkpoint).
TMP_PREFIX = '.tmp-'


def temporary_name(filename: str) -> str:
    """The temporary name ``filename`` is written under before it is renamed into place."""
    return f'{TMP_PREFIX}{os.getpid()}-{filename}'


def _is_running(pid: int) -> bool:
    try:
        os.kill(pid, 0)  # signal 0: only checks that the process exists
    except ProcessLookupError:
        return False
    except PermissionError:  # it exists, under another user
        return True
    return True


def remove_interrupted_writes(directory: str) -> List[str]:
    """Delete the temporary files of writers that died (killed mid-save); return their paths.

    A temporary name carries its writer's process id (:func:`temporary_name`); the files of
    this process and of running processes are kept.
    """
    removed = []
    for path in sorted(glob.glob(osp.join(glob.escape(directory), f'{TMP_PREFIX}*'))):
        pid = osp.basename(path)[len(TMP_PREFIX) :].split('-', 1)[0]
        if not pid.isdigit() or int(pid) == os.getpid() or _is_running(int(pid)):
            continue
        with contextlib.suppress(FileNotFoundError):
            os.remove(path)
            removed.append(path)
    return removed


def _fsync_dir(directory: str) -> None:
    try:
        fd = os.open(directory or '.', os.O_RDONLY)
    except OSError:  # not possible on every platform (Windows); the rename is still atomic
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def replace_durably(tmp_path: str, path: str) -> None:
    """fsync ``tmp_path``, rename it to ``path`` (atomic on one file system), fsync the folder."""
    with open(tmp_path, 'rb+') as f:
        os.fsync(f.fileno())
    os.replace(tmp_path, path)
    _fsync_dir(osp.dirname(path))


@contextlib.contextmanager
def written_atomically(path: str) -> Iterator[str]:
    """Yield a temporary path next to ``path`` to write; on success it replaces ``path``
    durably (:func:`replace_durably`), and it never outlives the block."""
    tmp_path = osp.join(osp.dirname(path), temporary_name(osp.basename(path)))
    try:
        yield tmp_path
        replace_durably(tmp_path, path)
    finally:
        if osp.exists(tmp_path):
            os.remove(tmp_path)


def write_text_atomic(path: str, text: str) -> None:
    """Replace the text file ``path`` with ``text`` so that it is never seen half written."""
    with written_atomically(path) as tmp_path:
        with open(tmp_path, 'w') as f:
            f.write(text)


def checkpoint_damage(path: str) -> Optional[str]:
    """Why the file ``path`` cannot be a complete ``torch.save`` checkpoint, or None if it can.

    Checks the zip container torch writes (its central directory, which is written last, and
    the CRC of every entry) without unpickling anything.
    """
    if not osp.isfile(path):
        return 'the file does not exist'
    if osp.getsize(path) == 0:
        return 'the file is empty'
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except zipfile.BadZipFile:
        with open(path, 'rb') as f:
            magic = f.read(4)
        if magic == b'PK\x03\x04':
            return 'the file is truncated (its zip directory is missing)'
        return 'the file is not a torch.save checkpoint (or is corrupt)'
    except (OSError, RuntimeError) as err:
        return f'the file is corrupt ({err})'
    if bad is not None:
        return f'the file is corrupt (entry {bad} fails its CRC check)'
    return None


def _candidates(work_dir: str) -> List[str]:
    """``.pth`` files of ``work_dir``, newest first; regular checkpoints before ``best_*``.

    A ``best_*.pth`` is saved without the optimizer state, so it is used only when nothing
    else is left.
    """
    paths = [
        p
        for p in glob.glob(osp.join(glob.escape(work_dir), '*.pth'))
        if not osp.basename(p).startswith(TMP_PREFIX)
    ]
    return sorted(
        paths,
        key=lambda p: (not osp.basename(p).startswith('best_'), osp.getmtime(p), p),
        reverse=True,
    )


def has_checkpoint_files(work_dir: str) -> bool:
    """Whether ``work_dir`` holds anything ``--resume`` could continue from: a ``.pth`` file, or
    a ``last_checkpoint`` naming an existing file (intact or not: :func:`find_resumable_checkpoint`
    decides, and says why)."""
    pointer = osp.join(work_dir, 'last_checkpoint')
    if osp.isfile(pointer):
        with open(pointer) as f:
            latest = f.read().strip()
        if latest and osp.exists(latest):
            return True
    return bool(_candidates(work_dir))


def find_resumable_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint ``--resume`` continues from, or None when ``work_dir`` has none.

    The file named in ``work_dir/last_checkpoint`` when it is intact. Otherwise (the file is
    missing, truncated, or ``last_checkpoint`` is empty or absent while checkpoints exist) the
    newest intact ``.pth`` in ``work_dir``, with a warning naming what was wrong and the file used.

    Raises:
        RuntimeError: ``work_dir`` holds checkpoints but none is intact (starting a new run
            over them is left to the user).
    """
    pointer = osp.join(work_dir, 'last_checkpoint')
    problem = None
    if osp.isfile(pointer):
        with open(pointer) as f:
            latest = f.read().strip()
        if not latest:
            problem = f'{pointer} is empty'
        else:
            damage = checkpoint_damage(latest)
            if damage is None:
                return latest
            problem = f'the latest checkpoint {latest} (from {pointer}) is unusable: {damage}'

    damaged = []
    for path in _candidates(work_dir):
        damage = checkpoint_damage(path)
        if damage is None:
            if problem is None:
                problem = f'{pointer} does not exist'
            skipped = ''.join(f'\n  skipped {p}: {d}' for p, d in damaged)
            print_log(
                f'--resume: {problem}; resuming from the newest intact checkpoint {path} '
                f'instead{skipped}',
                logger='current',
                level=logging.WARNING,
            )
            return path
        damaged.append((path, damage))
    if damaged:
        details = ''.join(f'\n  {p}: {d}' for p, d in damaged)
        raise RuntimeError(
            f'--resume: {problem or f"{pointer} does not exist"}, and no checkpoint in '
            f'{work_dir} is intact:{details}\nMove them away to start a new run.'
        )
    if problem is not None:
        print_log(f'--resume: {problem}', logger='current', level=logging.WARNING)
    return None
