"""Putting a checkpoint's tensors into a model, saying exactly what was loaded and what was not.

Four modes, one per intent:

- ``'finetune'`` (``load_from`` while training): every tensor must load, except the classifier
  when only its class count changed (a 400-class Kinetics checkpoint into a 101-class UCF101
  model). The classifier then keeps its fresh init and the log says so in one line:
  ``cls_head.fc_cls: checkpoint has 400 classes, model has 101 -> re-initialised``.
  Anything else that does not fit is a :class:`CheckpointMismatchError`.
- ``'partial'`` (``load_cfg = dict(allow_partial=True)``): load what fits, log every skipped
  tensor with its reason, never raise.
- ``'strict'`` (test, inference, resume): everything must match; a class-count mismatch says
  which ``num_classes`` would evaluate the checkpoint, instead of silently testing a random head.

- ``'pretrained'`` (``model.backbone.pretrained``, through :func:`load_pretrained`): every
  tensor of the backbone must load (BN step counters that old files lack keep their value);
  file tensors the backbone has no use for (an ImageNet checkpoint's ``fc``) are not used, and
  each is logged. The file's keys are first put into the backbone's layout by a pure function
  that the backbone family provides (torchvision names, 2D->3D inflation, TSM's wrapped convs).

In ``'finetune'`` and ``'partial'`` mode the classifier's rows follow the class names when both
sides have them (:class:`ClassNames`: the checkpoint's ``meta['dataset_meta']['classes']`` or a
label map the user names, and the dataset's classes): the row of a class the checkpoint shares
with the dataset is copied, by exact name, by normalised name (``ApplyEyeMakeup`` =
``apply_eye_makeup`` = ``apply eye makeup``) or as a class map file says, and only the other
rows keep their fresh init. The log lists both::

    cls_head.fc_cls: reused 2 of 3 classifier rows from the checkpoint: C <- C, F <- f
    cls_head.fc_cls: 1 of 3 classifier rows re-initialised (not among the checkpoint's 8 classes): X

Every mode renames the file's keys with ``revise_keys`` first (mmengine's semantics: a list of
``(pattern, replacement)`` regular expressions applied in turn; the default drops DDP's
``module.``), and logs the same report: re-initialised classifiers, each tensor not loaded with
its reason, and ``<Model>: loaded N/M tensors from <source>``.

The report and its words (log lines, error messages) are :mod:`.load_report`; reading the file
is ``mmaction_ft.engine.checkpoint``.
"""

import logging
import re
from collections import OrderedDict
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import torch
from torch import nn

from .class_rows import ClassMatch, ClassNames, class_map_of, names_differ, reuse_classifier_rows
from .load_report import (
    ALLOW_PARTIAL_HINT,
    LoadReport,
    Shape,
    listing,
    log_classifiers,
    log_report,
    pretrained_message,
    strict_message,
    under,
)

__all__ = [
    'DEFAULT_REVISE_KEYS',
    'LOAD_MODES',
    'CheckpointMismatchError',
    'ClassNames',
    'LoadReport',
    'StateDictConverter',
    'check_revise_keys',
    'load_pretrained',
    'load_weights',
]

LOAD_MODES = ('finetune', 'partial', 'strict', 'pretrained')
# mmengine's default ``revise_keys``: drop the ``module.`` of a DDP-wrapped model's keys.
DEFAULT_REVISE_KEYS: Tuple[Tuple[str, str], ...] = ((r'^module\.', ''),)

StateDict = Dict[str, torch.Tensor]
RevisionRules = Sequence[Tuple[str, str]]
# convert(file_state_dict, module) -> a new state dict in the module's key layout (pure).
StateDictConverter = Callable[[StateDict, nn.Module], StateDict]


class CheckpointMismatchError(ValueError):
    """A checkpoint's tensors do not fit the model in the requested loading mode."""


def _shape(value: object) -> Shape:
    return tuple(value.shape) if isinstance(value, torch.Tensor) else None


def _class_count_change(
    prefix: str, report: LoadReport, model_keys: Sequence[str]
) -> Optional[Tuple[int, int]]:
    """(checkpoint classes, model classes) if the head under ``prefix`` only changed its class
    count: some of its tensors differ in their first dimension alone, none is missing."""
    keys = [key for key in model_keys if under(key, prefix)]
    changed = [key for key in keys if key in report.mismatched]
    if not changed or any(key in report.missing for key in keys):
        return None
    for key in changed:
        ckpt_shape, model_shape = report.mismatched[key]
        if ckpt_shape is None or model_shape is None or len(ckpt_shape) != len(model_shape):
            return None
        if len(model_shape) == 0 or ckpt_shape[1:] != model_shape[1:]:
            return None
    ckpt_shape, model_shape = report.mismatched[changed[0]]
    return ckpt_shape[0], model_shape[0]


