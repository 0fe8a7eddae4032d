"""The state every 0.x translation rule works on: the config, the report and how to write.

A rule (a function in a ``legacy_*.py`` module, listed in :data:`.legacy.RULES`) takes one
:class:`TranslationContext`, pops the 0.x keys it owns with :meth:`~TranslationContext.pop`,
writes their mmengine translation with :meth:`~TranslationContext.write` (which applies the
mixed-dialect rule of :mod:`.legacy`) and names the file of a bad key with
:meth:`~TranslationContext.where`. This module imports no rule, so rules import it freely.
"""

import copy
from dataclasses import dataclass
from typing import Any, List, Optional, Sequence

from .dialect import LEGACY_KEYS, UNSUPPORTED_LEGACY_KEYS
from .errors import ConfigError
from .keypaths import MISSING, get_path, join_path, pop_path, set_path, split_path
from .report import TranslationReport
from .sources import ConfigSources, SourceFile

_SCALARS = (int, float, str, bool, type(None))


@dataclass(frozen=True)
class TrainLength:
    """How long training runs, as the translated ``train_cfg`` says.

    Args:
        by_epoch: ``True`` for ``EpochBasedTrainLoop``, ``False`` for ``IterBasedTrainLoop``.
        length: ``max_epochs`` (or ``max_iters``), ``None`` if the config does not say.
    """

    by_epoch: bool
    length: Optional[int]


class TranslationContext:
    """One config being translated: the rules read and change :attr:`cfg` through it.

    Args:
        cfg: The merged config dict (copied).
        sources: Provenance of the keys, or ``None`` (every translated value then overrides).

    Attributes:
        cfg: The config as translated so far.
        original: The config before translation, for 1.x values a child file keeps.
        report: What was translated.
        imports: Modules to add to ``custom_imports`` (components a translation introduced).
        is_legacy: Whether the config has any 0.x top-level key.
    """

    def __init__(self, cfg: dict, sources: Optional[ConfigSources] = None) -> None:
        self.cfg = copy.deepcopy(cfg)
        self.original = copy.deepcopy(cfg)  # values before translation, for kept 1.x values
        self.sources = sources
        self.report = TranslationReport()
        self.imports: List[str] = []
        self.is_legacy = any(key in cfg for key in LEGACY_KEYS | set(UNSUPPORTED_LEGACY_KEYS))

    def pop(self, key: str) -> Any:
        """Remove a 0.x key from the config and return its value (``MISSING`` if absent)."""
        return pop_path(self.cfg, key)

    def where(self, key: str) -> str:
        """``' (set in file, line N)'`` for a top-level key, ``''`` when unknown."""
        place = self.sources.where(key) if self.sources else ''
        return f' (set in {place})' if place else ''

    def drop(self, old: str, reason: str) -> None:
        """Record a 0.x key removed without counterpart."""
        self.report.add(old, '(dropped)', reason)

    def write(
        self,
        old: str,
        new: str,
        value: Any,
        *,
        how: str = 'replace',
        clash: Sequence[str] = (),
        detail: str = '',
    ) -> None:
        """Put the translation of 0.x key ``old`` at mmengine path ``new`` (module docstring rule).

        Args:
            old: The 0.x key path the value comes from.
            new: The mmengine key path to write.
            value: The translated value.
            how: ``'replace'`` the value at ``new``; ``'update'`` a dict there key by key; or
                ``'merge'`` dicts recursively unless both have a different ``type`` (then replace).
            clash: mmengine paths that conflict with ``old`` when one file sets both
                (default: ``new``).
            detail: A remark for the report.
        """
        new_path = split_path(new)
        nearer = self._nearer_setters(old, new_path, [split_path(c) for c in clash] or [new_path])
        current = get_path(self.cfg, new_path)
        if any(f.sets_whole(new_path) for f in nearer):
            self.report.add(old, new, f'not applied: {nearer[0].name} sets {new} over this 0.x key')
            return
        result = _combine(current, copy.deepcopy(value), how)
        kept = []
        for source in nearer:
            for leaf in source.opaque_under(new_path):
                kept_value = get_path(self.original, leaf)
                if kept_value is not MISSING and isinstance(result, dict):
                    set_path(result, leaf[len(new_path) :], copy.deepcopy(kept_value))
                    kept.append(f'{join_path(leaf)} from {source.name}')
        remarks = [detail] if detail else []
        if kept:
            remarks.append('kept ' + ', '.join(kept))
        else:
            remarks.append(self._override_remark(new_path, current, value, how))
        set_path(self.cfg, new_path, result)
        self.report.add(old, new, '; '.join(r for r in remarks if r))

    def _nearer_setters(
        self, old: str, new_path: tuple, clash_paths: List[tuple]
    ) -> List[SourceFile]:
        if self.sources is None:
            return []
        old_path = split_path(old)
        for source in self.sources.files():
            if not source.names(old_path):
                continue
            for path in clash_paths:
                if source.names(path):
                    raise ConfigError(
                        f"{source.name} sets both '{old}' (MMAction2 0.x) and "
                        f"'{join_path(path)}' (mmengine), which mean the same thing: keep one"
                    )
        owner = self.sources.owner(old_path)
        if owner is None:
            return []
        return [f for f in self.sources.setters(new_path) if f.inherits_from(owner)]

    def _override_remark(self, new_path: tuple, current: Any, value: Any, how: str) -> str:
        if current is MISSING or current == value:
            return ''
        owner = self.sources.owner(new_path) if self.sources else None
        origin = f' from {owner.name}' if owner else ''
        if how != 'replace' and isinstance(current, dict) and isinstance(value, dict):
            changed = [
                f'{k}={current[k]!r}' if isinstance(current[k], _SCALARS) else k
                for k in value
                if k in current and current[k] != value[k]
            ]
            return f'overrides {", ".join(changed)}{origin}' if changed else ''
        shown = f'={current!r}' if isinstance(current, _SCALARS) else ''
        return f'overrides {join_path(new_path)}{shown}{origin}'

    def train_length(self) -> TrainLength:
        """The translated train loop's kind and length (for schedules and evaluation)."""
        loop = self.cfg.get('train_cfg') or {}
        by_epoch = loop.get('type', 'EpochBasedTrainLoop') != 'IterBasedTrainLoop' and loop.get(
            'by_epoch', True
        )
        return TrainLength(by_epoch, loop.get('max_epochs' if by_epoch else 'max_iters'))


def _combine(current: Any, value: Any, how: str) -> Any:
    if how == 'replace' or not (isinstance(current, dict) and isinstance(value, dict)):
        return value
    if how == 'update':
        return {**copy.deepcopy(current), **value}
    if 'type' in current and 'type' in value and current['type'] != value['type']:
        return value
    return _deep_merge(copy.deepcopy(current), value)


def _deep_merge(base: dict, override: dict) -> dict:
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            _deep_merge(base[key], value)
        else:
            base[key] = value
    return base
