"""Loading configs: mmengine (MMAction2 1.x) style, MMAction2 0.x style, or a mix of both."""

from .checks import check_unknown_keys
from .errors import ConfigError
from .legacy import translate_legacy
from .legacy_warmup import LegacyWarmupLR
from .loading import load_config
from .report import Translation, TranslationReport
from .sources import ConfigSources

__all__ = [
    'ConfigError',
    'ConfigSources',
    'LegacyWarmupLR',
    'Translation',
    'TranslationReport',
    'check_unknown_keys',
    'load_config',
    'translate_legacy',
]
