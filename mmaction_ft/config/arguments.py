"""Every key of a component config must be an argument of the class it builds: checked at load time.

Unchecked, ``backbone=dict(type='ResNet', deptth=18)`` fails when the runner builds the model,
after the environment and config dump, with ``TypeError: ResNet.__init__() got an unexpected
keyword argument 'deptth'`` and no config file or line. :func:`check_arguments` compares the keys
with the signature of the class (or function) the ``type`` names::

    configs/x.py:3: model.backbone.deptth is not an argument of ResNet (did you mean 'depth'?);
    ResNet takes: depth, pretrained, ...

A class whose ``__init__`` takes ``**kwargs`` is followed to its parent only when it hands them to
``super().__init__`` and otherwise at most reads keys by name (``TSNHead`` -> ``BaseHead``,
``kwargs.pop('metainfo')``); ``**kwargs`` used any other way (a video reader's options,
``CheckpointHook``'s file arguments) accept anything, so such a class is not checked.
"""

import ast
import difflib
import functools
import inspect
import textwrap
from typing import Any, Callable, Dict, FrozenSet, List, Mapping, Optional, Tuple

from .errors import ConfigError
from .keypaths import KeyPath
from .locate import ConfigLocator

# Registry attribute -> keys its mmengine builder reads from a component config itself instead of
# passing them to the class.
READ_BY_BUILDER: Dict[str, FrozenSet[str]] = {
    'OPTIM_WRAPPERS': frozenset({'constructor', 'paramwise_cfg'}),  # build_optim_wrapper
    'PARAM_SCHEDULERS': frozenset({'convert_to_iter_based'}),  # build_scheduler_from_cfg
    'HOOKS': frozenset({'priority'}),  # Runner.register_hook
    'VISBACKENDS': frozenset({'name'}),  # Visualizer.__init__
    'WEIGHT_INITIALIZERS': frozenset({'override'}),  # mmengine.model.initialize
}

# Registry attribute -> arguments the builder passes itself: not shown as settable in a message.
PASSED_BY_BUILDER: Dict[str, FrozenSet[str]] = {
    'OPTIMIZERS': frozenset({'params'}),
    'PARAM_SCHEDULERS': frozenset({'optimizer', 'epoch_length'}),
    'LOOPS': frozenset({'runner', 'dataloader', 'evaluator'}),
    'DATA_SAMPLERS': frozenset({'dataset', 'sampler'}),
    'MODEL_WRAPPERS': frozenset({'module'}),
}


def check_arguments(
    component: Mapping[str, Any],
    path: KeyPath,
    registry_name: str,
    target: Callable,
    locator: Optional[ConfigLocator] = None,
) -> None:
    """Check that every key of ``component`` is an argument of ``target``.

    Args:
        component: The config dict of one component (``dict(type='ResNet', depth=18)``).
        path: Its key path in the config (``('model', 'backbone')``).
        registry_name: The attribute of :mod:`mmaction_ft.registry` that builds it
            (``'MODELS'``), for the keys its builder reads or passes itself.
        target: The class or function ``component['type']`` names.
        locator: Names the file and line of a wrong key; without it the message names the key.

    Raises:
        ConfigError: A key ``target`` does not take, with the closest argument and all of them.
    """
    accepted = accepted_arguments(target)
    if accepted is None:
        return
    read = READ_BY_BUILDER.get(registry_name, frozenset())
    locator = locator or ConfigLocator()
    for key in component:
        if key == 'type' or key.startswith('_') or key in read or key in accepted:
            continue  # `_scope_` and the like are read by mmengine's build_from_cfg
        key_path = path + (key,)
        name = getattr(target, '__name__', repr(target))
        shown = [a for a in accepted if a not in PASSED_BY_BUILDER.get(registry_name, ())]
        raise ConfigError(
            f'{locator.prefix(key_path, component[key])}'
            f'{locator.key_name(key_path, component[key])} is not an argument of {name}'
            f'{_suggestion(key, shown)}; {name} takes: {", ".join(shown) or "no arguments"}'
        )


@functools.cache
def accepted_arguments(target: Callable) -> Optional[Tuple[str, ...]]:
    """The keyword arguments ``target`` accepts, in signature order (a class's own first, then
    those of the parents its ``**kwargs`` go to); ``None`` when it accepts any or cannot tell."""
    if not inspect.isclass(target):
        names, var_keyword = _own_arguments(target)
        return names if var_keyword is None else None
    names: List[str] = []
    filled: Tuple[int, FrozenSet[str]] = (0, frozenset())  # by the child's super().__init__
    start = 0
    mro = target.__mro__
    while True:
        owner = next((i for i in range(start, len(mro)) if '__init__' in vars(mro[i])), None)
        if owner is None or mro[owner] is object:
            return tuple(names)
        init = vars(mro[owner])['__init__']
        own, var_keyword = _own_arguments(init, skip_first=True)
        if own is None:
            return None
        positional, keywords = filled
        names += [
            name
            for index, name in enumerate(own)
            if index >= positional and name not in keywords and name not in names
        ]
        if var_keyword is None:
            return tuple(names)
        handover = _handover_to_super(init, var_keyword)
        if handover is None:
            return None
        keys, filled = handover
        names += [name for name in keys if name not in names]
        start = owner + 1


