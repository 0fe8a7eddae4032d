"""Reading checkpoint files: where they come from, and safe unpickling.

A source is a local path, an ``http(s)://`` URL, ``torchvision://NAME`` or ``hf://FOLDER``
(a local Hugging Face folder). ``torchvision://`` image models (``resnet50``,
``resnet50.imagenet1k_v2``) are found through mmengine's table and read as they are; torchvision's
video models and ``hf://`` folders are converted to mmaction_ft's keys on reading. URLs are
downloaded once into the torch hub cache and checked against the hash in their file name
(:mod:`~mmaction_ft.engine.checkpoint_download`, whose names this module also exports).

Files are unpickled with ``torch.load(weights_only=True)``: only tensors, plain containers and the
few metadata types that mmengine training checkpoints carry (listed in ``_trusted_globals``) can be
rebuilt. Anything else is refused unless the caller opts in with ``weights_only=False``
(``load_cfg = dict(weights_only=False)`` in a config), because unpickling can run code stored in
the file.

Importing this module registers the same safe reading as mmengine's ``CheckpointLoader``
schemes for local paths, http(s) URLs and ``torchvision://`` (see
``_register_mmengine_schemes``), so mmengine code
paths such as ``init_cfg=dict(type='Pretrained', ...)`` use the allow-list too.

Putting the tensors into a model is ``mmaction_ft.engine.weight_loading``.
"""

import os
import os.path as osp
import pickle
import re
from collections import OrderedDict
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

import torch

from .checkpoint_download import (
    CheckpointDownloadError,
    ChecksumMismatchError,
    config_key_of,
    config_keys_of_sources,
    default_cache_dir,
    download_checkpoint,
    expected_hash_prefix,
    is_torchvision_video_model,
    torchvision_url,
    torchvision_weights,
)

__all__ = [
    'CheckpointDownloadError',
    'ChecksumMismatchError',
    'UnsafeCheckpointError',
    'config_keys_of_sources',
    'default_cache_dir',
    'download_checkpoint',
    'expected_hash_prefix',
    'get_state_dict',
    'is_torchvision_video_model',
    'load_checkpoint_file',
    'register_source_converter',
    'torchvision_url',
    'torchvision_weights',
]

_OPT_IN = (
    'If you trust this file, load it with weights_only=False '
    '(in a config: load_cfg = dict(weights_only=False)).'
)

MapLocation = Union[str, torch.device, Callable, dict, None]
# A local folder (or weights file) in Hugging Face transformers' layout; nothing is downloaded.
HF_SCHEME = 'hf://'
TORCHVISION_SCHEME = 'torchvision://'
# scheme -> converter, filled by mmaction_ft.models.converters (register_source_converter).
_SOURCE_CONVERTERS: Dict[str, Callable] = {}


class UnsafeCheckpointError(pickle.UnpicklingError):
    """A checkpoint needs arbitrary unpickling (a global outside the allow-list) to load."""


# ------------------------------------------------------------------ safe unpickling allow-list


def _history_buffer_statistic(owner: Any, name: str) -> Callable:
    """Stand-in for ``builtins.getattr`` while unpickling, limited to HistoryBuffer methods.

    mmengine's ``HistoryBuffer.__getstate__`` pickles its statistics methods as
    ``getattr(HistoryBuffer, 'mean')``. Allowing the real ``getattr`` would let a file reach any
    attribute of any allowed object, and ``HistoryBuffer.__setstate__`` copies these functions
    into a class-level table that mmengine calls later; so only the four built-in statistics are
    resolvable.
    """
    from mmengine.logging import HistoryBuffer

    if owner is HistoryBuffer and name in ('min', 'max', 'current', 'mean'):
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'Unsupported global: GLOBAL builtins.getattr (asked for {name!r} of {owner!r}; only '
        'the built-in statistics of mmengine.logging.HistoryBuffer are allowed)'
    )


