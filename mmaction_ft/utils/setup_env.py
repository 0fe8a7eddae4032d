"""Make every mmaction_ft component buildable from a config."""

import datetime

from mmengine import DefaultScope
from mmengine.registry import Registry

from mmaction_ft import registry


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every module that registers a component and, optionally, make ``mmaction_ft`` the
    default registry scope (configs say ``default_scope = 'mmaction_ft'`` for the same effect).

    The modules are the ``locations`` each registry of :mod:`mmaction_ft.registry` declares, so
    this helper (low in the package's layers) names none of the packages above it.
    """
    for value in vars(registry).values():
        if isinstance(value, Registry) and value.scope == registry.SCOPE:
            value.import_from_location()

    if not init_default_scope:
        return
    current = DefaultScope.get_current_instance()
    if current is None or current.scope_name != 'mmaction_ft':
        # A unique instance name: mmengine keeps scopes by name and refuses to reuse one.
        name = f'mmaction_ft-{datetime.datetime.now().strftime("%Y%m%d-%H%M%S-%f")}'
        DefaultScope.get_instance(name, scope_name='mmaction_ft')
