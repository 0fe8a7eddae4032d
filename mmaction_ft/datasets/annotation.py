"""Reading annotation lists and class-name files, with errors that point at file and line.

An annotation list holds one sample per line; fields are separated by any run of whitespace and
blank lines are ignored. Each dataset parses its own line format; this module supplies the line
reader, the integer/label checks and the error that names ``file:line``.
"""

import os.path as osp
from typing import List, Optional, Tuple

from mmengine.fileio import exists, get_text


class AnnotationError(ValueError):
    """A malformed line in an annotation or class-name file.

    The message reads ``<file>:<line>: <problem>`` followed by the offending line and, when known,
    the expected format, so the user can jump straight to the line.

    Args:
        path: The file that holds the line.
        lineno: 1-based line number.
        problem: What is wrong with the line.
        line: The text of the line.
        expected: The line format the parser expects, e.g. ``'<frame_dir> <total_frames> <label>'``.
    """

    def __init__(
        self,
        path: str,
        lineno: int,
        problem: str,
        line: Optional[str] = None,
        expected: Optional[str] = None,
    ) -> None:
        message = f'{path}:{lineno}: {problem}'
        if line is not None:
            message += f'\n  line {lineno}: {line!r}'
        if expected is not None:
            message += f'\n  expected: {expected}'
        super().__init__(message)
        self.path = path
        self.lineno = lineno
        self.problem = problem


class LineFormatError(ValueError):
    """Raised by a line parser; the dataset adds the file, line number and expected format."""


def read_lines(path: str, what: str = 'annotation file') -> List[Tuple[int, str]]:
    """Read the non-blank lines of a text file.

    Args:
        path: Local path or any URI mmengine's file backends understand.
        what: How to call the file in the error message.

    Returns:
        ``(lineno, text)`` pairs with 1-based line numbers and surrounding whitespace stripped.

    Raises:
        FileNotFoundError: The file does not exist; the message holds the path.
    """
    if not path:
        raise FileNotFoundError(f'{what} is not set (got {path!r})')
    if not exists(path):
        hint = '' if osp.isabs(path) else f' (relative to the working dir {osp.abspath(".")})'
        raise FileNotFoundError(f'{what} not found: {path}{hint}')
    # A UTF-8 byte order mark (Windows editors) would otherwise glue itself to the first field.
    text = get_text(path, encoding='utf-8').lstrip('\ufeff')
    lines = []
    for lineno, raw in enumerate(text.splitlines(), start=1):
        stripped = raw.strip()
        if stripped:
            lines.append((lineno, stripped))
    return lines


def parse_int(token: str, field: str) -> int:
    """Parse one integer field of a line.

    Raises:
        LineFormatError: ``token`` is not an integer; the message names ``field``.
    """
    try:
        return int(token)
    except ValueError:
        raise LineFormatError(f'{field} must be an integer, got {token!r}') from None


def is_int(token: str) -> bool:
    """Whether ``token`` parses as an integer (``'3'``, ``'-1'``)."""
    try:
        int(token)
    except ValueError:
        return False
    return True


def load_class_names(path: str) -> List[str]:
    """Read class names from a text file, in label order.

    Two layouts are accepted::

        ApplyEyeMakeup              one name per line; line order = label 0, 1, ...
        ApplyLipstick

        1 ApplyEyeMakeup            UCF101 ``classInd.txt``: an index, then the name; indices
        2 ApplyLipstick             starting at 1 are shifted to 0-based labels

    A file is read as indexed when every line starts with an integer followed by a name. Names
    may contain spaces (Kinetics: ``air drumming``).

    Args:
        path: The class-name file.

    Returns:
        The class names, position ``i`` holding the name of label ``i``.

    Raises:
        FileNotFoundError: The file does not exist.
        AnnotationError: Indices are duplicated or leave gaps; the message names file and line.
    """
    lines = read_lines(path, what='label_map file')
    if not lines:
        raise AnnotationError(path, 1, 'the label_map file holds no class names')
    split = [text.split(maxsplit=1) for _, text in lines]
    indexed = all(len(parts) == 2 and is_int(parts[0]) for parts in split)
    if not indexed:
        return [text for _, text in lines]

    base = min(int(parts[0]) for parts in split)
    if base not in (0, 1):
        raise AnnotationError(
            path, lines[0][0], f'class indices must start at 0 or 1, the smallest is {base}'
        )
    names: List[Optional[str]] = [None] * len(lines)
    for (lineno, text), (index, name) in zip(lines, split):
        label = int(index) - base
        if not 0 <= label < len(lines):
            raise AnnotationError(
                path,
                lineno,
                f'class index {index} is out of range for {len(lines)} classes '
                f'(indices must run from {base} to {base + len(lines) - 1} without gaps)',
                text,
            )
        if names[label] is not None:
            raise AnnotationError(
                path, lineno, f'class index {index} appears twice ({names[label]!r})', text
            )
        names[label] = name.strip()
    return names  # type: ignore[return-value]
