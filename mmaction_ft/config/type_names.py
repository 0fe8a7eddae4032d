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

Once every name resolves, the other keys of each component are checked against the arguments of
the class its own registry resolves (:mod:`.arguments`).
"""

import difflib
import importlib
from typing import Any, Callable, Dict, Iterator, List, Mapping, Optional, Tuple

from mmengine.registry import Registry

from mmaction_ft import registry as registries

from .arguments import check_arguments
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
    """Look up every component ``type`` of a loaded config in the registry that builds it, then
    check the component's other keys against the arguments of what it names.

    Modules named in ``custom_imports`` are imported first (the runner would import them
    anyway), so the classes they register count.

    Args:
        cfg: The loaded config (translated to mmengine keys), a dict or a ``Config``.
        locator: Names the file and line of a wrong name; without it the message names the key.

    Raises:
        ConfigError: A ``type`` no registry resolves, with the closest names of its registry, or
            a key that is not an argument of the class it names (see :mod:`.arguments`).
    """
    _import_custom_modules(cfg.get('custom_imports'))
    locator = locator or ConfigLocator()
    scope = cfg.get('default_scope')
    components = list(_components(cfg))
    for path, component, registry_name in components:
        name = component['type']
        registry = getattr(registries, registry_name)
        if not isinstance(name, str) or any(
            _resolves(r, name, scope) for r in [registry] + _all_registries()
        ):
            continue
        type_path = path + ('type',)
        written = locator.written_at(type_path, name)
        translated = f' ({join_path(type_path)} after translation)' if written != type_path else ''
        raise ConfigError(
            f'{locator.prefix(type_path, name)}{join_path(written)}={name!r}{translated} is not '
            f'in the {registry.name} registry{_suggestion(name, registry)}'
        )
    for path, component, registry_name in components:
        if _is_optim_wrapper_of_unknown_constructor(component, registry_name, scope):
            continue  # a user's constructor may read keys of its own
        target = _target(getattr(registries, registry_name), component['type'], scope)
        if target is not None:
            check_arguments(component, path, registry_name, target, locator)


def _components(cfg: Mapping[str, Any]) -> Iterator[Tuple[KeyPath, Mapping[str, Any], str]]:
    """``(path, config dict, registry attribute)`` of each component with a ``type``."""
    for key, registry_name in TOP_LEVEL.items():
        if key in cfg:
            yield from _walk(cfg[key], (key,), registry_name)


def _walk(
    value: Any, path: KeyPath, registry_name: str
) -> Iterator[Tuple[KeyPath, Mapping[str, Any], str]]:
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
    kind = value.get('type')
    if registry_name != LOADER and (isinstance(kind, str) or callable(kind)):
        yield path, value, registry_name
        if (registry_name, kind) in BUILT_BY_ITSELF:
            return
    for key, inner in value.items():
        nested = NESTED.get((registry_name, key))
        if nested is not None:
            yield from _walk(inner, path + (key,), nested)


def _resolves(registry: Registry, name: str, scope: Optional[str]) -> bool:
    """Whether mmengine would find ``name`` in ``registry`` (or, for a config of another
    project's scope, in that project's registry of the same kind)."""
    return _target(registry, name, scope) is not None


def _target(registry: Registry, name: Any, scope: Optional[str]) -> Optional[Callable]:
    """The class (or function) ``registry`` builds for ``name``, as :func:`_resolves` finds it;
    ``None`` for a name only another registry holds (``Evaluator`` under ``val_evaluator``)."""
    if not isinstance(name, str):
        return name
    keys = [name] if scope in (None, registries.SCOPE) else [f'{scope}.{name}', name]
    for key in keys:
        try:
            target = registry.get(key)
        except RuntimeError:
            continue
        if target is not None:
            return target
    return None


def _is_optim_wrapper_of_unknown_constructor(
    component: Mapping[str, Any], registry_name: str, scope: Optional[str]
) -> bool:
    """Whether ``component`` is an ``optim_wrapper`` whose ``constructor`` is neither
    mmengine's nor mmaction_ft's: its keys may be read by that constructor."""
    if registry_name != 'OPTIM_WRAPPERS' or 'constructor' not in component:
        return False
    constructor = _target(registries.OPTIM_WRAPPER_CONSTRUCTORS, component['constructor'], scope)
    module = getattr(constructor, '__module__', '')
    return not module.startswith(('mmengine.', 'mmaction_ft.'))


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
