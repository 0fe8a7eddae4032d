"""The package's import graph, read from the source (nothing is executed): no import circle, and
no package imports one above it.

Layers, bottom to top (a package may import its own modules and any package of a lower layer):

0. ``registry``, ``structures``: declarations every other part uses.
1. ``utils``: small helpers (device checks, FLOPs, registering every module through the
   registries' ``locations``).
2. ``engine``: training machinery (runner, hooks, optimizer constructors and wrappers,
   schedulers, checkpoint loading).
3. ``config``: config loading and the 0.x translator, which re-exports the engine's
   ``LegacyWarmupLR`` (``mmaction_ft.config.LegacyWarmupLR``) and names it in translated
   ``custom_imports``; the engine never reads configs.
4. ``datasets``, ``models``, ``evaluation``, ``visualization``: the components configs build;
   siblings do not import each other.
5. ``apis``: what tools and users call.
6. ``demo``: the synthetic demo data and driver, which nothing else in the package imports
   (``tools/`` sits above everything, outside the package).

Every ``import`` statement counts, wherever it is: at module level, inside a function (a lazy
import still is a dependency: ``models/backbones/*`` reach
``mmaction_ft.engine.weight_loading.load_pretrained`` that way, a downward import) and under
``if TYPE_CHECKING:``. ``from a.b import c`` depends on module ``a.b.c`` if it exists, else on
``a.b``; importing ``a.b`` is not counted as importing the package ``a`` (so ``a/__init__.py``
importing ``a.b`` and ``a.b`` importing ``a.c`` is no circle).
"""

import ast
from pathlib import Path
from typing import Dict, List, Set, Tuple

PACKAGE = 'mmaction_ft'
ROOT = Path(__file__).resolve().parents[1] / PACKAGE

LAYERS = {
    'registry': 0,
    'structures': 0,
    'utils': 1,
    'engine': 2,
    'config': 3,
    'datasets': 4,
    'models': 4,
    'evaluation': 4,
    'visualization': 4,
    'apis': 5,
    'demo': 6,
}


def module_names() -> Dict[str, Path]:
    modules = {}
    for path in sorted(ROOT.rglob('*.py')):
        parts = (PACKAGE,) + path.relative_to(ROOT).with_suffix('').parts
        if parts[-1] == '__init__':
            parts = parts[:-1]
        modules['.'.join(parts)] = path
    return modules


def imports_of(name: str, path: Path, modules: Dict[str, Path]) -> Set[Tuple[str, int]]:
    """(imported module of this package, line) for every import statement in the file."""
    is_package = path.name == '__init__.py'
    found = set()
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = name.split('.')
                base = base[: len(base) - node.level + (1 if is_package else 0)]
                source = '.'.join(base + ([node.module] if node.module else []))
            else:
                source = node.module or ''
            targets = [
                f'{source}.{alias.name}' if f'{source}.{alias.name}' in modules else source
                for alias in node.names
            ]
        else:
            continue
        for target in targets:
            while target and target not in modules:  # `import a.b.c` with c a function etc.
                target = target.rpartition('.')[0]
            if target.startswith(PACKAGE) and target != name:
                found.add((target, node.lineno))
    return found


def build_graph() -> Dict[str, Set[Tuple[str, int]]]:
    modules = module_names()
    return {name: imports_of(name, path, modules) for name, path in modules.items()}


def layer_of(module: str) -> str:
    parts = module.split('.')
    return parts[1] if len(parts) > 1 else ''


def find_cycles(graph: Dict[str, Set[Tuple[str, int]]]) -> List[List[str]]:
    """Strongly connected components with more than one module (Tarjan)."""
    edges = {name: sorted({target for target, _ in targets}) for name, targets in graph.items()}
    index: Dict[str, int] = {}
    low: Dict[str, int] = {}
    stack: List[str] = []
    on_stack: Set[str] = set()
    cycles = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in edges.get(node, ()):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                item = stack.pop()
                on_stack.discard(item)
                component.append(item)
                if item == node:
                    break
            if len(component) > 1:
                cycles.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return cycles


def test_every_package_has_a_layer():
    packages = {layer_of(name) for name in module_names()} - {''}
    assert packages <= set(LAYERS), f'give these a layer: {sorted(packages - set(LAYERS))}'


def test_no_import_circle():
    cycles = find_cycles(build_graph())
    assert not cycles, 'import circles:\n' + '\n'.join(' <-> '.join(c) for c in cycles)


def test_no_upward_or_sideways_import():
    modules = module_names()
    bad = []
    for name, targets in build_graph().items():
        here = layer_of(name)
        if not here:  # mmaction_ft/__init__.py: the top, imports nothing heavy
            continue
        for target, line in sorted(targets):
            there = layer_of(target)
            if there == here:
                continue
            if not there or LAYERS[there] >= LAYERS[here]:
                path = modules[name].relative_to(ROOT.parent)
                bad.append(f'{path}:{line} ({here}, layer {LAYERS[here]}) imports {target}')
    assert not bad, 'imports that go up (or sideways) the layers:\n' + '\n'.join(bad)


def test_the_checker_sees_lazy_and_relative_imports(tmp_path):
    # The graph must catch what this test exists for: a lazy upward import, a relative import.
    graph = build_graph()
    resnet = {target for target, _ in graph['mmaction_ft.models.backbones.resnet']}
    assert 'mmaction_ft.engine.weight_loading' in resnet  # lazy, inside load_pretrained
    legacy = {target for target, _ in graph['mmaction_ft.config.legacy']}
    assert 'mmaction_ft.config.legacy_context' in legacy  # `from .legacy_context import ...`
    assert find_cycles({'a': {('b', 1)}, 'b': {('a', 1)}, 'c': set()}) == [['a', 'b']]