def _compare(model_state: Mapping, state_dict: Mapping, source: str) -> LoadReport:
    report = LoadReport(source=source, num_model_tensors=len(model_state))
    for key, target in model_state.items():
        if key not in state_dict:
            report.missing.append(key)
            continue
        ckpt_shape, model_shape = _shape(state_dict[key]), _shape(target)
        if ckpt_shape != model_shape:
            report.mismatched[key] = (ckpt_shape, model_shape)
        else:
            report.loaded.append(key)
    report.unexpected = [key for key in state_dict if key not in model_state]
    return report


def check_revise_keys(
    revise_keys: RevisionRules, name: str = 'revise_keys'
) -> Tuple[Tuple[str, str], ...]:
    """``revise_keys`` as a tuple of ``(pattern, replacement)`` pairs, or an error naming the
    entry (``name``: how the caller's user wrote it, e.g. ``'load_cfg.revise_keys'``). A config
    read back from a file holds lists where it had tuples; both are accepted."""
    if not isinstance(revise_keys, (list, tuple)):
        raise TypeError(
            f'{name} must be a list of (pattern, replacement) pairs, got {revise_keys!r}'
        )
    for i, rule in enumerate(revise_keys):
        if not (
            isinstance(rule, (list, tuple))
            and len(rule) == 2
            and all(isinstance(part, str) for part in rule)
        ):
            raise TypeError(
                f'{name}[{i}] must be a (pattern, replacement) pair of strings, got {rule!r}'
            )
        try:
            re.compile(rule[0])
        except re.error as err:
            raise ValueError(
                f'{name}[{i}]: {rule[0]!r} is not a regular expression: {err}'
            ) from None
    return tuple((pattern, replacement) for pattern, replacement in revise_keys)


def _revise_keys(state_dict: Mapping[str, torch.Tensor], revise_keys: RevisionRules) -> StateDict:
    """Apply each ``(pattern, replacement)`` to every key in turn (``re.sub``, mmengine's
    ``revise_keys``); two keys that become one are an error instead of one silently winning."""
    revised = state_dict
    for i, (pattern, replacement) in enumerate(check_revise_keys(revise_keys)):
        renamed = OrderedDict()
        for key, value in revised.items():
            new_key = re.sub(pattern, replacement, key)
            if new_key in renamed:
                first = next(k for k in revised if re.sub(pattern, replacement, k) == new_key)
                raise CheckpointMismatchError(
                    f'revise_keys[{i}] {(pattern, replacement)!r} renames both {first} and '
                    f'{key} to {new_key}'
                )
            renamed[new_key] = value
        revised = renamed
    metadata = getattr(state_dict, '_metadata', None)
    if metadata is not None and revised is not state_dict:
        revised._metadata = metadata  # load_state_dict reads per-module versions from it
    return revised


def _class_rows(
    keys: Sequence[str],
    model_state: Mapping[str, torch.Tensor],
    state_dict: Mapping[str, torch.Tensor],
    classes: Optional[ClassNames],
    class_map: Optional[Dict[str, str]],
    source: str,
) -> Tuple[Optional[StateDict], List[ClassMatch], str]:
    """The classifier tensors ``keys`` rebuilt from the checkpoint's rows of shared classes, or
    ``(None, [], why none were reused)``."""
    num_source, num_target = state_dict[keys[0]].shape[0], model_state[keys[0]].shape[0]
    if classes is None:
        return None, [], 'no class names given to match rows by'
    if not classes.reuse:
        return None, [], 'load_cfg.reuse_classes=False'
    if classes.source is None and classes.target is None:
        return None, [], 'neither the checkpoint nor the dataset names its classes'
    if classes.source is None:
        return (
            None,
            [],
            (
                'the checkpoint names no classes; load_cfg.source_classes=<its label map> would '
                'reuse the rows of the classes it shares with the dataset'
            ),
        )
    if classes.target is None:
        return None, [], 'the dataset names no classes (label_map or metainfo.classes)'
    if len(classes.source) != num_source:
        raise CheckpointMismatchError(
            f'{classes.source_origin} names {len(classes.source)} classes, but {keys[0]} of '
            f'checkpoint {source} has {num_source} rows: these are not its classes'
        )
    if len(classes.target) != num_target:
        return None, [], f'the dataset names {len(classes.target)} classes, not {num_target}'
    tensors, matches = reuse_classifier_rows(
        {key: state_dict[key] for key in keys},
        {key: model_state[key] for key in keys},
        classes.source,
        classes.target,
        class_map,
    )
    if not matches:
        return (
            None,
            [],
            (
                f"none of the dataset's {num_target} classes is among the checkpoint's "
                f'{num_source} by name'
            ),
        )
    return tensors, matches, ''


