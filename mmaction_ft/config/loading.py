"""One entry point for every tool: read a config, apply overrides, translate 0.x keys, check."""

import contextlib
import inspect
import warnings
from typing import Any, Dict, Iterator, List, Optional, Tuple

import mmengine
from mmengine.config import Config

from mmaction_ft.engine.finetune_presets import check_finetune_cfg
from mmaction_ft.registry import SCOPE

from .checks import check_unknown_keys
from .errors import ConfigError
from .legacy import translate_legacy
from .locate import ConfigLocator
from .report import TranslationReport
from .sources import ConfigSources
from .type_names import check_type_names
from .value_checks import check_values

# MMAction2 1.x configs register their parts under this scope; ours has the same names.
MMACTION2_SCOPE = 'mmaction'

# The one private mmengine API this package relies on (see _dicts_override_none): a pre-pass
# cannot do the same, since mmengine parses and merges the bases inside Config.fromfile.
# requirements.txt pins mmengine<0.11, the range it is tested with, and
# tests/config/test_private_merge_api.py checks this signature on the installed version.
MERGE_PARAMETERS = ('a', 'b', 'allow_list_keys')


def load_config(
    path: str, cfg_options: Optional[Dict[str, Any]] = None
) -> Tuple[Config, TranslationReport]:
    """Load a config written in mmengine (MMAction2 1.x) style, 0.x style, or a mix of both.

    Steps: ``Config.fromfile`` (bases merged), ``--cfg-options`` merged (dotted keys, list
    indices), unknown top-level keys rejected, 0.x keys translated (see :mod:`.legacy` for the
    rule when both dialects set the same thing), MMAction2's ``default_scope='mmaction'``
    replaced by ``'mmaction_ft'``, then the values a wrong type would break far away checked
    (:mod:`.value_checks`) and every component ``type`` looked up (:mod:`.type_names`).

    One merge rule is relaxed: a dict in a child over ``None`` in a base (the tutorial's
    ``test_cfg=dict(average_clips=None)`` over a 1.x base's ``test_cfg=None``) merges as if the
    base said ``dict()``; mmengine refuses it, which would make 0.x files unusable on 1.x bases.

    Args:
        path: The config file.
        cfg_options: Overrides as parsed by mmengine's ``DictAction``
            (``{'model.cls_head.num_classes': 101}``); 0.x keys are allowed here too.

    Returns:
        The mmengine-style config (its ``filename`` is ``path``) and the translation report.

    Raises:
        ConfigError: For an unknown key, a 0.x setting without equivalent, one file setting a
            0.x key together with its mmengine counterpart, a value of the wrong type or range
            (a :class:`~.errors.ConfigTypeError` for the type) or an unregistered ``type``.
    """
    relaxed: List[str] = []
    with _dicts_override_none(relaxed):
        cfg = Config.fromfile(path)
        if cfg_options:
            cfg.merge_from_dict(cfg_options)
    sources = ConfigSources.from_file(path, cfg_options)
    check_unknown_keys(cfg, sources)
    merged = cfg.to_dict()
    translated, report = translate_legacy(merged, sources)
    for key in relaxed:
        report.add(key, key, 'a dict over None in a base: merged as if the base said dict()')
    if translated.get('default_scope') == MMACTION2_SCOPE:
        translated['default_scope'] = SCOPE
        report.add(
            'default_scope', 'default_scope', f"MMAction2's {MMACTION2_SCOPE!r} -> {SCOPE!r}"
        )
    locator = ConfigLocator(sources, report, merged)
    check_values(translated, locator)
    check_type_names(translated, locator)
    _check_finetune(translated, locator)
    return Config(translated, filename=path), report


def _check_finetune(cfg: dict, locator: ConfigLocator) -> None:
    """The ``finetune`` key's values (the runner applies them), with the file and line."""
    if cfg.get('finetune') is None:
        return
    try:
        check_finetune_cfg(cfg['finetune'])
    except (KeyError, TypeError, ValueError) as err:
        message = err.args[0] if isinstance(err, KeyError) else str(err)
        raise ConfigError(locator.prefix(('finetune',), cfg['finetune']) + message) from None


def private_merge() -> Optional[staticmethod]:
    """mmengine's ``Config._merge_a_into_b`` if it still has the signature this module patches.

    Returns ``None`` (after a warning) on an mmengine release that changed it: configs then load
    with mmengine's own merge, which refuses a dict over a base's ``None``.
    """
    method = Config.__dict__.get('_merge_a_into_b')
    if isinstance(method, staticmethod):
        parameters = tuple(inspect.signature(method.__func__).parameters)
        if parameters == MERGE_PARAMETERS:
            return method
    warnings.warn(
        f'mmengine {mmengine.__version__} changed Config._merge_a_into_b (mmaction_ft is tested '
        'with mmengine>=0.10.4,<0.11): a dict in a child config over None in a base is refused',
        stacklevel=3,
    )
    return None


@contextlib.contextmanager
def _dicts_override_none(relaxed: List[str]) -> Iterator[None]:
    """Let mmengine merge a child's dict over a base's ``None``; record the keys in ``relaxed``."""
    original = private_merge()
    if original is None:
        yield
        return
    merge = original.__func__

    def tolerant_merge(a: dict, b: dict, allow_list_keys: bool = False) -> dict:
        if isinstance(a, dict) and isinstance(b, dict):
            for key, value in a.items():
                if isinstance(value, dict) and key in b and b[key] is None:
                    b[key] = {}
                    relaxed.append(key)
        return merge(a, b, allow_list_keys)

    Config._merge_a_into_b = staticmethod(tolerant_merge)
    try:
        yield
    finally:
        Config._merge_a_into_b = original
