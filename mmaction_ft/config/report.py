"""What the 0.x -> mmengine translation changed, in lines a user can read once at start-up."""

import logging
from dataclasses import dataclass
from typing import Iterator, List, Union


@dataclass(frozen=True)
class Translation:
    """One translated key: ``old -> new``, with an optional remark (dropped, kept, overrides...).

    Args:
        old: The MMAction2 0.x key path (``'optimizer_config.grad_clip'``).
        new: The mmengine key path(s) it became, or ``'(dropped)'``.
        detail: Why, or what value won when two files disagreed.
    """

    old: str
    new: str
    detail: str = ''

    def __str__(self) -> str:
        line = f'{self.old} -> {self.new}'
        return f'{line}  ({self.detail})' if self.detail else line


class TranslationReport:
    """The list of translations applied to one config, in the order they were made."""

    def __init__(self) -> None:
        self.entries: List[Translation] = []

    def add(self, old: str, new: str, detail: str = '') -> None:
        """Record that 0.x key ``old`` became ``new``."""
        self.entries.append(Translation(old, new, detail))

    @property
    def lines(self) -> List[str]:
        """``'old -> new  (detail)'`` lines; consecutive plain entries of one old key share a line
        (``'total_epochs -> train_cfg.type, train_cfg.max_epochs'``)."""
        lines: List[str] = []
        previous = None
        for entry in self.entries:
            if previous and not entry.detail and not previous.detail and entry.old == previous.old:
                lines[-1] += f', {entry.new}'
            else:
                lines.append(str(entry))
            previous = entry
        return lines

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[Translation]:
        return iter(self.entries)

    def summary(self) -> str:
        """A block of text for the log or the terminal."""
        if not self.entries:
            return 'Config is in mmengine (MMAction2 1.x) style: nothing translated.'
        header = 'MMAction2 0.x config keys translated to mmengine style:'
        return '\n'.join([header] + [f'  {line}' for line in self.lines])

    def log(self, logger: Union[logging.Logger, logging.LoggerAdapter]) -> None:
        """Write :meth:`summary` to ``logger`` (e.g. an ``MMLogger``) if anything changed."""
        if self.entries:
            logger.info(self.summary())
