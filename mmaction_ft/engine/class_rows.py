"""Classifier rows by class name: which rows of a checkpoint's classifier a new label set reuses.

Finetuning (``load_from``) on classes the checkpoint partly knows keeps the rows of the shared
classes: :func:`match_classes` pairs the dataset's classes with the checkpoint's (a class map
first, then the exact name, then the normalised name: ``ApplyEyeMakeup`` = ``apply_eye_makeup``
= ``apply eye makeup``), and :func:`reuse_classifier_rows` builds the new classifier tensors from
the matched rows and the model's fresh init. :mod:`.weight_loading` calls these while loading.
"""

import difflib
import re
from dataclasses import dataclass
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

import torch

StateDict = Dict[str, torch.Tensor]


def _shape(value: Optional[torch.Tensor]) -> str:
    return 'not a tensor' if value is None else str(list(value.shape))


# Word separators in which spellings of one class differ ('apply_eye_makeup', 'apply eye makeup').
_SEPARATORS = re.compile(r'[\s_\-]+')


def normalise_class_name(name: str) -> str:
    """``name`` case-folded, without spaces, underscores and hyphens.

    UCF101's ``ApplyEyeMakeup``, a snake_case ``apply_eye_makeup`` and Kinetics' spaced
    ``apply eye makeup`` become the same string: dropping the separators instead of splitting
    CamelCase into words also covers ``MakeUp`` against ``makeup``.
    """
    return _SEPARATORS.sub('', name).casefold()


@dataclass(frozen=True)
class ClassMatch:
    """A class of the dataset whose classifier row is copied from the checkpoint.

    Attributes:
        target: The dataset's class name; ``target_index`` is its label.
        source: The checkpoint's class name; ``source_index`` is its label there.
        how: ``'exact'``, ``'normalised'`` or ``'class_map'``.
    """

    target: str
    target_index: int
    source: str
    source_index: int
    how: str

    def __str__(self) -> str:
        return f'{self.target} <- {self.source}'


@dataclass
class ClassNames:
    """The class names on both sides of a finetuning load (see :func:`load_weights`).

    Attributes:
        source: The checkpoint's classes in label order; None when it names none.
        target: The dataset's classes in label order; None when it names none.
        class_map: Dataset class -> checkpoint class for names that do not match by
            themselves: a dict, or the path of a map file (see :func:`read_class_map`).
        reuse: False copies no row by class name (``load_cfg.reuse_classes=False``).
        source_origin: Where ``source`` came from, for messages.
    """

    source: Optional[Sequence[str]] = None
    target: Optional[Sequence[str]] = None
    class_map: Optional[Union[str, Mapping[str, str]]] = None
    reuse: bool = True
    source_origin: str = "the checkpoint's meta['dataset_meta']['classes']"


def checkpoint_class_names(checkpoint: Mapping) -> Optional[List[str]]:
    """The classes a checkpoint names in ``meta['dataset_meta']['classes']`` (mmengine's runner
    writes the train dataset's metainfo there), or None."""
    meta = checkpoint.get('meta') if isinstance(checkpoint, Mapping) else None
    classes = ((meta or {}).get('dataset_meta') or {}).get('classes')
    return [str(name) for name in classes] if classes else None


def _text_lines(path: str) -> List[Tuple[int, str]]:
    """``(lineno, text)`` of the file's non-blank lines that are not ``#`` comments."""
    with open(path, encoding='utf-8') as f:
        lines = [(lineno, line.strip()) for lineno, line in enumerate(f, start=1)]
    return [(lineno, text) for lineno, text in lines if text and not text.startswith('#')]


