"""Dotted key paths into nested config dicts: ``'optim_wrapper.optimizer.lr'``."""

from typing import Any, Tuple, Union

KeyPath = Tuple[str, ...]

MISSING = object()
"""Returned by :func:`get_path` when a path does not exist (``None`` is a legitimate value)."""


def split_path(path: Union[str, KeyPath]) -> KeyPath:
    """``'a.b.c'`` -> ``('a', 'b', 'c')``; a tuple is returned unchanged."""
    return tuple(path.split('.')) if isinstance(path, str) else tuple(path)


def join_path(path: KeyPath) -> str:
    """``('a', 'b', 'c')`` -> ``'a.b.c'``."""
    return '.'.join(path)


def is_under(path: KeyPath, prefix: KeyPath) -> bool:
    """Whether ``path`` equals ``prefix`` or lies inside it."""
    return path[: len(prefix)] == prefix


def get_path(tree: Any, path: Union[str, KeyPath], default: Any = MISSING) -> Any:
    """The value at ``path`` (list items by decimal index), or ``default`` if absent."""
    node = tree
    for key in split_path(path):
        if isinstance(node, dict) and key in node:
            node = node[key]
        elif isinstance(node, (list, tuple)) and key.isdigit() and int(key) < len(node):
            node = node[int(key)]
        else:
            return default
    return node


def set_path(tree: dict, path: Union[str, KeyPath], value: Any) -> None:
    """Set ``path`` to ``value``, creating (or replacing non-dict) intermediate levels by dicts."""
    keys = split_path(path)
    node = tree
    for key in keys[:-1]:
        if not isinstance(node.get(key), dict):
            node[key] = {}
        node = node[key]
    node[keys[-1]] = value


def pop_path(tree: dict, path: Union[str, KeyPath], default: Any = MISSING) -> Any:
    """Remove ``path`` and return its value (``default`` if absent)."""
    keys = split_path(path)
    parent = get_path(tree, keys[:-1]) if len(keys) > 1 else tree
    if isinstance(parent, dict) and keys[-1] in parent:
        return parent.pop(keys[-1])
    return default