def _own_arguments(
    function: Callable, skip_first: bool = False
) -> Tuple[Optional[Tuple[str, ...]], Optional[str]]:
    """``(names that can be passed by keyword, name of the **kwargs parameter)``; ``(None,
    None)`` without an inspectable signature (a builtin's slot wrapper)."""
    try:
        parameters = list(inspect.signature(function).parameters.values())
    except (TypeError, ValueError):
        return None, None
    if skip_first:
        parameters = parameters[1:]  # self
    by_keyword = (inspect.Parameter.POSITIONAL_OR_KEYWORD, inspect.Parameter.KEYWORD_ONLY)
    names = tuple(p.name for p in parameters if p.kind in by_keyword)
    var_keyword = next((p.name for p in parameters if p.kind is p.VAR_KEYWORD), None)
    return names, var_keyword


def _handover_to_super(
    init: Callable, var_keyword: str
) -> Optional[Tuple[Tuple[str, ...], Tuple[int, FrozenSet[str]]]]:
    """How ``init`` hands ``**var_keyword`` to its parent, when it does so in one
    ``super().__init__(..., **var_keyword)`` and otherwise only reads keys by name
    (``kwargs.pop('metainfo')``, ``kwargs['x']``, ``'x' in kwargs``); ``None`` for any other use
    of them or no source.

    Returns:
        The keys read by name, and what the call fills itself: the number of leading positional
        arguments and the names of keyword ones (``LRSchedulerMixin`` passes ``param_name``).
    """
    try:
        tree = ast.parse(textwrap.dedent(inspect.getsource(inspect.unwrap(init))))
    except (OSError, TypeError, SyntaxError):
        return None
    parents = {child: node for node in ast.walk(tree) for child in ast.iter_child_nodes(node)}
    keys: List[str] = []
    calls = []
    for node in ast.walk(tree):
        if not (isinstance(node, ast.Name) and node.id == var_keyword):
            continue
        parent = parents.get(node)
        call = parents.get(parent)
        if isinstance(parent, ast.keyword) and parent.arg is None and _is_super_init(call):
            calls.append(call)
            continue
        key = _constant_key(node, parent, call)
        if key is None:
            return None
        keys.append(key)
    if len(calls) != 1:
        return None
    positional = next(
        (i for i, arg in enumerate(calls[0].args) if isinstance(arg, ast.Starred)),
        len(calls[0].args),
    )
    keywords = frozenset(keyword.arg for keyword in calls[0].keywords if keyword.arg)
    return tuple(keys), (positional, keywords)


def _constant_key(name: ast.Name, parent: Any, grandparent: Any) -> Optional[str]:
    """``'x'`` for ``kwargs.get('x', ...)`` / ``.pop`` / ``.setdefault``, ``kwargs['x']`` and
    ``'x' in kwargs``; ``None`` for any other use of ``kwargs``."""
    key = None
    if isinstance(parent, ast.Attribute) and parent.attr in ('get', 'pop', 'setdefault'):
        if isinstance(grandparent, ast.Call) and grandparent.func is parent and grandparent.args:
            key = grandparent.args[0]
    elif isinstance(parent, ast.Subscript) and parent.value is name:
        key = parent.slice
    elif isinstance(parent, ast.Compare) and len(parent.ops) == 1:
        if isinstance(parent.ops[0], (ast.In, ast.NotIn)) and parent.comparators[0] is name:
            key = parent.left
    if isinstance(key, ast.Constant) and isinstance(key.value, str):
        return key.value
    return None


def _is_super_init(node: Any) -> bool:
    """``super().__init__(...)`` or ``super(Cls, self).__init__(...)``."""
    return (
        isinstance(node, ast.Call)
        and isinstance(node.func, ast.Attribute)
        and node.func.attr == '__init__'
        and isinstance(node.func.value, ast.Call)
        and isinstance(node.func.value.func, ast.Name)
        and node.func.value.func.id == 'super'
    )


def _suggestion(key: str, arguments: List[str]) -> str:
    close = difflib.get_close_matches(key, arguments, n=1, cutoff=0.6)
    return f' (did you mean {close[0]!r}?)' if close else ''
