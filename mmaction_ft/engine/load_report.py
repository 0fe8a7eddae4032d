"""What loading a checkpoint did, in words: the report of :func:`.weight_loading.load_weights`.

A :class:`LoadReport` lists the model's tensors by fate (loaded, rebuilt row by row, re-initialised,
missing, unexpected, of another shape); this module turns one into the log lines every mode
writes (the classifiers' lines, each tensor not loaded with its reason, ``<Model>: loaded N/M
tensors from <source>``) and into the messages of :class:`.weight_loading.CheckpointMismatchError`.
"""

import logging
from dataclasses import dataclass, field
from typing import Callable, Dict, List, Optional, Tuple, Union

from mmengine.logging import print_log

from .class_rows import ClassMatch

ALLOW_PARTIAL_HINT = (
    'To load only the tensors that fit and keep the model init for the rest, set '
    'load_cfg = dict(allow_partial=True).'
)
MAX_LISTED = 20  # keys listed per category in an error; a wrong architecture mismatches hundreds

Shape = Optional[Tuple[int, ...]]


@dataclass
class LoadReport:
    """What :func:`~.weight_loading.load_weights` did.

    Attributes:
        source: The checkpoint's name in messages (a path or URL).
        loaded: Model keys whose tensor came from the checkpoint.
        reinitialised: Head keys left at their fresh init because the class count (or, with
            class names on both sides, the classes) changed and no row could be reused.
        missing: Model keys the checkpoint does not have (kept at init).
        kept: Model keys absent from the checkpoint that keep their value by design (BN step
            counters in ``'pretrained'`` mode).
        unexpected: Checkpoint keys the model does not have (ignored).
        mismatched: Keys present in both with different shapes, other than the re-initialised
            head: key -> (checkpoint shape, model shape).
        num_model_tensors: Number of entries in the model's state dict.
        mapped: Classifier keys built row by row: the rows of classes the checkpoint shares
            with the dataset copied, the others at their fresh init.
        reused_rows: Classifier prefix -> the matches whose rows were copied.
        new_rows: Classifier prefix -> the dataset's classes whose row kept its fresh init.
    """

    source: str
    loaded: List[str] = field(default_factory=list)
    reinitialised: List[str] = field(default_factory=list)
    missing: List[str] = field(default_factory=list)
    kept: List[str] = field(default_factory=list)
    unexpected: List[str] = field(default_factory=list)
    mismatched: Dict[str, Tuple[Shape, Shape]] = field(default_factory=dict)
    num_model_tensors: int = 0
    mapped: List[str] = field(default_factory=list)
    reused_rows: Dict[str, List[ClassMatch]] = field(default_factory=dict)
    new_rows: Dict[str, List[str]] = field(default_factory=dict)

    @property
    def skipped(self) -> bool:
        """Whether anything besides the re-initialised head did not load."""
        return bool(self.missing or self.unexpected or self.mismatched)


def shape_text(shape: Shape) -> str:
    """A tensor shape as a message shows it: ``[400, 2048]``."""
    return 'not a tensor' if shape is None else str(list(shape))


def under(key: str, prefix: str) -> bool:
    """Whether state-dict ``key`` belongs to module ``prefix``."""
    return key == prefix or key.startswith(prefix + '.')


def listing(report: LoadReport, file_key: Optional[Callable[[str], str]] = None) -> str:
    """The tensors that did not load, a line each (at most :data:`MAX_LISTED`), for an
    error; ``file_key`` names a missing tensor as the file would."""
    lines = [
        f'  shape mismatch {key}: checkpoint {shape_text(ckpt)}, model {shape_text(model)}'
        for key, (ckpt, model) in report.mismatched.items()
    ]
    if file_key is None:
        lines += [f'  missing from checkpoint {key}' for key in report.missing]
    else:
        lines += [
            f'  missing from checkpoint {file_key(key)} (for {key})' for key in report.missing
        ]
    lines += [f'  unexpected in checkpoint {key}' for key in report.unexpected]
    if len(lines) > MAX_LISTED:
        lines = lines[:MAX_LISTED] + [f'  ... and {len(lines) - MAX_LISTED} more']
    hint = _dimension_hint(report)
    return '\n'.join(lines + ([hint] if hint else []))


def _dimension_hint(report: LoadReport) -> str:
    """A line of advice when the checkpoint's convs are 2D ``[O, I, H, W]`` and the model's 3D
    ``[O, I, T, H, W]`` with the same other sizes: a 2D (ImageNet / TSN) file given to a 3D
    model, which needs inflation instead of loading."""
    for key, (ckpt, model) in report.mismatched.items():
        if ckpt and model and len(ckpt) == 4 and len(model) == 5 and ckpt == model[:2] + model[3:]:
            return (
                f'  the checkpoint holds 2D conv weights ({key}: {shape_text(ckpt)}) and the '
                f'model is 3D ({shape_text(model)}): give 2D weights to '
                'model.backbone.pretrained with pretrained2d=True, which inflates them, and a '
                '3D recognizer checkpoint to load_from'
            )
    return ''


