"""Config values whose wrong type would fail far from the config: checked at load time.

``lr='0.01'`` (a string) otherwise fails inside torch after the model is built ("'<' not
supported between 'str' and 'float'"), ``batch_size=8.0`` inside the sampler, ``crop_size='224'``
in a dataloader worker. :data:`VALUE_RULES` and :data:`TRANSFORM_RULES` say what each such key
must be; :func:`check_values` runs them on a loaded (translated) config and names the key, the
value and the file and line that wrote it::

    configs/x.py:12: optim_wrapper.optimizer.lr must be a number, got '0.01' (str); write
    lr=0.01 without quotes

Only what can be checked without building anything is here; the components' own constructors
still validate everything else.
"""

import ast
import numbers
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterator, Mapping, Optional, Tuple

from .errors import ConfigError, ConfigTypeError
from .keypaths import MISSING, KeyPath, get_path, split_path
from .locate import ConfigLocator


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, bool)


def _is_int(value: Any) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, bool)


def _is_int_pair(value: Any) -> bool:
    return isinstance(value, (tuple, list)) and len(value) == 2 and all(map(_is_int, value))


def _sides(value: Any) -> Tuple[int, ...]:
    return tuple(value) if isinstance(value, (tuple, list)) else (value,)


@dataclass(frozen=True)
class Kind:
    """What a config value must be.

    Args:
        description: The noun phrase after "must be" (``'a positive int'``).
        has_type: Whether the value has the right type; if not, :class:`ConfigTypeError`.
        in_range: Whether a value of the right type is allowed; if not, :class:`ConfigError`.
    """

    description: str
    has_type: Callable[[Any], bool]
    in_range: Callable[[Any], bool] = lambda value: True

    def accepts(self, value: Any) -> bool:
        return self.has_type(value) and self.in_range(value)


NUMBER = Kind('a number', _is_number)
POSITIVE_INT = Kind('a positive int', _is_int, lambda v: v > 0)
NON_NEGATIVE_INT = Kind('an int >= 0', _is_int, lambda v: v >= 0)
# mmengine's CheckpointHook reads interval=-1 as "no periodic checkpoint".
CHECKPOINT_INTERVAL = Kind(
    'a positive int (or -1: no periodic checkpoint)', _is_int, lambda v: v > 0 or v == -1
)
SIZE = Kind(
    'a positive int or a (w, h) pair of them',
    lambda v: _is_int(v) or _is_int_pair(v),
    lambda v: all(side > 0 for side in _sides(v)),
)
# Resize: a float multiplies both sides; a pair is (w, h), (long, short) or (-1, short).
RESIZE_SCALE = Kind(
    'a positive float or a pair of ints (-1 keeps the aspect ratio)',
    lambda v: isinstance(v, float) or _is_int_pair(v),
    lambda v: v > 0 if isinstance(v, float) else all(s > 0 or s == -1 for s in v) and max(v) > 0,
)

# The top-level ``precision`` setting (apis.run_setup.apply_precision).
PRECISIONS = ('auto', 'amp', 'fp32')
PRECISION = Kind(
    f'one of {", ".join(map(repr, PRECISIONS))}',
    lambda v: isinstance(v, str),
    lambda v: v in PRECISIONS,
)

LOADERS = ('train_dataloader', 'val_dataloader', 'test_dataloader')

# Key path -> what its value must be (an absent path, or one under a None, is not checked).
VALUE_RULES: Dict[str, Kind] = {
    'train_cfg.max_epochs': POSITIVE_INT,
    'train_cfg.max_iters': POSITIVE_INT,
    'train_cfg.val_interval': POSITIVE_INT,
    'train_cfg.val_begin': NON_NEGATIVE_INT,
    'default_hooks.checkpoint.interval': CHECKPOINT_INTERVAL,
    'default_hooks.logger.interval': POSITIVE_INT,
    **{f'{loader}.batch_size': POSITIVE_INT for loader in LOADERS},
    **{f'{loader}.num_workers': NON_NEGATIVE_INT for loader in LOADERS},
    # torch compares these with numbers only when the optimizer is built or steps.
    **{
        f'optim_wrapper.optimizer.{key}': NUMBER
        for key in ('lr', 'momentum', 'weight_decay', 'eps', 'dampening', 'alpha', 'rho')
    },
    'optim_wrapper.clip_grad.max_norm': NUMBER,
    'optim_wrapper.accumulative_counts': POSITIVE_INT,
    'auto_scale_lr.base_batch_size': POSITIVE_INT,
    'precision': PRECISION,
}

