"""Which config file sets which key: the provenance behind the mixed-dialect precedence rule.

mmengine's merged :class:`~mmengine.config.Config` forgets which file set a value. The rule "a 0.x
key overrides what a base set in 1.x style, a 1.x key in a file that inherits the 0.x key overrides
it, one file may not set both" needs that knowledge, so this module reads every file of the
inheritance tree on its own, from its syntax (nothing is executed): ``model = dict(cls_head=dict(
num_classes=101))`` sets ``model``, ``model.cls_head`` and ``model.cls_head.num_classes``.
``--cfg-options`` act as one more file that inherits the config file.
"""

import ast
import os
from dataclasses import dataclass, field
from typing import Any, Dict, Iterator, List, Optional, Set

import mmengine
from mmengine.config import Config

from .dialect import LOOP_CFG_NAMES, LOOP_KEYS
from .keypaths import KeyPath, is_under, split_path

CFG_OPTIONS = '--cfg-options'


@dataclass(eq=False)
class SourceFile:
    """The keys one file sets itself (bases excluded).

    Args:
        name: The file path, or ``'--cfg-options'``.
        keys: Every key path the file writes, including each level of a nested ``dict(...)``.
        opaque: Paths whose whole value the file writes (a non-dict value, a variable, a dict with
            ``_delete_=True`` or ``**`` unpacking): everything under them counts as set too.
        lines: Line of the first assignment of each top-level key.
        bases: The files of ``_base_``, in order.
        key_lines: Line of the last assignment of every key path the file spells out, nested
            ``dict(...)`` keys and list items (decimal indices) included: what :meth:`line`
            reads.
        aliases: Paths whose value is a variable of the file (``pipeline=train_pipeline``):
            the path -> the variable's path.
    """

    name: str
    keys: Set[KeyPath] = field(default_factory=set)
    opaque: Set[KeyPath] = field(default_factory=set)
    lines: Dict[str, int] = field(default_factory=dict)
    bases: List['SourceFile'] = field(default_factory=list)
    key_lines: Dict[KeyPath, int] = field(default_factory=dict)
    aliases: Dict[KeyPath, KeyPath] = field(default_factory=dict)

    def sets(self, path: KeyPath) -> bool:
        """Whether this file writes ``path``, something inside it, or a whole value around it."""
        return self.names(path) or self.sets_whole(path)

    def names(self, path: KeyPath) -> bool:
        """Whether this file writes ``path`` or something inside it, spelled out.

        Unlike :meth:`sets`, ``test_cfg=None`` does not name ``test_cfg.average_clips``.
        """
        return any(is_under(k, path) for k in self.keys)

    def sets_whole(self, path: KeyPath) -> bool:
        """Whether this file replaces the whole value at ``path`` (or around it)."""
        return any(is_under(path, o) for o in self.opaque)

    def opaque_under(self, path: KeyPath) -> List[KeyPath]:
        """The whole values this file writes inside ``path`` (sorted)."""
        return sorted(o for o in self.opaque if is_under(o, path))

    def walk(self) -> Iterator['SourceFile']:
        """This file, then its bases depth-first: the order in which a key's setter is found."""
        yield self
        for base in self.bases:
            yield from base.walk()

    def inherits_from(self, other: 'SourceFile') -> bool:
        """Whether ``other`` is a (transitive) base of this file."""
        return any(f is other for base in self.bases for f in base.walk())

    def where(self, key: str) -> str:
        """``'path/to/file.py, line 12'`` for a top-level key (just the name if unknown)."""
        line = self.lines.get(key)
        return f'{self.name}, line {line}' if line else self.name

    def line(self, path: KeyPath) -> Optional[int]:
        """The line that writes ``path``, or the nearest level around it that this file writes.

        A level holding a variable of the file (``pipeline=train_pipeline``) is followed into the
        variable's own literal (``train_pipeline = [...]``), where the item usually is.
        """
        return self._line(path, set())

    def _line(self, path: KeyPath, followed: Set[KeyPath]) -> Optional[int]:
        for end in range(len(path), 0, -1):
            prefix = path[:end]
            target = self.aliases.get(prefix)
            if target is not None and target not in followed:
                line = self._line(target + path[end:], followed | {target})
                if line is not None:
                    return line
            if prefix in self.key_lines:
                return self.key_lines[prefix]
        return None


