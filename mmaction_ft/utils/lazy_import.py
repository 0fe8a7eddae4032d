"""Modules imported when first used, not when the code that uses them is imported."""

import importlib
from types import ModuleType
from typing import Any, Optional


class LazyModule:
    """Stands for the module ``name`` and imports it when one of its attributes is first read.

    Importing torchvision takes seconds (it loads ``torch._dynamo``), in every
    ``tools/train.py`` or ``tools/test.py`` process, while only the imgaug and RandAugment
    transforms use it; with this, a run whose pipeline does not use them never imports it.

    Args:
        name: The module's dotted name, e.g. ``'torchvision.transforms.v2.functional'``.
    """

    def __init__(self, name: str) -> None:
        self._name = name
        self._module: Optional[ModuleType] = None

    def __getattr__(self, attr: str) -> Any:
        if attr.startswith('__'):  # copy / pickle probing: not the module's business
            raise AttributeError(attr)
        if self._module is None:
            self._module = importlib.import_module(self._name)
        return getattr(self._module, attr)

    def __repr__(self) -> str:
        return f'{type(self).__name__}({self._name!r})'