def read_class_names(path: str) -> List[str]:
    """Class names in label order from a label map (the engine's reader for
    ``load_cfg.source_classes``; datasets read theirs with ``load_class_names``).

    Two layouts, as label maps come::

        abseiling                   one name per line (MMAction2's label_map_k400.txt)
        air drumming

        1 ApplyEyeMakeup            an index, then the name (UCF101's classInd.txt); indices
        2 ApplyLipstick             count up from 0 or 1

    Raises:
        FileNotFoundError: No such file.
        ValueError: An empty file, an index out of order or a repeated name (``file:line``).
    """
    lines = _text_lines(path)
    if not lines:
        raise ValueError(f'{path}: the label map holds no class names')
    parts = [text.split(maxsplit=1) for _, text in lines]
    if all(len(words) == 2 and words[0].isdigit() for words in parts):
        base = min(int(parts[0][0]), 1)
        for i, ((lineno, _), words) in enumerate(zip(lines, parts)):
            if int(words[0]) != base + i:
                raise ValueError(
                    f'{path}:{lineno}: index {words[0]}, expected {base + i} (indices count up '
                    'from 0 or 1 in label order)'
                )
        names = [words[1] for words in parts]
    else:
        names = [text for _, text in lines]
    first_line = {}
    for (lineno, _), name in zip(lines, names):
        if name in first_line:
            raise ValueError(
                f'{path}:{lineno}: {name!r} is named again (first at line {first_line[name]})'
            )
        first_line[name] = lineno
    return names


def _closest(name: str, names: Sequence[str]) -> str:
    by_normalised = {normalise_class_name(other): other for other in names}
    close = difflib.get_close_matches(normalise_class_name(name), list(by_normalised), n=1)
    return f" (did you mean '{by_normalised[close[0]]}'?)" if close else ''


def _check_class_map(
    entries: Sequence[Tuple[str, str, str]],
    target_classes: Sequence[str],
    source_classes: Sequence[str],
) -> Dict[str, str]:
    """``(where, dataset class, checkpoint class)`` entries as a dict; an unknown name or a
    dataset class mapped twice is an error naming ``where`` (``file:line`` or the key)."""
    mapping: Dict[str, str] = {}
    first: Dict[str, str] = {}
    for where, target, source in entries:
        if target not in target_classes:
            raise ValueError(
                f'{where}: {target!r} is not a class of the dataset'
                f'{_closest(target, target_classes)}'
            )
        if source not in source_classes:
            raise ValueError(
                f'{where}: {source!r} is not a class of the checkpoint'
                f'{_closest(source, source_classes)}'
            )
        if target in mapping:
            raise ValueError(f'{where}: {target!r} is mapped again (first at {first[target]})')
        mapping[target], first[target] = source, where
    return mapping


def read_class_map(
    path: str, target_classes: Sequence[str], source_classes: Sequence[str]
) -> Dict[str, str]:
    """Read a class map file: which checkpoint class a dataset class takes its row from.

    One ``<dataset class><TAB or ,><checkpoint class>`` per line (a tab when the line has one,
    else the first comma; names may hold spaces); blank lines and ``#`` comments are skipped::

        # dataset class, checkpoint class
        BabyCrawling,crawling baby
        PlayingDaf,playing drums

    Returns:
        Dataset class -> checkpoint class.

    Raises:
        ValueError: A line without a separator, a name neither side has, or a dataset class
            mapped twice; the message starts with ``file:line``.
    """
    entries = []
    for lineno, text in _text_lines(path):
        separator = '\t' if '\t' in text else ','
        if separator not in text:
            raise ValueError(
                f'{path}:{lineno}: expected <dataset class><TAB or ,><checkpoint class>, '
                f'got {text!r}'
            )
        target, source = (part.strip() for part in text.split(separator, 1))
        entries.append((f'{path}:{lineno}', target, source))
    return _check_class_map(entries, target_classes, source_classes)


