"""The one exception a config mistake raises."""


class ConfigError(ValueError):
    """A config is wrong in a way that would otherwise surface later (or never).

    The message names the key path, the file (and line) that set it when known, and the fix.
    """


class ConfigTypeError(ConfigError, TypeError):
    """A config value has the wrong type (``lr='0.01'``, a string where a number belongs)."""