def load_weights(
    model: nn.Module,
    state_dict: Mapping[str, torch.Tensor],
    mode: str = 'finetune',
    head_prefixes: Sequence[str] = ('cls_head.fc_cls',),
    logger: Optional[Union[logging.Logger, str]] = None,
    *,
    source: str = 'checkpoint',
    revise_keys: RevisionRules = DEFAULT_REVISE_KEYS,
    convert: Optional[StateDictConverter] = None,
    file_key: Optional[Callable[[str], str]] = None,
    hint: str = '',
    classes: Optional[ClassNames] = None,
) -> LoadReport:
    """Copy ``state_dict`` into ``model`` according to ``mode`` and log what happened.

    The file's keys are first renamed by ``revise_keys``, then ``convert`` (if given) turns
    them into the model's layout; what results is compared with the model key by key.

    Args:
        model: The model (unwrapped from DDP), or the backbone in ``'pretrained'`` mode.
        state_dict: Tensors by key, as from :func:`mmaction_ft.engine.get_state_dict`.
        mode: ``'finetune'``, ``'partial'``, ``'strict'`` or ``'pretrained'`` (see the module
            docstring).
        head_prefixes: Classifier modules whose class count may change when finetuning.
        logger: An mmengine logger (or its name); defaults to the current one, so the records
            land in the run's log file.
        source: The checkpoint's path or URL, used in messages.
        revise_keys: ``(pattern, replacement)`` regular expressions applied in turn to every
            key with ``re.sub``, as mmengine's ``revise_keys``; the default drops DDP's
            ``module.`` prefix.
        convert: Renames or reshapes the (revised) tensors into ``model``'s layout (see
            :data:`StateDictConverter`).
        file_key: The file's name for a model key, to name missing tensors as the file would.
        hint: Added to a ``'pretrained'`` error when most tensors are missing (e.g. which layout
            option to try).
        classes: The class names of the checkpoint and the dataset. In ``'finetune'`` and
            ``'partial'`` mode, a classifier whose class count or class names differ gets the
            checkpoint's rows of the classes both name (:func:`reuse_classifier_rows`); the
            rest keep their fresh init. None: rows are not matched by name.

    Returns:
        A :class:`LoadReport`.

    Raises:
        CheckpointMismatchError: In ``'finetune'`` mode when a tensor other than a class-count
            change of a head does not fit; in ``'strict'`` mode when anything does not fit; in
            ``'pretrained'`` mode when a model tensor is missing or has another shape.
    """
    if mode not in LOAD_MODES:
        raise ValueError(f'unknown load mode {mode!r}; choose one of {", ".join(LOAD_MODES)}')
    logger = logger or 'current'
    state_dict = _revise_keys(state_dict, revise_keys)
    if convert is not None:
        state_dict = convert(state_dict, model)
    model_state = model.state_dict()
    report = _compare(model_state, state_dict, source)

    head_changes = {}
    for prefix in head_prefixes if mode != 'pretrained' else ():
        change = _class_count_change(prefix, report, list(model_state))
        if change is not None:
            head_changes[prefix] = change

    rebuilt: StateDict = {}
    why_not: Dict[str, str] = {}  # classifier prefix -> why it reused no row
    if mode == 'strict':
        if report.skipped:
            raise CheckpointMismatchError(strict_message(report, head_changes, file_key))
    elif mode == 'pretrained':
        # BN's step counters are absent from older files (torchvision's first ResNet weights)
        # and only matter for momentum=None: such a model keeps its own.
        report.kept = [key for key in report.missing if key.endswith('num_batches_tracked')]
        report.missing = [key for key in report.missing if key not in report.kept]
        if report.missing or report.mismatched:
            message = pretrained_message(type(model).__name__, report, file_key, hint)
            raise CheckpointMismatchError(message)
    else:
        rebuilt, why_not = _rebuild_classifiers(
            report, head_prefixes, head_changes, model_state, state_dict, classes
        )
        if mode == 'finetune' and report.skipped:
            raise CheckpointMismatchError(
                f'checkpoint {source} does not fit the model (finetuning only re-initialises a '
                f'classifier whose class count changed):\n{listing(report, file_key)}\n'
                f'{ALLOW_PARTIAL_HINT}'
            )

    if not report.loaded:
        raise CheckpointMismatchError(
            f'no tensor of checkpoint {source} fits the model (is it a backbone-only file? '
            'those go to model.backbone.pretrained, whole recognizers to load_from):\n'
            f'{listing(report, file_key)}'
        )
    loadable = OrderedDict((key, state_dict[key]) for key in report.loaded)
    loadable.update(rebuilt)
    metadata = getattr(state_dict, '_metadata', None)
    if metadata is not None:
        loadable._metadata = metadata
    model.load_state_dict(loadable, strict=False)
    log_classifiers(report, head_changes, why_not, logger)
    log_report(report, mode, type(model).__name__, logger)
    return report


