"""Every ``type='Name'`` of a config must name a registered class: checked at load time.

Unchecked, ``optim_wrapper.optimizer.type='SDG'`` fails when training starts with mmengine's
"None is not a callable object", and ``backbone=dict(type='ResNett')`` with a registry
``KeyError`` that suggests nothing. :func:`check_type_names` looks each name up in the registry
that will build it (:data:`TOP_LEVEL` and :data:`NESTED` say which) and fails with the closest
registered names::

    configs/x.py:7: optim_wrapper.optimizer.type='SDG' is not in the optimizer registry (did
    you mean 'SGD'?)

Names the registry resolves are accepted as mmengine builds them: scoped (``'mmengine.SGD'``),
dotted import paths (``'torch.optim.SGD'``), or classes instead of strings. A name some other
registry holds is accepted too: only names nothing could build are errors.
"""

import difflib
import importlib
from typing import Any, Dict, Iterator, List, Mapping, Optional, Tuple

from mmengine.registry import Registry

from mmaction_ft import registry as registries

from .errors import ConfigError
from .keypaths import KeyPath, join_path
from .locate import ConfigLocator

# Containers without a `type` of their own: their keys hold components.
LOADER = 'dataloader'
HOOK_DICT = 'hook dict'

# Top-level key -> the registry (attribute of mmaction_ft.registry) of its component(s).
TOP_LEVEL: Dict[str, str] = {
    'model': 'MODELS',
    'data_preprocessor': 'MODELS',
    'train_dataloader': LOADER,
    'val_dataloader': LOADER,
    'test_dataloader': LOADER,
    'optim_wrapper': 'OPTIM_WRAPPERS',
    'param_scheduler': 'PARAM_SCHEDULERS',
    'default_hooks': HOOK_DICT,
    'custom_hooks': 'HOOKS',
    'train_cfg': 'LOOPS',
    'val_cfg': 'LOOPS',
    'test_cfg': 'LOOPS',
    'val_evaluator': 'METRICS',
    'test_evaluator': 'METRICS',
    'visualizer': 'VISUALIZERS',
    'log_processor': 'LOG_PROCESSORS',
    'model_wrapper_cfg': 'MODEL_WRAPPERS',
}

# (registry of a component, key inside it) -> registry of the component(s) under that key.
# Only keys built through a registry: other nested dicts with a `type` (a SlowFast pathway,
# a layer's norm_cfg) are read by the component itself.
NESTED: Dict[Tuple[str, str], str] = {
    (LOADER, 'dataset'): 'DATASETS',
    (LOADER, 'sampler'): 'DATA_SAMPLERS',
    (LOADER, 'batch_sampler'): 'DATA_SAMPLERS',
    (LOADER, 'collate_fn'): 'FUNCTIONS',
    ('DATASETS', 'dataset'): 'DATASETS',
    ('DATASETS', 'datasets'): 'DATASETS',
    ('DATASETS', 'pipeline'): 'TRANSFORMS',
    ('TRANSFORMS', 'transforms'): 'TRANSFORMS',
    ('MODELS', 'backbone'): 'MODELS',
    ('MODELS', 'neck'): 'MODELS',
    ('MODELS', 'cls_head'): 'MODELS',
    ('MODELS', 'data_preprocessor'): 'MODELS',
    ('MODELS', 'loss_cls'): 'MODELS',
    ('MODELS', 'blending'): 'MODELS',
    ('MODELS', 'augments'): 'MODELS',
    ('MODELS', 'init_cfg'): 'WEIGHT_INITIALIZERS',
    ('OPTIM_WRAPPERS', 'optimizer'): 'OPTIMIZERS',
    ('METRICS', 'metrics'): 'METRICS',  # an Evaluator config
    ('VISUALIZERS', 'vis_backends'): 'VISBACKENDS',
}

# (registry, type) of components that build the dicts under their keys themselves: Imgaug's
# `transforms` are imgaug augmenter names, not registered transforms.
BUILT_BY_ITSELF = frozenset({('TRANSFORMS', 'Imgaug')})

# How many registered names a message lists when none is close.
SHOWN_NAMES = 8


