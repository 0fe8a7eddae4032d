"""Putting a checkpoint's tensors into a model, saying exactly what was loaded and what was not.

Three modes, one per intent:

- ``'finetune'`` (``load_from`` while training): every tensor must load, except the classifier
  when only its class count changed (a 400-class Kinetics checkpoint into a 101-class UCF101
  model). The classifier then keeps its fresh init and the log says so in one line:
  ``cls_head.fc_cls: checkpoint has 400 classes, model has 101 -> re-initialised``.
  Anything else that does not fit is a :class:`CheckpointMismatchError`.
- ``'partial'`` (``load_cfg = dict(allow_partial=True)``): load what fits, log every skipped
  tensor with its reason, never raise.
- ``'strict'`` (test, inference, resume): everything must match; a class-count mismatch says
  which ``num_classes`` would evaluate the checkpoint, instead of silently testing a random head.

Backbone-only weights (``model.backbone.pretrained``) go through :func:`load_pretrained`: the
file's keys are converted to the backbone's layout by a pure function that the backbone family
provides (torchvision names, 2D->3D inflation, TSM's wrapped convs), then every backbone tensor
must be found; file tensors the backbone has no use for (torchvision's ``fc``) are logged.

Reading the file is ``mmaction_ft.engine.checkpoint``.
"""

import logging
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Mapping, Optional, Sequence, Tuple, Union

import torch
from mmengine.logging import print_log
from torch import nn

__all__ = [
    'LOAD_MODES',
    'CheckpointMismatchError',
    'LoadReport',
    'StateDictConverter',
    'load_pretrained',
    'load_weights',
]

LOAD_MODES = ('finetune', 'partial', 'strict')
_ALLOW_PARTIAL_HINT = (
    'To load only the tensors that fit and keep the model init for the rest, set '
    'load_cfg = dict(allow_partial=True).'
)
_MAX_LISTED = 20  # keys listed per category in an error; a wrong architecture mismatches hundreds

Shape = Optional[Tuple[int, ...]]
StateDict = Dict[str, torch.Tensor]
# convert(file_state_dict, module) -> a new state dict in the module's key layout (pure).
StateDictConverter = Callable[[StateDict, nn.Module], StateDict]


class CheckpointMismatchError(ValueError):
    """A checkpoint's tensors do not fit the model in the requested loading mode."""


@dataclass
class LoadReport:
    """What :func:`load_weights` did.

    Attributes:
        source: The checkpoint's name in messages (a path or URL).
        loaded: Model keys whose tensor came from the checkpoint.
        reinitialised: Head keys left at their fresh init because the class count changed.
        missing: Model keys the checkpoint does not have (kept at init).
        unexpected: Checkpoint keys the model does not have (ignored).
        mismatched: Keys present in both with different shapes, other than the re-initialised
            head: key -> (checkpoint shape, model shape).
        num_model_tensors: Number of entries in the model's state dict.
    """

    source: str
    loaded: List[str] = field(default_factory=list)
    reinitialised: List[str] = field(default_factory=list)
    missing: List[str] = field(default_factory=list)
    unexpected: List[str] = field(default_factory=list)
    mismatched: Dict[str, Tuple[Shape, Shape]] = field(default_factory=dict)
    num_model_tensors: int = 0

    @property
    def skipped(self) -> bool:
        """Whether anything besides the re-initialised head did not load."""
        return bool(self.missing or self.unexpected or self.mismatched)


def _shape(value: object) -> Shape:
    return tuple(value.shape) if isinstance(value, torch.Tensor) else None


def _fmt(shape: Shape) -> str:
    return 'not a tensor' if shape is None else str(list(shape))


def _under(key: str, prefix: str) -> bool:
    return key == prefix or key.startswith(prefix + '.')


def _class_count_change(
    prefix: str, report: LoadReport, model_keys: Sequence[str]
) -> Optional[Tuple[int, int]]:
    """(checkpoint classes, model classes) if the head under ``prefix`` only changed its class
    count: some of its tensors differ in their first dimension alone, none is missing."""
    keys = [key for key in model_keys if _under(key, prefix)]
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