def match_classes(
    source_classes: Sequence[str],
    target_classes: Sequence[str],
    class_map: Optional[Mapping[str, str]] = None,
) -> List[ClassMatch]:
    """The dataset classes that have a row in the checkpoint, and which one.

    A ``class_map`` entry decides for its dataset class (the user's word beats a name that
    happens to be spelt alike); every other class matches a checkpoint class of the same name,
    else one of the same :func:`normalise_class_name`.

    Returns:
        One :class:`ClassMatch` per matched dataset class, in label order.

    Raises:
        ValueError: A ``class_map`` name that either side lacks, or a class that matches two
            checkpoint classes (a name listed twice, or two names that normalise alike); the
            message names both and says to pick one in ``class_map``.
    """
    if class_map:
        entries = [(f'class_map[{t!r}]', t, s) for t, s in class_map.items()]
        class_map = _check_class_map(entries, target_classes, source_classes)
    exact: Dict[str, List[int]] = {}
    normalised: Dict[str, List[int]] = {}
    for index, name in enumerate(source_classes):
        exact.setdefault(name, []).append(index)
        normalised.setdefault(normalise_class_name(name), []).append(index)
    matches = []
    for target_index, name in enumerate(target_classes):
        if class_map and name in class_map:
            how, candidates = 'class_map', exact[class_map[name]]
        elif name in exact:
            how, candidates = 'exact', exact[name]
        elif normalise_class_name(name) in normalised:
            how, candidates = 'normalised', normalised[normalise_class_name(name)]
        else:
            continue
        if len(candidates) > 1:
            both = ' and '.join(f'{source_classes[i]!r} (label {i})' for i in candidates)
            raise ValueError(
                f"the dataset's class {name!r} matches the checkpoint's classes {both} "
                f'({how} name): map it to one of them in load_cfg.class_map'
            )
        source_index = candidates[0]
        matches.append(
            ClassMatch(name, target_index, source_classes[source_index], source_index, how)
        )
    return matches


def reuse_classifier_rows(
    source: Mapping[str, torch.Tensor],
    fresh: Mapping[str, torch.Tensor],
    source_classes: Sequence[str],
    target_classes: Sequence[str],
    class_map: Optional[Mapping[str, str]] = None,
) -> Tuple[StateDict, List[ClassMatch]]:
    """The classifier for ``target_classes``: rows of the classes the checkpoint shares copied
    from ``source``, the other rows taken from ``fresh`` (the model's own init).

    Args:
        source: The checkpoint's classifier tensors by key (weight ``[C_src, D]``, bias
            ``[C_src]``); row ``i`` belongs to ``source_classes[i]``.
        fresh: The model's freshly initialised tensors under the same keys, ``[C_tgt, ...]``.
        source_classes: The checkpoint's classes in label order.
        target_classes: The dataset's classes in label order.
        class_map: Dataset class -> checkpoint class (see :func:`match_classes`).

    Returns:
        The new tensors by key (``fresh`` itself is not changed), and the matches.

    Raises:
        ValueError: A tensor without one row per class, or a matching error of
            :func:`match_classes`.
    """
    matches = match_classes(source_classes, target_classes, class_map)
    rows = {}
    for key, init in fresh.items():
        weights = source.get(key)
        if (
            weights is None
            or weights.shape[0] != len(source_classes)
            or init.shape[0] != len(target_classes)
            or weights.shape[1:] != init.shape[1:]
        ):
            raise ValueError(
                f'{key}: checkpoint {_shape(weights)} for {len(source_classes)} classes, '
                f'model {_shape(init)} for {len(target_classes)}: not one row per class'
            )
        new = init.detach().clone()
        for match in matches:
            new[match.target_index] = weights[match.source_index].to(new.dtype)
        rows[key] = new
    return rows, matches


def class_map_of(classes: Optional[ClassNames]) -> Optional[Dict[str, str]]:
    """``classes.class_map`` read and checked against both class lists (None without one)."""
    if classes is None or classes.class_map is None or not classes.reuse:
        return None
    if classes.source is None or classes.target is None:
        missing = (
            'the checkpoint (load_cfg.source_classes)'
            if classes.source is None
            else ('the dataset (label_map or metainfo.classes)')
        )
        raise ValueError(
            f'class_map {classes.class_map!r} needs the class names of both sides; '
            f'{missing} names none'
        )
    if isinstance(classes.class_map, str):
        return read_class_map(classes.class_map, classes.target, classes.source)
    entries = [(f'class_map[{t!r}]', t, s) for t, s in classes.class_map.items()]
    return _check_class_map(entries, classes.target, classes.source)


def names_differ(classes: Optional[ClassNames]) -> bool:
    return (
        classes is not None
        and classes.source is not None
        and classes.target is not None
        and list(classes.source) != list(classes.target)
    )
