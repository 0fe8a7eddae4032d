"""LazyModule imports on first attribute access; a training process does not import torchvision
unless its pipeline uses it."""

import subprocess
import sys

import pytest

from mmaction_ft.utils.lazy_import import LazyModule


def test_imports_on_first_attribute_and_returns_the_modules_attributes():
    name = 'json.tool'  # stdlib, cheap, and not imported by pytest or this package
    sys.modules.pop(name, None)
    lazy = LazyModule(name)
    assert name not in sys.modules
    assert callable(lazy.main)
    assert name in sys.modules
    assert lazy.main is sys.modules[name].main
    assert repr(lazy) == "LazyModule('json.tool')"


def test_a_missing_module_fails_when_used_and_dunder_probes_do_not_import():
    lazy = LazyModule('no_such_module_here')
    with pytest.raises(AttributeError):
        lazy.__wrapped__  # noqa: B018  (what copy / inspect probe)
    with pytest.raises(ModuleNotFoundError, match='no_such_module_here'):
        lazy.anything  # noqa: B018


def test_registering_every_module_does_not_import_torchvision():
    code = (
        'import sys\n'
        'from mmaction_ft.utils import register_all_modules\n'
        'import mmaction_ft.apis, mmaction_ft.datasets, mmaction_ft.models\n'
        'register_all_modules()\n'
        "print(sorted(m for m in ('torchvision', 'torch._dynamo') if m in sys.modules))\n"
    )
    out = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == '[]', out.stdout + out.stderr
