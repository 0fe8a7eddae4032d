"""Make every mmaction_ft component buildable from a config."""

import datetime

from mmengine import DefaultScope


def register_all_modules(init_default_scope: bool = True) -> None:
    """Import every module that registers a component and, optionally, make ``mmaction_ft`` the
    default registry scope (configs say ``default_scope = 'mmaction_ft'`` for the same effect)."""
    import mmaction_ft.config  # noqa: F401  (LegacyWarmupLR)
    import mmaction_ft.datasets  # noqa: F401
    import mmaction_ft.engine  # noqa: F401
    import mmaction_ft.evaluation  # noqa: F401
    import mmaction_ft.models  # noqa: F401

    if not init_default_scope:
        return
    current = DefaultScope.get_current_instance()
    if current is None or current.scope_name != 'mmaction_ft':
        # A unique instance name: mmengine keeps scopes by name and refuses to reuse one.
        name = f'mmaction_ft-{datetime.datetime.now().strftime("%Y%m%d-%H%M%S-%f")}'
        DefaultScope.get_instance(name, scope_name='mmaction_ft')
