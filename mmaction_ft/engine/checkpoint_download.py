"""Checkpoint URLs: the download cache, ``torchvision://`` names, hash checks, helpful errors.

URLs are downloaded once into the torch hub cache (``$TORCH_HOME/hub/checkpoints``, shared
with torchvision and mmengine) by ``torch.hub.download_url_to_file`` and, when the file name
carries a hash suffix (``..._20200614-e508be42.pth``), checked against the sha256 of the
downloaded bytes. Under ``torch.distributed`` only local rank 0 of each node downloads; the
others wait at a barrier and read the cached file. A URL that cannot be fetched is a
:class:`CheckpointDownloadError` naming the URL, the config key that asked for it (passed as
``config_key``, or set for a whole block by :func:`config_keys_of_sources`) and how to use a
local copy instead. ``torchvision://NAME`` resolves to its URL here (:func:`torchvision_url`).

Reading the downloaded file is :mod:`mmaction_ft.engine.checkpoint`.
"""

import contextlib
import contextvars
import difflib
import http.client
import os
import os.path as osp
import re
import sys
import urllib.error
import urllib.parse
from typing import Iterator, Mapping, Optional

import torch
from mmengine.dist import barrier, get_dist_info
from mmengine.logging import print_log

# ``-<hex>.`` right before the extension of the file name: the first hex digits of the file's
# sha256 (the OpenMMLab model-zoo and torch.hub naming convention).
# At least one letter a-f: '..._20200614-e508be42.pth' carries a hash, '...-20200614.pth' a date.
_HASH_SUFFIX = re.compile(r'-((?=[0-9]*[a-f])[0-9a-f]{8,64})\.[^.]+$')
# source -> the config key that names it, for download errors (see config_keys_of_sources).
_SOURCE_KEYS: contextvars.ContextVar[Optional[Mapping[str, str]]] = contextvars.ContextVar(
    '_SOURCE_KEYS', default=None
)
# What a failed fetch raises (torch.hub uses urllib): no route or DNS (URLError), an HTTP error
# status (HTTPError, a URLError), a dropped or stalled connection, a truncated body.
_FETCH_ERRORS = (urllib.error.URLError, http.client.HTTPException, ConnectionError, TimeoutError)


class ChecksumMismatchError(RuntimeError):
    """The sha256 of a downloaded file does not start with the hash in its file name."""


class CheckpointDownloadError(OSError):
    """A checkpoint URL could not be fetched (offline, refused, HTTP error status ...)."""


def default_cache_dir() -> str:
    """``$TORCH_HOME/hub/checkpoints``: where torchvision and mmengine keep downloaded weights."""
    return osp.join(torch.hub.get_dir(), 'checkpoints')


def is_torchvision_video_model(name: str) -> bool:
    """Whether ``torchvision://name`` names one of torchvision's video classifiers
    (``torchvision.models.video``: ``r3d_18``, ``R3D_18_Weights.KINETICS400_V1``, ...), whose
    files are converted to a recognizer's keys on reading. Every other name is an image model,
    read as it is (the backbones inflate or map it)."""
    import torchvision

    model_name = _torchvision_table_key(name).partition('.')[0]
    return model_name in torchvision.models.list_models(module=torchvision.models.video)


def _torchvision_table_key(name: str) -> str:
    """``name`` as mmengine's table spells it: ``'ResNet50_Weights.IMAGENET1K_V2'`` and
    ``'resnet50.IMAGENET1K_V2'`` -> ``'resnet50.imagenet1k_v2'``; ``'resnet50'`` stays."""
    if '_Weights.' in name:
        model_name, _, entry = name.partition('_Weights.')
        return f'{model_name.lower()}.{entry.lower()}'
    model_name, dot, entry = name.partition('.')
    return model_name + dot + entry.lower()