def _trusted_globals() -> List[Union[Callable, Tuple[Callable, str]]]:
    """The non-tensor globals allowed in a checkpoint, found by saving mmengine Runner checkpoints.

    torch's weights-only unpickler already accepts tensors, storages, ``OrderedDict`` and builtin
    containers/scalars. An mmengine training checkpoint (``message_hub``) additionally holds:

    - ``HistoryBuffer`` objects (the logged scalars), whose state holds numpy arrays and the
      pickled statistics methods (``getattr``, see ``_history_buffer_statistic``);
    - numpy arrays (``_reconstruct``, ``ndarray``, ``dtype`` plus the concrete dtype classes
      float64/int64 that the history arrays use) and numpy scalars (``scalar``, e.g. the ``eta``
      float64 in ``runtime_info``).

    Files written with numpy 1.x name the same functions ``numpy.core.multiarray.*``, hence the
    aliases (older MMAction2 checkpoints carry numpy scalars in their meta).
    """
    import numpy as np
    from mmengine.logging import HistoryBuffer

    multiarray = np._core.multiarray  # numpy >= 2
    return [
        HistoryBuffer,
        (_history_buffer_statistic, 'builtins.getattr'),
        np.ndarray,
        np.dtype,
        # The dtype classes of bool and numeric scalars/arrays (np.float32, np.int64 ...).
        *_NUMERIC_DTYPES(np),
        multiarray._reconstruct,
        multiarray.scalar,
        (multiarray._reconstruct, 'numpy.core.multiarray._reconstruct'),
        (multiarray.scalar, 'numpy.core.multiarray.scalar'),
    ]


def _NUMERIC_DTYPES(np) -> list:  # noqa: N802 (reads like the constant it stands for)
    names = ['Bool'] + [f'{kind}{bits}' for kind in ('Int', 'UInt') for bits in (8, 16, 32, 64)]
    names += ['Float16', 'Float32', 'Float64', 'LongDouble', 'Complex64', 'Complex128']
    return [
        getattr(np.dtypes, f'{name}DType') for name in names if hasattr(np.dtypes, f'{name}DType')
    ]


# torch's weights-only unpickler words its refusals like these.
_REFUSAL_PATTERNS = (
    re.compile(r'Unsupported global: GLOBAL ([\w.]+)'),
    re.compile(r"Can only (?:build|create new object for)[^<]*<class '([\w.]+)'>"),
    re.compile(r'unrecognized function ([^\s]+)'),
    re.compile(r'GLOBAL ([\w.]+) whose module'),
)


def _offending_global(message: str) -> Optional[str]:
    for pattern in _REFUSAL_PATTERNS:
        match = pattern.search(message)
        if match:
            return match.group(1)
    return None


def _torch_load(path: str, map_location: MapLocation, weights_only: bool) -> Any:
    try:
        return _torch_load_file(path, map_location, weights_only)
    except (RuntimeError, EOFError, OSError, pickle.UnpicklingError) as err:
        # torch's zip errors ("failed finding central directory", "Invalid argument") do not
        # name the file.
        from .checkpoint_files import checkpoint_damage

        if isinstance(err, (UnsafeCheckpointError, FileNotFoundError, PermissionError)) or (
            path in str(err)
        ):
            raise  # already names the file
        damage = checkpoint_damage(path)
        if damage is None:
            raise
        error = pickle.UnpicklingError if isinstance(err, pickle.UnpicklingError) else RuntimeError
        raise error(
            f'cannot read checkpoint file {path}: it is damaged, {damage} '
            f'({type(err).__name__}: {str(err).splitlines()[0] if str(err) else ""})'
        ) from None


def _torch_load_file(path: str, map_location: MapLocation, weights_only: bool) -> Any:
    if not weights_only:
        return torch.load(path, map_location=map_location, weights_only=False)
    try:
        with torch.serialization.safe_globals(_trusted_globals()):
            return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as err:
        offending = _offending_global(str(err))
        if offending is None:
            # Drop torch's generic advice to retry with weights_only=False: the file is broken.
            reason = str(err).partition('WeightsUnpickler error:')[2].split('\n\nCheck the')[0]
            raise pickle.UnpicklingError(
                f'cannot read checkpoint file {path} (not a torch.save file, or corrupt): '
                f'{reason.strip() or err}'
            ) from None
        raise UnsafeCheckpointError(
            f'refusing to load {path}: it contains the global {offending!r}, which is not one '
            'of the tensor/metadata types mmaction_ft accepts from a checkpoint, and unpickling '
            f'it could run arbitrary code stored in the file. {_OPT_IN}'
        ) from None


# ------------------------------------------------------------------ sources