def log_classifiers(
    report: LoadReport,
    head_changes: Dict[str, Tuple[int, int]],
    why_not: Dict[str, str],
    logger: Union[logging.Logger, str],
) -> None:
    """One line per classifier that lost its checkpoint rows (and why), or two for one rebuilt
    by class name: the reused rows, then the re-initialised ones."""
    for prefix, (ckpt_classes, model_classes) in head_changes.items():
        if prefix not in report.reused_rows:
            print_log(
                f'{prefix}: checkpoint has {ckpt_classes} classes, model has {model_classes} '
                f'-> re-initialised ({why_not[prefix]})',
                logger=logger,
                level=logging.INFO,
            )
            continue
        matches, new = report.reused_rows[prefix], report.new_rows[prefix]
        print_log(
            f'{prefix}: reused {len(matches)} of {model_classes} classifier rows from the '
            f'checkpoint: {", ".join(str(match) for match in matches)}',
            logger=logger,
            level=logging.INFO,
        )
        if new:
            print_log(
                f'{prefix}: {len(new)} of {model_classes} classifier rows re-initialised (not '
                f"among the checkpoint's {ckpt_classes} classes): {', '.join(new)}",
                logger=logger,
                level=logging.INFO,
            )
    for prefix, why in why_not.items():
        if prefix not in head_changes:  # same count, other classes, reuse switched off
            print_log(
                f"{prefix}: the checkpoint's classes differ from the dataset's; rows {why}",
                logger=logger,
                level=logging.WARNING,
            )


def log_report(
    report: LoadReport, mode: str, name: str, logger: Union[logging.Logger, str]
) -> None:
    """The one report of every mode (after the classifiers' lines of 'finetune' and
    'partial'): each tensor that was not loaded with its reason, then the count."""
    # Skips are warnings when they are a fallback ('partial'); in 'pretrained' mode only file
    # tensors the backbone has no use for are skipped (an ImageNet classifier), by design.
    level = logging.WARNING if mode == 'partial' else logging.INFO
    for key, (ckpt, model_shape) in report.mismatched.items():
        print_log(
            f'skipped {key}: shape in checkpoint {shape_text(ckpt)}, in model '
            f'{shape_text(model_shape)} (kept the model init)',
            logger=logger,
            level=level,
        )
    for key in report.missing:
        print_log(
            f'skipped {key}: not in the checkpoint (kept the model init)',
            logger=logger,
            level=level,
        )
    for key in report.unexpected:
        print_log(
            f'skipped {key}: in the checkpoint but not in the model (not used)',
            logger=logger,
            level=level,
        )
    kept = f' ({len(report.kept)} BN step counters not in the file kept)' if report.kept else ''
    print_log(
        f'{name}: loaded {len(report.loaded)}/{report.num_model_tensors} tensors from '
        f'{report.source}{kept}',
        logger=logger,
        level=logging.INFO,
    )


def pretrained_message(
    name: str, report: LoadReport, file_key: Optional[Callable[[str], str]], hint: str
) -> str:
    """The error of 'pretrained' mode: what does not fit backbone ``name``."""
    rest = LoadReport(source=report.source, missing=report.missing, mismatched=report.mismatched)
    lines = [
        f'pretrained weights {report.source} do not fit {name}:',
        listing(rest, file_key),
    ]
    if hint and len(report.missing) > report.num_model_tensors // 2:
        lines.append(f'  most tensors are missing: {hint}')
    return '\n'.join(lines)


def strict_message(
    report: LoadReport,
    head_changes: Dict[str, Tuple[int, int]],
    file_key: Optional[Callable[[str], str]] = None,
) -> str:
    """The error of 'strict' mode: the ``num_classes`` that would evaluate the checkpoint for
    a classifier whose class count differs, then every other tensor that does not fit."""
    lines = []
    for prefix, (ckpt_classes, model_classes) in head_changes.items():
        owner = prefix.rpartition('.')[0]
        option = f'model.{owner}.num_classes' if owner else 'model.num_classes'
        lines.append(
            f'checkpoint {report.source} has {ckpt_classes} classes but the model has '
            f'{model_classes}: set {option}={ckpt_classes} to evaluate this checkpoint'
        )
    head_keys = {key for key in report.mismatched if any(under(key, p) for p in head_changes)}
    rest = LoadReport(
        source=report.source,
        missing=report.missing,
        unexpected=report.unexpected,
        mismatched={k: v for k, v in report.mismatched.items() if k not in head_keys},
    )
    if rest.skipped:
        lines.append(
            f'checkpoint {report.source} does not match the model (strict loading, as for '
            f'testing and resuming):\n{listing(rest, file_key)}'
        )
    return '\n'.join(lines)
