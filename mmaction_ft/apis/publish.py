"""Turning a training checkpoint into a model-zoo file: ``name-<sha256 prefix>.pth``.

A training checkpoint also holds the optimizer state, the message hub (logged scalars) and the
LR schedulers' state, two to three times the weights. A published file keeps ``state_dict`` and
``meta`` (the config and class names inference reads, see ``checkpoint_meta``) and carries the
first 8 hex digits of its sha256 in its name, as MMAction2's model-zoo files do
(``tsn_..._20220906-cd10898e.pth``); ``engine.checkpoint_download`` checks that prefix when it
downloads the file.
"""

import hashlib
import os
import os.path as osp
import tempfile
from typing import List, NamedTuple

import torch

from mmaction_ft.engine.checkpoint import load_checkpoint_file
from mmaction_ft.engine.checkpoint_download import expected_hash_prefix
from mmaction_ft.engine.checkpoint_files import replace_durably

__all__ = ['HASH_LENGTH', 'KEPT_KEYS', 'Published', 'file_sha256', 'publish_checkpoint']

KEPT_KEYS = ('meta', 'state_dict')
HASH_LENGTH = 8  # hex digits, as in the OpenMMLab and torch.hub file names
_CHUNK = 1 << 20


class Published(NamedTuple):
    """What :func:`publish_checkpoint` wrote.

    Attributes:
        path: ``<out_name>-<sha8>.pth``.
        dropped: The top-level keys of the input that were left out.
        missing_meta: What inference will lack: ``'cfg'`` and/or ``'classes'`` when the meta does
            not carry the config text / the class names.
    """

    path: str
    dropped: List[str]
    missing_meta: List[str]


def file_sha256(path: str) -> str:
    """Hex sha256 of a file's bytes."""
    sha256 = hashlib.sha256()
    with open(path, 'rb') as f:
        while chunk := f.read(_CHUNK):
            sha256.update(chunk)
    return sha256.hexdigest()


def publish_checkpoint(in_file: str, out_name: str) -> Published:
    """Write ``in_file``'s weights and meta as ``<out_name>-<sha8>.pth``.

    Args:
        in_file: A checkpoint written by training (or any file with a ``state_dict``).
        out_name: The output path without the hash; a ``.pth`` extension is optional.

    Returns:
        The path written, the dropped keys and what the meta lacks for inference.

    Raises:
        KeyError: ``in_file`` holds no ``state_dict``.
        ValueError: ``out_name`` already ends in a hash suffix.
    """
    checkpoint = load_checkpoint_file(in_file)
    if not isinstance(checkpoint, dict) or not isinstance(checkpoint.get('state_dict'), dict):
        raise KeyError(f'{in_file} has no state_dict to publish')
    stem = out_name[: -len('.pth')] if out_name.endswith('.pth') else out_name
    if expected_hash_prefix(stem + '.pth') is not None:
        raise ValueError(
            f'{out_name!r} already ends in a hash suffix; give the name without it, '
            'the hash of the new file is appended'
        )
    published = {key: checkpoint[key] for key in KEPT_KEYS if key in checkpoint}
    dropped = sorted(key for key in checkpoint if key not in KEPT_KEYS)

    out_dir = osp.dirname(osp.abspath(stem))
    os.makedirs(out_dir, exist_ok=True)
    fd, partial = tempfile.mkstemp(prefix='.publish.', suffix='.partial', dir=out_dir)
    os.close(fd)
    try:
        torch.save(published, partial)
        final = f'{stem}-{file_sha256(partial)[:HASH_LENGTH]}.pth'
        replace_durably(partial, final)
    finally:
        if osp.exists(partial):
            os.remove(partial)
    meta = published.get('meta') or {}
    missing = [] if meta.get('cfg') else ['cfg']
    missing += [] if (meta.get('dataset_meta') or {}).get('classes') else ['classes']
    return Published(final, dropped, missing)