def _local_path(source: str, cache_dir: Optional[str], config_key: Optional[str] = None) -> str:
    if source.startswith((TORCHVISION_SCHEME, 'http://', 'https://')):
        url = source
        if source.startswith(TORCHVISION_SCHEME):
            url = torchvision_url(source[len(TORCHVISION_SCHEME) :])
        # The key travels by URL, so download_checkpoint keeps its two-argument call.
        config_key = config_key or config_key_of(source)
        with config_keys_of_sources({url: config_key} if config_key else {}):
            return download_checkpoint(url, cache_dir)
    if '://' in source:
        raise ValueError(
            f'unsupported checkpoint source {source!r}: use a local path, an http(s):// URL, '
            'torchvision://NAME or hf://LOCAL_FOLDER'
        )
    path = osp.expanduser(source)
    if not osp.isfile(path):
        raise FileNotFoundError(f'checkpoint file not found: {path}')
    return path


def load_checkpoint_file(
    source: str,
    map_location: MapLocation = 'cpu',
    weights_only: bool = True,
    cache_dir: Optional[str] = None,
    config_key: Optional[str] = None,
) -> dict:
    """Read a checkpoint from a local path, an ``http(s)://`` URL, ``torchvision://NAME`` or
    ``hf://FOLDER``.

    Files from elsewhere come back as mmaction_ft checkpoints (``state_dict`` in a recognizer's
    keys, ``meta`` with the class names and ``converted_from``), converted by a pure function
    per source: torchvision's video models (``torchvision://r3d_18``) and Hugging Face
    ``VideoMAEForVideoClassification`` folders (``hf://path/to/folder``, local only).
    torchvision's image weights (``torchvision://resnet50``, found through mmengine's table, see
    :func:`torchvision_url`) stay as they are: the backbones map or inflate them. The
    converters are registered by ``mmaction_ft.models.converters``
    (:func:`register_source_converter`).

    Args:
        source: Where the checkpoint is.
        map_location: Passed to ``torch.load`` (and where safetensors files are put).
        weights_only: Refuse pickled objects other than tensors, containers and the mmengine
            metadata types in ``_trusted_globals``. Set False only for files you trust.
        cache_dir: Download cache for URLs; defaults to ``$TORCH_HOME/hub/checkpoints``.
        config_key: The config key that names ``source`` (``'load_from'`` ...), named when a
            URL cannot be downloaded; None: the one :func:`config_keys_of_sources` set, if any.

    Returns:
        What the file holds: a training checkpoint (``meta``, ``state_dict``, ``optimizer``...)
        or a bare state dict.

    Raises:
        FileNotFoundError: ``source`` is a local path that does not exist.
        UnsafeCheckpointError: The file needs arbitrary unpickling and ``weights_only`` is True.
        ChecksumMismatchError: A downloaded file does not match the hash in its name.
        CheckpointDownloadError: A URL cannot be fetched.
    """
    if source.startswith(HF_SCHEME):
        reader = _source_converter(HF_SCHEME)
        return reader(source[len(HF_SCHEME) :], map_location, weights_only)
    path = _local_path(source, cache_dir, config_key)
    checkpoint = _torch_load(path, map_location, weights_only)
    name = source[len(TORCHVISION_SCHEME) :]
    if source.startswith(TORCHVISION_SCHEME) and is_torchvision_video_model(name):
        convert = _source_converter(TORCHVISION_SCHEME)
        checkpoint = convert(torchvision_weights(name), checkpoint, source)
    return checkpoint


def register_source_converter(scheme: str, converter: Callable) -> Callable:
    """Register how files of ``scheme`` become mmaction_ft checkpoints.

    The converters live with the models they convert to (``mmaction_ft.models.converters``
    registers ``torchvision://`` and ``hf://`` when imported); the engine only dispatches.

    Args:
        scheme: ``'torchvision://'`` (``converter(weights, checkpoint, source)`` after the file
            is read) or ``'hf://'`` (``converter(path, map_location, weights_only)`` reads it).
        converter: The function.

    Returns:
        ``converter``.
    """
    if scheme not in (TORCHVISION_SCHEME, HF_SCHEME):
        raise ValueError(f'no converted source scheme {scheme!r}')
    _SOURCE_CONVERTERS[scheme] = converter
    return converter


def _source_converter(scheme: str) -> Callable:
    if scheme not in _SOURCE_CONVERTERS:
        # The models package registers them; build-time registry imports may not have run yet.
        from mmaction_ft.registry import MODELS

        MODELS.import_from_location()
    return _SOURCE_CONVERTERS[scheme]


