"""Loading configs: mmengine (MMAction2 1.x) style, MMAction2 0.x style, or a mix of both."""

from .checks import check_unknown_keys
from .errors import ConfigError, ConfigTypeError
from .legacy import translate_legacy
from .legacy_warmup import LegacyWarmupLR
from .loading import load_config
from .locate import ConfigLocator
from .report import Translation, TranslationReport
from .sources import ConfigSources
from .type_names import check_type_names
from .value_checks import check_values

__all__ = [
    'ConfigError',
    'ConfigLocator',
    'ConfigSources',
    'ConfigTypeError',
    'LegacyWarmupLR',
    'Translation',
    'TranslationReport',
    'check_type_names',
    'check_unknown_keys',
    'check_values',
    'load_config',
    'translate_legacy',
]