def _rebuild_classifiers(
    report: LoadReport,
    head_prefixes: Sequence[str],
    head_changes: Dict[str, Tuple[int, int]],
    model_state: Mapping[str, torch.Tensor],
    state_dict: Mapping[str, torch.Tensor],
    classes: Optional[ClassNames],
) -> Tuple[StateDict, Dict[str, str]]:
    """Decide, for each classifier, between loading it, rebuilding it row by row from the
    checkpoint's rows of shared classes and re-initialising it; update ``report`` and
    ``head_changes`` (a classifier whose classes changed but not their count joins it).

    Returns:
        The rebuilt tensors by key, and why each re-initialised classifier reused no row.
    """
    rebuilt: StateDict = {}
    why_not: Dict[str, str] = {}
    class_map = class_map_of(classes) if head_prefixes else None
    for prefix in head_prefixes:
        keys = [key for key in model_state if under(key, prefix)]
        if prefix not in head_changes:
            # Same class count: the rows still belong to other classes when the names differ.
            if not (keys and all(key in report.loaded for key in keys) and names_differ(classes)):
                continue
            if not classes.reuse:
                why_not[prefix] = 'loaded by position (load_cfg.reuse_classes=False)'
                continue
            count = model_state[keys[0]].shape[0]
            head_changes[prefix] = (count, count)
        tensors, matches, why = _class_rows(
            keys, model_state, state_dict, classes, class_map, report.source
        )
        report.loaded = [key for key in report.loaded if key not in keys]
        for key in keys:
            report.mismatched.pop(key, None)
        if tensors is None:
            report.reinitialised += keys
            why_not[prefix] = why
            continue
        rebuilt.update(tensors)
        report.mapped += keys
        report.reused_rows[prefix] = matches
        reused = {match.target_index for match in matches}
        report.new_rows[prefix] = [
            name for index, name in enumerate(classes.target) if index not in reused
        ]
    return rebuilt, why_not


def load_pretrained(
    module: nn.Module,
    source: str,
    convert: Optional[StateDictConverter] = None,
    *,
    revise_keys: RevisionRules = DEFAULT_REVISE_KEYS,
    file_key: Optional[Callable[[str], str]] = None,
    hint: str = '',
    logger: Optional[Union[logging.Logger, str]] = None,
) -> LoadReport:
    """Read ``source`` and load it into ``module`` with :func:`load_weights` in
    ``'pretrained'`` mode: every tensor of the module, or an error; file tensors the module has
    no use for are reported and not used.

    Args:
        module: The backbone (or another part that loads weights of its own).
        source: A local path, an http(s) URL, ``torchvision://NAME`` or ``hf://FOLDER``.
        convert: Renames or reshapes the file's tensors into ``module``'s layout (see
            :data:`StateDictConverter`); applied after ``revise_keys`` and after a leading
            ``backbone.`` is dropped, so a whole-recognizer checkpoint also serves as backbone
            weights. Not applied to files converted on reading (torchvision's video models,
            Hugging Face folders), which arrive in a recognizer's keys.
        revise_keys: ``(pattern, replacement)`` regular expressions for the file's keys, as in
            :func:`load_weights`.
        file_key: The file's name for a module key, to name missing tensors as the file would.
        hint: Appended to the error when most tensors are missing (e.g. which layout option to
            try).
        logger: An mmengine logger or its name; defaults to the current one.

    Returns:
        A :class:`LoadReport`; ``unexpected`` lists the file tensors that were not used.

    Raises:
        CheckpointMismatchError: A tensor of ``module`` is missing in the file or has another
            shape.
    """
    from .checkpoint import get_state_dict, load_checkpoint_file

    checkpoint = load_checkpoint_file(source, map_location='cpu')
    if (checkpoint.get('meta') or {}).get('converted_from'):
        convert = None
    return load_weights(
        module,
        get_state_dict(checkpoint),
        mode='pretrained',
        head_prefixes=(),
        logger=logger,
        source=source,
        revise_keys=[*revise_keys, (r'^backbone\.', '')],
        convert=convert,
        file_key=file_key,
        hint=hint,
    )
