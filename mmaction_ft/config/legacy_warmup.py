"""The module a translated 0.x config names in ``custom_imports`` when it uses ``LegacyWarmupLR``.

The scheduler itself lives with the other training parts in
:mod:`mmaction_ft.engine.legacy_warmup_lr`; importing this module registers it. Configs translated
(and saved to work dirs) by earlier versions name this module, so it stays importable.
"""

from mmaction_ft.engine.legacy_warmup_lr import WARMUP_MODES, LegacyWarmupLR

__all__ = ['WARMUP_MODES', 'LegacyWarmupLR']