def torchvision_weights(name: str):
    """torchvision's weights entry (a ``WeightsEnum`` member) for a video model ``name``.

    Args:
        name: What follows ``torchvision://``: a model name (``'r3d_18'``), optionally with the
            entry (``'r3d_18.kinetics400_v1'``), or the entry's own name
            (``'R3D_18_Weights.KINETICS400_V1'``). Without an entry, a model gets its
            ``DEFAULT`` (Kinetics-400 for the video models), or ``IMAGENET1K_V1`` where it has
            one.
    """
    import torchvision

    if '_Weights.' in name:
        try:
            return torchvision.models.get_weight(name)
        except (KeyError, ValueError, AttributeError) as err:
            raise ValueError(f'torchvision://{name}: torchvision has no weights {name!r}') from err
    model_name, _, entry = name.partition('.')
    try:
        weights = torchvision.models.get_model_weights(model_name)
    except (KeyError, ValueError) as err:
        raise ValueError(
            f'torchvision://{name}: torchvision has no model named {model_name!r}'
        ) from err
    if not entry:
        return (
            weights['IMAGENET1K_V1'] if 'IMAGENET1K_V1' in weights.__members__ else weights.DEFAULT
        )
    entry = entry.upper()
    if entry not in weights.__members__:
        raise ValueError(
            f'torchvision://{name}: {weights.__name__} has no entry {entry!r} '
            f'(available: {", ".join(weights.__members__)})'
        )
    return weights[entry]


def torchvision_url(name: str) -> str:
    """URL of the file ``torchvision://name`` names; its file name carries the hash
    (``resnet50-0676ba61.pth``), checked on download.

    Image models are looked up in mmengine's table (``get_torchvision_models`` in
    ``mmengine.runner.checkpoint``), as MMAction2 configs' ``torchvision://resnet50`` always
    were: the bare name is torchvision 0.12's file (the ``IMAGENET1K_V1`` weights), and
    ``resnet50.imagenet1k_v2``, ``resnet50.default`` or ``ResNet50_Weights.IMAGENET1K_V2``
    choose another entry. Video models resolve through torchvision's weights enum
    (:func:`torchvision_weights`), which their converter also reads.
    """
    if is_torchvision_video_model(name):
        return torchvision_weights(name).url
    from mmengine.runner import checkpoint as mmengine_checkpoint

    table = mmengine_checkpoint.get_torchvision_models()
    key = _torchvision_table_key(name)
    if key in table:
        return table[key]
    model_name = key.partition('.')[0]
    entries = sorted(k for k in table if k.partition('.')[0] == model_name)
    if entries:
        raise ValueError(
            f"torchvision://{name}: mmengine's table of torchvision weights has no entry "
            f'{key!r} (available: {", ".join(entries)})'
        )
    close = difflib.get_close_matches(model_name, {k.partition('.')[0] for k in table}, n=3)
    hint = f' (did you mean {", ".join(close)}?)' if close else ''
    raise ValueError(
        f"torchvision://{name}: torchvision has no model named {model_name!r} in mmengine's "
        f'table of torchvision weights{hint}'
    )


def expected_hash_prefix(filename: str) -> Optional[str]:
    """The sha256 prefix carried by a file name (``resnet50-0676ba61.pth`` -> ``'0676ba61'``)."""
    match = _HASH_SUFFIX.search(osp.basename(filename))
    return match.group(1) if match else None


def _local_rank(rank: int) -> int:
    """This process's rank on its node: ``LOCAL_RANK`` (set by torchrun and by mmengine's
    launchers), else the global rank (one node, as mmengine's ``load_from_http`` assumes)."""
    local = os.environ.get('LOCAL_RANK')
    return int(local) if local is not None and local.isdigit() else rank


def download_checkpoint(
    url: str,
    cache_dir: Optional[str] = None,
    progress: Optional[bool] = None,
    config_key: Optional[str] = None,
) -> str:
    """Download ``url`` into the cache once and return the local path.

    The file keeps the URL's base name, so a file torchvision or mmengine downloaded earlier is
    reused. ``torch.hub.download_url_to_file`` writes the bytes to a temporary file next to the
    target and moves it into place only once complete and verified (a hash suffix in the file
    name is checked), so an interrupted or corrupt download never looks cached.

    Under ``torch.distributed`` (more than one process) every process must call this: local
    rank 0 of each node downloads, the others wait at a barrier and then read the cached file,
    so a URL is fetched once per node (mmengine's ``load_from_http`` does the same).

    Args:
        url: ``http://`` or ``https://`` URL.
        cache_dir: Directory of the cache; defaults to :func:`default_cache_dir`.
        progress: Show a progress bar on stderr; None: when stderr is a terminal.
        config_key: The config key that names this URL (``'load_from'``,
            ``'model.backbone.pretrained'`` ...), for the error when it cannot be fetched;
            None: the one :func:`config_keys_of_sources` set, if any.

    Raises:
        ChecksumMismatchError: The file name carries a hash suffix that the sha256 of the
            downloaded bytes does not start with (the download is deleted).
        CheckpointDownloadError: The URL cannot be fetched (no network, refused, HTTP error).
    """
    cache_dir = cache_dir or default_cache_dir()
    config_key = config_key or config_key_of(url)
    filename = osp.basename(urllib.parse.urlparse(url).path)
    if not filename:
        raise ValueError(f'cannot tell a file name from the URL {url!r}')
    target = osp.join(cache_dir, filename)
    if progress is None:
        progress = sys.stderr.isatty()

    rank, world_size = get_dist_info()
    if world_size == 1:
        return _download_to_cache(url, target, progress, config_key)
    # Every rank reaches the barrier, also when the file is cached or the download fails:
    # a rank that skipped it would leave the others waiting.
    failure: Optional[BaseException] = None
    if _local_rank(rank) == 0:
        try:
            _download_to_cache(url, target, progress, config_key)
        except Exception as err:  # re-raised after the barrier
            failure = err
    barrier()
    if failure is not None:
        raise failure
    if not osp.isfile(target):
        raise RuntimeError(
            f'{url} is not in the cache ({target}) after local rank 0 of this node tried to '
            'download it: its download failed (see the log of local rank 0) or '
            f'{cache_dir} is not shared by the processes of this node'
        )
    if _local_rank(rank) != 0:
        print_log(f'Using {target} (downloaded by local rank 0) for {url}', logger='current')
    return target