class ConfigSources:
    """The inheritance tree of one config, each file with the keys it sets itself."""

    def __init__(self, root: SourceFile) -> None:
        self.root = root

    @classmethod
    def from_file(
        cls, path: str, cfg_options: Optional[Dict[str, Any]] = None
    ) -> Optional['ConfigSources']:
        """Read ``path`` and its bases; ``None`` for lazy-import (``read_base()``) configs."""
        if path.endswith('.py') and Config._is_lazy_import(path):
            return None
        root = _read_file(os.path.abspath(path))
        if cfg_options:
            options = SourceFile(CFG_OPTIONS, bases=[root])
            for key, value in cfg_options.items():
                _record_value(value, split_path(key), options)
            root = options
        return cls(root)

    def files(self) -> List[SourceFile]:
        """Every file, nearest first (``--cfg-options``, the config, its bases depth-first)."""
        return list(self.root.walk())

    def setters(self, path: KeyPath) -> List[SourceFile]:
        """The files that set ``path``, nearest first."""
        return [f for f in self.files() if f.sets(path)]

    def owner(self, path: KeyPath) -> Optional[SourceFile]:
        """The file whose value for ``path`` the merged config holds."""
        setters = self.setters(path)
        return setters[0] if setters else None

    def where(self, key: str) -> str:
        """Where a top-level key is set, for error messages (``''`` if unknown)."""
        owner = self.owner((key,))
        return owner.where(key) if owner else ''

    def locate(self, path: KeyPath) -> str:
        """``'file.py:12'`` for the file and line whose value the merged config holds at ``path``
        (``'file.py'`` without a known line, ``'--cfg-options'``, ``''`` if no file sets it)."""
        owner = self.owner(path)
        if owner is None:
            return ''
        line = owner.line(path)
        return f'{owner.name}:{line}' if line else owner.name


def _display_name(path: str) -> str:
    rel = os.path.relpath(path)
    return rel if not rel.startswith('..') else path


def _read_file(path: str) -> SourceFile:
    source = SourceFile(_display_name(path))
    if path.endswith('.py'):
        with open(path, encoding='utf-8') as f:
            _read_py(ast.parse(f.read(), filename=path), source)
    else:
        data = mmengine.load(path)
        data.pop('_base_', None)
        for key, value in data.items():
            _record_value(value, (key,), source)
    for base in Config._get_base_files(path):  # mmengine's own reading of `_base_`
        base_path, _ = Config._get_cfg_path(base, path)
        source.bases.append(_read_file(os.path.abspath(base_path)))
    return source


