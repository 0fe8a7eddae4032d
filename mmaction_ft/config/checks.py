"""Config keys nobody reads fail at load time, with the closest known key as a suggestion.

Rule for a top-level key that no part of mmaction_ft / mmengine reads:

- close to a known key (``difflib`` ratio >= 0.8): an error, ``unknown key 'val_evaluater' in
  config (did you mean 'val_evaluator'?)``;
- a component (a dict with ``type``, or a list of them) that no other key contains: an error,
  since nothing would build it;
- anything else is a helper variable of the user (``my_root = 'data/x'``) and is allowed.
"""

import difflib
from typing import Any, Iterable, Mapping, Optional

from .dialect import LEGACY_KEYS, UNSUPPORTED_LEGACY_KEYS
from .errors import ConfigError

# fmt: off
# Every key mmengine's Runner.from_cfg reads.
RUNNER_KEYS = frozenset({
    'model', 'work_dir', 'train_dataloader', 'val_dataloader', 'test_dataloader', 'train_cfg',
    'val_cfg', 'test_cfg', 'auto_scale_lr', 'optim_wrapper', 'param_scheduler', 'val_evaluator',
    'test_evaluator', 'default_hooks', 'custom_hooks', 'data_preprocessor', 'load_from', 'resume',
    'launcher', 'env_cfg', 'log_processor', 'log_level', 'visualizer', 'default_scope',
    'randomness', 'experiment_name',
})

# Read by mmengine's Config / runner builders and by mmaction_ft's own tools.
PROJECT_KEYS = frozenset({
    'custom_imports', 'runner_type', 'load_cfg', 'model_wrapper_cfg', 'compile', 'strategy',
    'finetune', 'precision',
})

# Helper variables MMAction2 configs conventionally define and reuse inside other keys.
HELPER_KEYS = frozenset({
    'dataset_type', 'data_root', 'data_root_val', 'data_root_train', 'data_root_test',
    'ann_file_train', 'ann_file_val', 'ann_file_test', 'train_pipeline', 'val_pipeline',
    'test_pipeline', 'img_norm_cfg', 'file_client_args', 'backend_args', 'split', 'clip_len',
    'frame_interval', 'num_clips', 'num_classes', 'vis_backends', 'video_root', 'video_root_val',
    'max_epochs', 'base_lr', 'batch_size', 'num_workers', 'checkpoint', 'pretrained', 'url',
})
# fmt: on

KNOWN_KEYS = RUNNER_KEYS | PROJECT_KEYS | HELPER_KEYS | LEGACY_KEYS | set(UNSUPPORTED_LEGACY_KEYS)

# A top-level key this close to a known one is a typo; less close, a helper variable.
TOP_LEVEL_CUTOFF = 0.8
# Inside a section every unknown key is an error: suggest anything plausible.
SECTION_CUTOFF = 0.6


def suggest(key: str, candidates: Iterable[str], cutoff: float = SECTION_CUTOFF) -> Optional[str]:
    """The candidate closest to ``key`` if its ``difflib`` ratio reaches ``cutoff``."""
    matches = difflib.get_close_matches(key, sorted(candidates), n=1, cutoff=cutoff)
    return matches[0] if matches else None


def unknown_key_message(path: str, candidates: Iterable[str], where: str = '') -> str:
    """``unknown key 'a.b' in config (did you mean 'a.c'?)``, plus where it was set."""
    prefix, _, key = path.rpartition('.')
    close = suggest(key, candidates)
    message = f"unknown key '{path}' in config"
    if close:
        message += f" (did you mean '{prefix + '.' if prefix else ''}{close}'?)"
    else:
        message += f'; known keys: {", ".join(sorted(candidates))}'
    return f'{message}; set in {where}' if where else message


def check_section_keys(
    section: str, value: Mapping[str, Any], allowed: Iterable[str], where: str = ''
) -> None:
    """Raise :class:`ConfigError` for the first key of ``value`` (the dict at ``section``) not in
    ``allowed``."""
    allowed = set(allowed)
    for key in value:
        if key not in allowed:
            raise ConfigError(unknown_key_message(f'{section}.{key}', allowed, where))


def check_unknown_keys(cfg: Mapping[str, Any], sources: Optional[Any] = None) -> None:
    """Apply the module's rule to every top-level key of a merged (not yet translated) config.

    Args:
        cfg: The merged config (a :class:`~mmengine.config.Config` or a dict).
        sources: The config's :class:`~.sources.ConfigSources`, to name the file and line.

    Raises:
        ConfigError: For a likely typo or an unused component.
    """
    keys = [key for key in cfg.keys() if not key.startswith('_')]
    for key in keys:
        if key in KNOWN_KEYS:
            continue
        where = sources.where(key) if sources is not None else ''
        close = suggest(key, KNOWN_KEYS, TOP_LEVEL_CUTOFF)
        if close:
            message = f"unknown key '{key}' in config (did you mean '{close}'?)"
            raise ConfigError(f'{message}; set in {where}' if where else message)
        value = cfg[key]
        if _is_component(value) and not any(
            _contains(cfg[other], value) for other in keys if other != key
        ):
            kind = value['type'] if isinstance(value, dict) else 'a list of components'
            message = (
                f"unknown key '{key}' in config: it holds {kind!r}, which nothing builds; put it "
                'where it is used (e.g. custom_hooks, model, a dataloader) or remove it'
            )
            raise ConfigError(f'{message}; set in {where}' if where else message)


def _is_component(value: Any) -> bool:
    if isinstance(value, Mapping):
        return 'type' in value
    if isinstance(value, (list, tuple)) and value:
        return all(isinstance(item, Mapping) and 'type' in item for item in value)
    return False


def _contains(haystack: Any, needle: Any) -> bool:
    """Whether ``needle`` equals ``haystack`` or any value nested inside it."""
    if haystack == needle:
        return True
    if isinstance(haystack, Mapping):
        return any(_contains(v, needle) for v in haystack.values())
    if isinstance(haystack, (list, tuple)):
        return any(_contains(v, needle) for v in haystack)
    return False
