"""Where a value of a loaded (translated) config was written: ``file.py:12``, for error messages.

A value the user wrote in mmengine style is found through :class:`~.sources.ConfigSources`. A
value that came from a 0.x key (``optimizer=dict(lr=...)`` became ``optim_wrapper.optimizer.lr``)
is traced back through the :class:`~.report.TranslationReport` to the 0.x key the user wrote, when
the config before translation holds the same value there; otherwise the mmengine key is named.
"""

from typing import Any, List, Optional, Tuple

from .keypaths import KeyPath, get_path, join_path, split_path
from .report import TranslationReport
from .sources import ConfigSources


class ConfigLocator:
    """Names the file and line behind each value of one loaded config.

    Args:
        sources: Which file sets which key; ``None`` (a plain dict config) locates nothing.
        report: The 0.x translation report of the config, if it was translated.
        original: The merged config before translation, to confirm a value came from a 0.x key.
    """

    def __init__(
        self,
        sources: Optional[ConfigSources] = None,
        report: Optional[TranslationReport] = None,
        original: Optional[dict] = None,
    ) -> None:
        self.sources = sources
        self.report = report
        self.original = original

    def written_at(self, path: KeyPath, value: Any) -> KeyPath:
        """The key path the user wrote ``value`` at: ``path``, or the 0.x key it was translated
        from."""
        if self.report is None or self.original is None:
            return path
        for old, suffix in self._translations_into(path):
            for candidate in (old + suffix, old):
                if get_path(self.original, candidate) == value:
                    return candidate
        return path

    def key_name(self, path: KeyPath, value: Any) -> str:
        """The key as the user wrote it: ``'optim_wrapper.optimizer.lr'``, or for a translated
        0.x key ``'optimizer.lr (optim_wrapper.optimizer.lr after translation)'``."""
        written = self.written_at(path, value)
        if written == path:
            return join_path(path)
        return f'{join_path(written)} ({join_path(path)} after translation)'

    def where(self, path: KeyPath, value: Any) -> str:
        """``'configs/x.py:12'`` (or ``'configs/x.py'``, ``'--cfg-options'``; ``''`` unknown)."""
        if self.sources is None:
            return ''
        return self.sources.locate(self.written_at(path, value))

    def prefix(self, path: KeyPath, value: Any) -> str:
        """:meth:`where` as a message prefix: ``'configs/x.py:12: '``, or ``''``."""
        place = self.where(path, value)
        return f'{place}: ' if place else ''

    def _translations_into(self, path: KeyPath) -> List[Tuple[KeyPath, KeyPath]]:
        """``(0.x key path, rest of path)`` for each translation that wrote around ``path``,
        deepest target first."""
        found = []
        for entry in self.report or ():
            if entry.detail.startswith('not applied') or not _is_key_path(entry.old):
                continue
            if not _is_key_path(entry.new):
                continue
            new = split_path(entry.new)
            if path[: len(new)] == new:
                found.append((len(new), split_path(entry.old), path[len(new) :]))
        found.sort(key=lambda item: -item[0])
        return [(old, suffix) for _, old, suffix in found]


def _is_key_path(text: str) -> bool:
    """Whether a report entry names a key path (not ``'(dropped)'`` or ``'Collect + ToTensor'``)."""
    return bool(text) and all(part.isidentifier() or part.isdigit() for part in text.split('.'))