def _listing(report: LoadReport, file_key: Optional[Callable[[str], str]] = None) -> str:
    lines = [
        f'  shape mismatch {key}: checkpoint {_fmt(ckpt)}, model {_fmt(model)}'
        for key, (ckpt, model) in report.mismatched.items()
    ]
    if file_key is None:
        lines += [f'  missing from checkpoint {key}' for key in report.missing]
    else:
        lines += [
            f'  missing from checkpoint {file_key(key)} (for {key})' for key in report.missing
        ]
    lines += [f'  unexpected in checkpoint {key}' for key in report.unexpected]
    if len(lines) > _MAX_LISTED:
        lines = lines[:_MAX_LISTED] + [f'  ... and {len(lines) - _MAX_LISTED} more']
    hint = _dimension_hint(report)
    return '\n'.join(lines + ([hint] if hint else []))


def _dimension_hint(report: LoadReport) -> str:
    """A line of advice when the checkpoint's convs are 2D ``[O, I, H, W]`` and the model's 3D
    ``[O, I, T, H, W]`` with the same other sizes: a 2D (ImageNet / TSN) file given to a 3D
    model, which needs inflation instead of loading."""
    for key, (ckpt, model) in report.mismatched.items():
        if ckpt and model and len(ckpt) == 4 and len(model) == 5 and ckpt == model[:2] + model[3:]:
            return (
                f'  the checkpoint holds 2D conv weights ({key}: {_fmt(ckpt)}) and the model is '
                f'3D ({_fmt(model)}): give 2D weights to model.backbone.pretrained with '
                'pretrained2d=True, which inflates them, and a 3D recognizer checkpoint to '
                'load_from'
            )
    return ''


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


def load_weights(
    model: nn.Module,
    state_dict: Mapping[str, torch.Tensor],
    mode: str = 'finetune',
    head_prefixes: Sequence[str] = ('cls_head.fc_cls',),
    logger: Optional[Union[logging.Logger, str]] = None,
    *,
    source: str = 'checkpoint',
) -> LoadReport:
    """Copy ``state_dict`` into ``model`` according to ``mode`` and log what happened.

    Args:
        model: The model (unwrapped from DDP).
        state_dict: Tensors by key, as from :func:`mmaction_ft.engine.get_state_dict`.
        mode: ``'finetune'``, ``'partial'`` or ``'strict'`` (see the module docstring).
        head_prefixes: Classifier modules whose class count may change when finetuning.
        logger: An mmengine logger (or its name); defaults to the current one, so the records
            land in the run's log file.
        source: The checkpoint's path or URL, used in messages.

    Returns:
        A :class:`LoadReport`.

    Raises:
        CheckpointMismatchError: In ``'finetune'`` mode when a tensor other than a class-count
            change of a head does not fit; in ``'strict'`` mode when anything does not fit.
    """
    if mode not in LOAD_MODES:
        raise ValueError(f'unknown load mode {mode!r}; choose one of {", ".join(LOAD_MODES)}')
    logger = logger or 'current'
    model_state = model.state_dict()
    report = _compare(model_state, state_dict, source)

    head_changes = {}
    for prefix in head_prefixes:
        change = _class_count_change(prefix, report, list(model_state))
        if change is not None:
            head_changes[prefix] = change

    if mode == 'strict':
        if report.skipped:
            raise CheckpointMismatchError(_strict_message(report, head_changes))
    else:
        for prefix in head_changes:
            head_keys = [key for key in model_state if _under(key, prefix)]
            report.reinitialised += head_keys
            report.loaded = [key for key in report.loaded if key not in head_keys]
            for key in head_keys:
                report.mismatched.pop(key, None)
        if mode == 'finetune' and report.skipped:
            raise CheckpointMismatchError(
                f'checkpoint {source} does not fit the model (finetuning only re-initialises a '
                f'classifier whose class count changed):\n{_listing(report)}\n'
                f'{_ALLOW_PARTIAL_HINT}'
            )

    if not report.loaded:
        raise CheckpointMismatchError(
            f'no tensor of checkpoint {source} fits the model (is it a backbone-only file? '
            'those go to model.backbone.pretrained, whole recognizers to load_from):\n'
            f'{_listing(report)}'
        )
    loadable = OrderedDict((key, state_dict[key]) for key in report.loaded)
    metadata = getattr(state_dict, '_metadata', None)
    if metadata is not None:
        loadable._metadata = metadata
    model.load_state_dict(loadable, strict=False)

    for prefix, (ckpt_classes, model_classes) in head_changes.items():
        if mode != 'strict':
            print_log(
                f'{prefix}: checkpoint has {ckpt_classes} classes, model has {model_classes} '
                '-> re-initialised',
                logger=logger,
                level=logging.INFO,
            )
    if mode == 'partial':
        for key, (ckpt, model_shape) in report.mismatched.items():
            print_log(
                f'skipped {key}: shape in checkpoint {_fmt(ckpt)}, in model {_fmt(model_shape)} '
                '(kept the model init)',
                logger=logger,
                level=logging.WARNING,
            )
        for key in report.missing:
            print_log(
                f'skipped {key}: not in the checkpoint (kept the model init)',
                logger=logger,
                level=logging.WARNING,
            )
        for key in report.unexpected:
            print_log(
                f'skipped {key}: in the checkpoint but not in the model (ignored)',
                logger=logger,
                level=logging.WARNING,
            )
    print_log(
        f'loaded {len(report.loaded)}/{report.num_model_tensors} tensors from {source}',
        logger=logger,
        level=logging.INFO,
    )
    return report