def check_type_names(cfg: Mapping[str, Any], locator: Optional[ConfigLocator] = None) -> None:
    """Look up every component ``type`` of a loaded config in the registry that builds it.

    Modules named in ``custom_imports`` are imported first (the runner would import them
    anyway), so the classes they register count.

    Args:
        cfg: The loaded config (translated to mmengine keys), a dict or a ``Config``.
        locator: Names the file and line of a wrong name; without it the message names the key.

    Raises:
        ConfigError: A ``type`` no registry resolves, with the closest names of its registry.
    """
    _import_custom_modules(cfg.get('custom_imports'))
    locator = locator or ConfigLocator()
    scope = cfg.get('default_scope')
    for path, name, registry_name in _type_names(cfg):
        registry = getattr(registries, registry_name)
        if any(_resolves(r, name, scope) for r in [registry] + _all_registries()):
            continue
        type_path = path + ('type',)
        written = locator.written_at(type_path, name)
        translated = f' ({join_path(type_path)} after translation)' if written != type_path else ''
        raise ConfigError(
            f'{locator.prefix(type_path, name)}{join_path(written)}={name!r}{translated} is not '
            f'in the {registry.name} registry{_suggestion(name, registry)}'
        )


def _type_names(cfg: Mapping[str, Any]) -> Iterator[Tuple[KeyPath, str, str]]:
    """``(path of the component, its type name, registry attribute)`` for each string type."""
    for key, registry_name in TOP_LEVEL.items():
        if key in cfg:
            yield from _walk(cfg[key], (key,), registry_name)


def _walk(value: Any, path: KeyPath, registry_name: str) -> Iterator[Tuple[KeyPath, str, str]]:
    if isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _walk(item, path + (str(index),), registry_name)
        return
    if not isinstance(value, Mapping):
        return
    if registry_name == HOOK_DICT:
        for key, hook in value.items():
            yield from _walk(hook, path + (key,), 'HOOKS')
        return
    if isinstance(value.get('type'), str) and registry_name != LOADER:
        yield path, value['type'], registry_name
        if (registry_name, value['type']) in BUILT_BY_ITSELF:
            return
    for key, inner in value.items():
        nested = NESTED.get((registry_name, key))
        if nested is not None:
            yield from _walk(inner, path + (key,), nested)


def _resolves(registry: Registry, name: str, scope: Optional[str]) -> bool:
    """Whether mmengine would find ``name`` in ``registry`` (or, for a config of another
    project's scope, in that project's registry of the same kind)."""
    keys = [name] if scope in (None, registries.SCOPE) else [name, f'{scope}.{name}']
    for key in keys:
        try:
            if registry.get(key) is not None:
                return True
        except RuntimeError:  # mmengine's answer to a dotted path it cannot import
            pass
    return False


def _all_registries() -> List[Registry]:
    return [r for r in vars(registries).values() if isinstance(r, Registry)]


def _registered_names(registry: Optional[Registry]) -> List[str]:
    """The names ``registry`` and its parents hold (a parent lists mmengine's built-ins)."""
    names: List[str] = []
    while registry is not None:
        registry.import_from_location()
        names += [name for name in registry.module_dict if name not in names]
        registry = registry.parent
    return names


def _suggestion(name: str, registry: Registry) -> str:
    names = _registered_names(registry)
    by_case = {n.lower(): n for n in names}
    close = difflib.get_close_matches(name.lower(), list(by_case), n=3, cutoff=0.6)
    if close:
        return ' (did you mean ' + ', '.join(repr(by_case[c]) for c in close) + '?)'
    shown = ', '.join(sorted(names)[:SHOWN_NAMES])
    more = f', ... ({len(names)} in all)' if len(names) > SHOWN_NAMES else ''
    return f'; registered names: {shown}{more}'


def _import_custom_modules(custom_imports: Any) -> None:
    if not isinstance(custom_imports, Mapping):
        return
    modules = custom_imports.get('imports') or []
    for module in [modules] if isinstance(modules, str) else modules:
        try:
            importlib.import_module(module)
        except ImportError:
            if not custom_imports.get('allow_failed_imports', False):
                raise