def _statements(body: List[ast.stmt]) -> Iterator[ast.stmt]:
    """Module-level statements, including those nested in if / for / with / try blocks."""
    for stmt in body:
        yield stmt
        for name in ('body', 'orelse', 'finalbody'):
            if not isinstance(stmt, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                yield from _statements(getattr(stmt, name, []) or [])
        for handler in getattr(stmt, 'handlers', []) or []:
            yield from _statements(handler.body)


def _read_py(tree: ast.Module, source: SourceFile) -> None:
    for stmt in _statements(tree.body):
        if isinstance(stmt, ast.Assign):
            targets, value = stmt.targets, stmt.value
        elif isinstance(stmt, ast.AnnAssign) and stmt.value is not None:
            targets, value = [stmt.target], stmt.value
        elif isinstance(stmt, ast.AugAssign):
            targets, value = [stmt.target], None
        else:
            continue
        for target in targets:
            for path, target_value in _target_paths(target, value):
                if path[0] == '_base_' or path[0].startswith('__'):
                    continue
                source.lines.setdefault(path[0], stmt.lineno)
                if (
                    len(path) == 1
                    and path[0] in LOOP_CFG_NAMES
                    and _is_model_cfg_node(target_value)
                ):
                    path = ('model',) + path  # the 0.x meaning: recognizer settings
                _record_node(target_value, path, source)
                _forget_lines_under(path, source)
                _record_lines(target_value, path, stmt.lineno, source)


def _target_paths(target: ast.expr, value: Optional[ast.expr]) -> Iterator[tuple]:
    """``x``, ``x['a'][0]`` and ``a, b`` assignment targets as (path, value node) pairs."""
    if isinstance(target, (ast.Tuple, ast.List)):
        for element in target.elts:
            yield from _target_paths(element, None)
        return
    indices: List[ast.expr] = []  # outermost first
    node = target
    while isinstance(node, ast.Subscript):
        indices.append(node.slice)
        node = node.value
    if not isinstance(node, ast.Name):
        return
    keys: List[str] = []
    for index in reversed(indices):
        if not (isinstance(index, ast.Constant) and isinstance(index.value, (str, int))):
            value = None  # a computed index: count the whole value around it as set
            break
        keys.append(str(index.value))
    yield (node.id, *keys), value


def _dict_items(node: Optional[ast.expr]) -> Optional[List[tuple]]:
    """``[(key or None, value node)]`` for ``dict(...)`` / ``{...}`` literals, else ``None``."""
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == 'dict':
        items = [(None, arg) for arg in node.args]
        return items + [(kw.arg, kw.value) for kw in node.keywords]
    if isinstance(node, ast.Dict):
        return [
            (k.value if isinstance(k, ast.Constant) and isinstance(k.value, str) else None, v)
            for k, v in zip(node.keys, node.values)
        ]
    return None


def _is_model_cfg_node(node: Optional[ast.expr]) -> bool:
    """:func:`.dialect.is_model_cfg` on syntax: ``None`` or a loop-key-free dict literal."""
    if isinstance(node, ast.Constant) and node.value is None:
        return True
    items = _dict_items(node)
    if not items:
        return False
    keys = [key for key, _ in items]
    return None not in keys and not (set(keys) & LOOP_KEYS)


def _mark(path: KeyPath, source: SourceFile) -> None:
    for i in range(1, len(path) + 1):
        source.keys.add(path[:i])


def _record_node(node: Optional[ast.expr], path: KeyPath, source: SourceFile) -> None:
    _mark(path, source)
    items = _dict_items(node)
    if items is None:
        source.opaque.add(path)
        return
    for key, value in items:
        is_delete = key == '_delete_'
        if key is None or is_delete:
            source.opaque.add(path)
        if key is not None and not is_delete:
            _record_node(value, path + (key,), source)


def _record_value(value: Any, path: KeyPath, source: SourceFile) -> None:
    _mark(path, source)
    if not isinstance(value, dict) or value.get('_delete_'):
        source.opaque.add(path)
        return
    for key, sub in value.items():
        if key != '_delete_':
            _record_value(sub, path + (str(key),), source)


def _forget_lines_under(path: KeyPath, source: SourceFile) -> None:
    """Drop what an earlier assignment noted inside ``path``: the new value replaces it."""
    for table in (source.key_lines, source.aliases):
        for key in [k for k in table if is_under(k, path)]:
            del table[key]


def _record_lines(node: Optional[ast.expr], path: KeyPath, line: int, source: SourceFile) -> None:
    """Note the line of ``path`` and of every key / list item spelled out inside ``node``."""
    source.key_lines[path] = line
    if isinstance(node, ast.Name):
        source.aliases[path] = (node.id,)
        return
    if isinstance(node, (ast.List, ast.Tuple)):
        for index, item in enumerate(node.elts):
            _record_lines(item, path + (str(index),), item.lineno, source)
        return
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == 'dict':
        for keyword in node.keywords:
            if keyword.arg is not None:
                _record_lines(keyword.value, path + (keyword.arg,), keyword.lineno, source)
    elif isinstance(node, ast.Dict):
        for key, value in zip(node.keys, node.values):
            if isinstance(key, ast.Constant) and isinstance(key.value, str):
                _record_lines(value, path + (key.value,), key.lineno, source)
