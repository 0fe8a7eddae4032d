"""Translate an MMAction2 0.x config (mmcv-runner keys) into the mmengine keys mmaction_ft runs.

The translation is data: :data:`RULES` lists, in the order they run, small functions that each
own some 0.x keys (model settings in :mod:`.legacy_model`, optimizer in :mod:`.legacy_optim`, train
loop and LR schedule in :mod:`.legacy_schedule`, hooks and environment in :mod:`.legacy_runtime`,
data / pipelines / evaluation in :mod:`.legacy_data`). Each rule takes the
:class:`~.legacy_context.TranslationContext`, removes the keys it translates and records them in
the :class:`~.report.TranslationReport`. Another config dialect is one more module of rules added
to the tuple; the context module imports no rule, so there is no import circle.

Mixed dialects (a 0.x file on 1.x ``_base_`` files, or the reverse) follow one rule:

1. One file (or ``--cfg-options``) setting both a 0.x key and its mmengine counterpart is an
   error naming both keys: the intent is ambiguous.
2. Otherwise the translated 0.x value overrides what the merged config holds, which is what a
   user who copies the tutorial's 0.x snippets onto 1.x bases wants ...
3. ... except for mmengine values set by a file that inherits (directly or not) the file that set
   the 0.x key: a 1.x child deliberately overrides its 0.x base, so those values are kept
   (``--cfg-options`` count as the nearest child of all).
"""

from typing import Callable, Optional, Tuple

from .legacy_context import TranslationContext
from .legacy_data import translate_data, translate_evaluation, translate_pipelines
from .legacy_model import (
    translate_model_cfgs,
    translate_top_level_model_cfgs,
    translate_unsupported,
)
from .legacy_optim import translate_optimizer
from .legacy_runtime import translate_checkpoint_config, translate_log_config, translate_runtime
from .legacy_schedule import translate_lr_schedule, translate_train_loop
from .report import TranslationReport
from .sources import ConfigSources

Rule = Callable[[TranslationContext], None]


def translate_scope_and_imports(t: TranslationContext) -> None:
    """Build translated components from mmaction_ft; import the modules the rules asked for."""
    if t.report.entries and 'default_scope' not in t.cfg:
        t.cfg['default_scope'] = 'mmaction_ft'
        t.report.add('(none)', "default_scope='mmaction_ft'", 'build mmaction_ft components')
    if t.imports:
        custom = dict(t.cfg.get('custom_imports') or {})
        imports = custom.get('imports') or []
        imports = [imports] if isinstance(imports, str) else list(imports)
        custom['imports'] = imports + [m for m in t.imports if m not in imports]
        custom.setdefault('allow_failed_imports', False)
        t.cfg['custom_imports'] = custom


# In dependency order: the LR schedule needs the train loop and the optimizer's LR, evaluation
# needs the dataloaders, the scope is set once anything was translated.
RULES: Tuple[Rule, ...] = (
    translate_unsupported,
    translate_top_level_model_cfgs,
    translate_model_cfgs,
    translate_optimizer,
    translate_train_loop,
    translate_lr_schedule,
    translate_checkpoint_config,
    translate_log_config,
    translate_data,
    translate_pipelines,
    translate_evaluation,
    translate_runtime,
    translate_scope_and_imports,
)


def translate_legacy(
    cfg: dict, sources: Optional[ConfigSources] = None, rules: Tuple[Rule, ...] = RULES
) -> Tuple[dict, TranslationReport]:
    """Translate the 0.x keys of a merged config; a pure 1.x config comes back unchanged.

    Args:
        cfg: The merged config as a plain dict (``Config.to_dict()``); it is not modified.
        sources: Which file set which key, for the mixed-dialect rule (module docstring). Without
            it every translated 0.x value overrides.
        rules: The rules to apply, in order.

    Returns:
        The translated config dict and the report of what changed.

    Raises:
        ConfigError: A 0.x key without equivalent, a bad value, or a file setting both dialects.
    """
    context = TranslationContext(cfg, sources)
    for rule in rules:
        rule(context)
    return context.cfg, context.report