def _download_to_cache(url: str, target: str, progress: bool, config_key: Optional[str]) -> str:
    if osp.isfile(target):
        print_log(f'Using cached {target} for {url}', logger='current')
        return target
    os.makedirs(osp.dirname(target), exist_ok=True)
    expected = expected_hash_prefix(target)
    print_log(f'Downloading {url} to {target}', logger='current')
    try:
        torch.hub.download_url_to_file(url, target, hash_prefix=expected, progress=progress)
    except _FETCH_ERRORS as err:
        raise CheckpointDownloadError(_download_failure(url, target, config_key, err)) from None
    except RuntimeError as err:
        if expected is None or 'invalid hash value' not in str(err):
            raise
        # torch.hub: 'invalid hash value (expected "<prefix>", got "<full sha256>")'.
        got = re.search(r'got "([0-9a-f]+)"', str(err))
        actual = (
            f'{got.group(1)[: len(expected)]} (full sha256 {got.group(1)})'
            if got
            else f'another hash ({err})'
        )
        raise ChecksumMismatchError(
            f'download of {url} is corrupt or not the published file: its file name expects '
            f'a sha256 starting with {expected}, the downloaded bytes have {actual}; '
            'the download was deleted'
        ) from None
    return target


def _download_failure(url: str, target: str, config_key: Optional[str], err: Exception) -> str:
    """The message of a failed download: the URL, the config key, why, and the way around it."""
    if isinstance(err, urllib.error.HTTPError):
        reason = f'HTTP Error {err.code}: {err.reason}'
    elif isinstance(err, urllib.error.URLError):
        reason = str(err.reason)  # '[Errno -2] Name or service not known', 'timed out' ...
    else:
        reason = str(err) or type(err).__name__
    local = f'/path/to/{osp.basename(target)}'
    if config_key:
        hint = f'download it yourself and set {config_key}={local!r}'
    else:
        hint = 'download it yourself and give its local path instead of the URL'
    asked = f' ({config_key})' if config_key else ''
    return (
        f'cannot download {url}{asked}: {reason}; to use a local copy, {hint} '
        f'(or put it at {target}, which is read before downloading)'
    )


@contextlib.contextmanager
def config_keys_of_sources(keys: Mapping[str, str]) -> Iterator[None]:
    """Within the block, a download of a source in ``keys`` that fails names its config key.

    For loads whose caller does not know the config (a backbone's ``init_weights`` reading its
    ``pretrained``, mmengine's ``Pretrained`` initialiser): the runner knows which key holds
    which source and sets them around the model initialisation.

    Args:
        keys: Source as written in the config (``'torchvision://resnet50'``, a URL) -> its key
            (``'model.backbone.pretrained'``).
    """
    token = _SOURCE_KEYS.set({**(_SOURCE_KEYS.get() or {}), **keys})
    try:
        yield
    finally:
        _SOURCE_KEYS.reset(token)


def config_key_of(source: str) -> Optional[str]:
    """The config key :func:`config_keys_of_sources` set for ``source``, if any."""
    return (_SOURCE_KEYS.get() or {}).get(source)