# Transform type -> argument -> what it must be, for every transform in a dataloader's pipeline.
TRANSFORM_RULES: Dict[str, Dict[str, Kind]] = {
    'Resize': {'scale': RESIZE_SCALE},
    'CenterCrop': {'crop_size': SIZE},
    'ThreeCrop': {'crop_size': SIZE},
    'TenCrop': {'crop_size': SIZE},
    'MultiScaleCrop': {'input_size': SIZE},
    'RandomCrop': {'size': POSITIVE_INT},
}


def check_values(cfg: Mapping[str, Any], locator: Optional[ConfigLocator] = None) -> None:
    """Check every value :data:`VALUE_RULES` and :data:`TRANSFORM_RULES` cover.

    Args:
        cfg: The loaded config (translated to mmengine keys), a dict or a ``Config``.
        locator: Names the file and line of a wrong value; without it the message names the key.

    Raises:
        ConfigTypeError: A value of the wrong type (``'0.01'`` for a number).
        ConfigError: A value of the right type out of range (``batch_size=0``).
    """
    for path, kind, component in _checked_values(cfg):
        value = get_path(cfg, path)
        if not kind.accepts(value):
            raise _error(path, value, kind, component, locator or ConfigLocator())


def _checked_values(cfg: Mapping[str, Any]) -> Iterator[Tuple[KeyPath, Kind, str]]:
    """``(path, kind, component type)`` for each present value a rule covers."""
    for key, kind in VALUE_RULES.items():
        path = split_path(key)
        if get_path(cfg, path) is not MISSING:  # None too: torch compares it like a string
            yield path, kind, ''
    for loader in LOADERS:
        for pipeline_path in _pipelines(
            get_path(cfg, (loader, 'dataset'), None), (loader, 'dataset')
        ):
            for index, transform in enumerate(get_path(cfg, pipeline_path)):
                if not isinstance(transform, Mapping):
                    continue
                rules = TRANSFORM_RULES.get(transform.get('type'), {})  # type: ignore[arg-type]
                for arg, kind in rules.items():
                    if arg in transform:
                        yield pipeline_path + (str(index), arg), kind, transform['type']


def _pipelines(dataset: Any, path: KeyPath) -> Iterator[KeyPath]:
    """Paths of the pipelines of a dataset config, inside dataset wrappers too."""
    if not isinstance(dataset, Mapping):
        return
    if isinstance(dataset.get('pipeline'), (list, tuple)):
        yield path + ('pipeline',)
    yield from _pipelines(dataset.get('dataset'), path + ('dataset',))  # RepeatDataset & co.
    for index, inner in enumerate(dataset.get('datasets') or ()):  # ConcatDataset
        yield from _pipelines(inner, path + ('datasets', str(index)))


def _error(
    path: KeyPath, value: Any, kind: Kind, component: str, locator: ConfigLocator
) -> ConfigError:
    name = locator.key_name(path, value)
    if component:
        name += f' ({component})'
    message = (
        f'{locator.prefix(path, value)}{name} must be {kind.description}, '
        f'got {value!r} ({type(value).__name__})'
    )
    if not kind.has_type(value):
        return ConfigTypeError(message + _hint(locator.written_at(path, value)[-1], value, kind))
    return ConfigError(message)


def _hint(key: str, value: Any, kind: Kind) -> str:
    """``'; write lr=0.01 without quotes'`` for a quoted value, ``'; write batch_size=8'`` for a
    whole float where an int belongs."""
    if isinstance(value, str):
        try:
            literal = ast.literal_eval(value.strip())
        except (ValueError, SyntaxError):
            return ''
        return f'; write {key}={literal!r} without quotes' if kind.accepts(literal) else ''
    if isinstance(value, float) and value.is_integer() and kind.accepts(int(value)):
        return f'; write {key}={int(value)}'
    return ''