def _strict_message(report: LoadReport, head_changes: Dict[str, Tuple[int, int]]) -> str:
    lines = []
    for prefix, (ckpt_classes, model_classes) in head_changes.items():
        owner = prefix.rpartition('.')[0]
        option = f'model.{owner}.num_classes' if owner else 'model.num_classes'
        lines.append(
            f'checkpoint {report.source} has {ckpt_classes} classes but the model has '
            f'{model_classes}: set {option}={ckpt_classes} to evaluate this checkpoint'
        )
    head_keys = {key for key in report.mismatched if any(_under(key, p) for p in head_changes)}
    rest = LoadReport(
        source=report.source,
        missing=report.missing,
        unexpected=report.unexpected,
        mismatched={k: v for k, v in report.mismatched.items() if k not in head_keys},
    )
    if rest.skipped:
        lines.append(
            f'checkpoint {report.source} does not match the model (strict loading, as for '
            f'testing and resuming):\n{_listing(rest)}'
        )
    return '\n'.join(lines)


def load_pretrained(
    module: nn.Module,
    source: str,
    convert: Optional[StateDictConverter] = None,
    *,
    file_key: Optional[Callable[[str], str]] = None,
    hint: str = '',
    logger: Optional[Union[logging.Logger, str]] = None,
) -> LoadReport:
    """Load backbone-only weights into ``module``: every tensor of it, or an error.

    Args:
        module: The backbone.
        source: A local path, an http(s) URL, ``torchvision://NAME`` or ``hf://FOLDER``.
        convert: Renames or reshapes the file's tensors into ``module``'s layout (see
            :data:`StateDictConverter`); applied after a leading ``backbone.`` is dropped, so a
            whole-recognizer checkpoint also serves as backbone weights. Not applied to files
            converted on reading (torchvision's video models, Hugging Face folders).
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
        # torchvision:// and hf:// files arrive in a recognizer's keys (converted on reading):
        # the backbone's own converter (e.g. 2D inflation) does not apply.
        convert = None
    state_dict = get_state_dict(checkpoint)
    if any(key.startswith('backbone.') for key in state_dict):
        state_dict = OrderedDict(
            (key[len('backbone.') :] if key.startswith('backbone.') else key, value)
            for key, value in state_dict.items()
        )
    if convert is not None:
        state_dict = convert(state_dict, module)
    report = _compare(module.state_dict(), state_dict, source)
    # BN's step counters are absent from older files (torchvision's first ResNet weights) and
    # only matter for momentum=None: such a module keeps its own.
    counters = [key for key in report.missing if key.endswith('num_batches_tracked')]
    report.missing = [key for key in report.missing if key not in counters]
    name = type(module).__name__
    if report.missing or report.mismatched:
        lines = [f'pretrained weights {source} do not fit {name}:']
        rest = LoadReport(source=source, missing=report.missing, mismatched=report.mismatched)
        lines.append(_listing(rest, file_key))
        if hint and len(report.missing) > report.num_model_tensors // 2:
            lines.append(f'  most tensors are missing: {hint}')
        raise CheckpointMismatchError('\n'.join(lines))
    module.load_state_dict(
        OrderedDict((key, state_dict[key]) for key in report.loaded), strict=not counters
    )
    logger = logger or 'current'
    print_log(
        f'{name}: loaded all {len(report.loaded)} backbone tensors from {source}'
        + (f' ({len(counters)} BN step counters not in the file kept)' if counters else ''),
        logger=logger,
        level=logging.INFO,
    )
    if report.unexpected:
        print_log(
            f'{name}: {len(report.unexpected)} tensors of {source} are not part of the backbone '
            f'and were not used: {", ".join(report.unexpected)}',
            logger=logger,
            level=logging.INFO,
        )
    return report