def get_state_dict(checkpoint: Any) -> 'OrderedDict[str, torch.Tensor]':
    """The model tensors of a checkpoint, with DDP's ``module.`` prefix removed.

    Args:
        checkpoint: What :func:`load_checkpoint_file` returned: a dict holding ``state_dict``
            (mmengine / MMAction2) or ``model`` (some other codebases), or a bare state dict.
    """
    if not isinstance(checkpoint, dict):
        raise TypeError(f'a checkpoint must be a dict, got {type(checkpoint).__name__}')
    state_dict = checkpoint
    for key in ('state_dict', 'model'):
        if isinstance(checkpoint.get(key), dict):
            state_dict = checkpoint[key]
            break
    unwrapped = OrderedDict((_strip_ddp(key), value) for key, value in state_dict.items())
    # load_state_dict reads per-module versions (e.g. BatchNorm's) from _metadata.
    metadata = getattr(state_dict, '_metadata', None)
    if metadata is not None:
        unwrapped._metadata = OrderedDict(
            ('' if key == 'module' else _strip_ddp(key), value) for key, value in metadata.items()
        )
    return unwrapped


def _strip_ddp(key: str) -> str:
    return key[len('module.') :] if key.startswith('module.') else key


# ------------------------------------------------------------------ mmengine's CheckpointLoader
#
# mmengine code paths that read a checkpoint by name (``mmengine.runner.load_checkpoint``, the
# ``Pretrained`` initialiser of ``init_cfg``, ``CheckpointLoader.load_checkpoint``) dispatch by
# prefix. Its built-in local and http(s) loaders call ``torch.load`` with torch's default, which
# is weights-only since torch 2.6 (our minimum) but without the metadata types above, so they
# refuse mmengine's own training checkpoints. The loaders below replace those two schemes
# process-wide: same policy (weights-only, honouring torch's TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD
# opt-out as a plain ``torch.load`` call would), the allow-list added, and downloads through
# :func:`download_checkpoint` (hash check, one download per node). ``torchvision://`` (and its
# deprecated spelling ``modelzoo://``) is replaced the same way: mmengine's loader calls its own
# ``load_from_http`` directly, so the http replacement alone would not cover it. It resolves
# names as mmengine does, through mmengine's table (:func:`torchvision_url`), and returns the
# file's own keys: only :func:`load_checkpoint_file` converts video models. ``open-mmlab://``
# and the other mmengine schemes are left as they are.


def _torch_default_weights_only() -> bool:
    """What ``torch.load`` without ``weights_only`` would use (torch >= 2.6)."""
    opt_out = os.environ.get('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '0')
    return opt_out.lower() not in ('1', 'y', 'yes', 'true')


def load_from_safe_local(filename: str, map_location: MapLocation = None) -> Any:
    """mmengine ``CheckpointLoader`` scheme for local paths (prefix ``''``)."""
    path = osp.expanduser(filename)
    if not osp.isfile(path):
        raise FileNotFoundError(f'checkpoint file not found: {path}')
    return _torch_load(path, map_location, _torch_default_weights_only())


def load_from_safe_http(filename: str, map_location: MapLocation = None) -> Any:
    """mmengine ``CheckpointLoader`` scheme for ``http://`` and ``https://`` URLs."""
    path = _local_path(filename, None)
    return _torch_load(path, map_location, _torch_default_weights_only())


def load_from_safe_torchvision(filename: str, map_location: MapLocation = None) -> Any:
    """mmengine ``CheckpointLoader`` scheme for ``torchvision://NAME`` (and ``modelzoo://NAME``):
    the file :func:`torchvision_url` names, with torchvision's own keys."""
    name = filename.partition('://')[2]
    path = _local_path(TORCHVISION_SCHEME + name, None, config_key_of(filename))
    return _torch_load(path, map_location, _torch_default_weights_only())


def _register_mmengine_schemes() -> None:
    from mmengine.runner.checkpoint import CheckpointLoader

    CheckpointLoader.register_scheme(prefixes='', loader=load_from_safe_local, force=True)
    CheckpointLoader.register_scheme(
        prefixes=('http://', 'https://'), loader=load_from_safe_http, force=True
    )
    CheckpointLoader.register_scheme(
        prefixes=('modelzoo://', TORCHVISION_SCHEME), loader=load_from_safe_torchvision, force=True
    )


_register_mmengine_schemes()
