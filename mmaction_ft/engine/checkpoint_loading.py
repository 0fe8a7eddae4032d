r"""Checkpoint loading for mmengine runners: ``load_from`` / ``load_cfg``, strict val and test.

:class:`ActionCheckpointLoading` gives a runner class (mmengine's ``Runner`` or
``FlexibleRunner``) mmaction_ft's ``load_checkpoint``: every file through the safe reader
(:func:`~mmaction_ft.engine.load_checkpoint_file`), 'finetune' mode for ``load_from`` (the
classifier re-initialised, or rebuilt from the rows of shared classes, when the class count
changed; :mod:`.weight_loading`), strict loading for resume, ``val()`` and ``test()``. The
``load_cfg`` keys are documented in :mod:`.runner` and ``configs/_base_/default_runtime.py``.
"""

import contextlib
import difflib
import os.path as osp
from typing import Any, Callable, Iterator, List, Optional, Tuple, Union

from mmengine.model import is_model_wrapper
from torch import nn

from .checkpoint import get_state_dict, load_checkpoint_file
from .class_rows import ClassNames, checkpoint_class_names, read_class_names
from .weight_loading import DEFAULT_REVISE_KEYS, LoadReport, check_revise_keys, load_weights

__all__ = ['ActionCheckpointLoading', 'check_load_cfg', 'classifier_prefixes']

# load_cfg keys and their defaults.
_LOAD_CFG_DEFAULTS = dict(
    weights_only=True,
    allow_partial=False,
    head_prefixes=None,  # None: classifier_prefixes(model)
    cache_dir=None,
    revise_keys=DEFAULT_REVISE_KEYS,
    # Finetuning keeps the classifier rows of the classes the checkpoint shares with the dataset
    # whenever both name their classes; False re-initialises the whole classifier as before.
    reuse_classes=True,
    source_classes=None,  # path of a label map (or a list of names) for a nameless checkpoint
    class_map=None,  # path of '<dataset class><TAB or ,><checkpoint class>' lines, or a dict
)


def check_load_cfg(load_cfg: Optional[dict]) -> dict:
    """``load_cfg`` merged over the defaults; an unknown key fails with the closest known one."""
    load_cfg = dict(load_cfg or {})
    for key in load_cfg:
        if key not in _LOAD_CFG_DEFAULTS:
            close = difflib.get_close_matches(key, list(_LOAD_CFG_DEFAULTS), n=1)
            hint = f" (did you mean '{close[0]}'?)" if close else ''
            raise KeyError(
                f"unknown key '{key}' in load_cfg{hint}; known keys: "
                f'{", ".join(_LOAD_CFG_DEFAULTS)}'
            )
    for key in ('weights_only', 'allow_partial', 'reuse_classes'):
        if key in load_cfg and not isinstance(load_cfg[key], bool):
            raise TypeError(f'load_cfg.{key} must be True or False, got {load_cfg[key]!r}')
    if isinstance(load_cfg.get('head_prefixes'), str):
        load_cfg['head_prefixes'] = (load_cfg['head_prefixes'],)
    if 'revise_keys' in load_cfg:
        load_cfg['revise_keys'] = check_revise_keys(load_cfg['revise_keys'], 'load_cfg.revise_keys')
    _check_names_option(load_cfg, 'source_classes', (list, tuple), 'a list of class names')
    _check_names_option(load_cfg, 'class_map', dict, 'a dict {dataset class: checkpoint class}')
    return {**_LOAD_CFG_DEFAULTS, **load_cfg}


def _check_names_option(load_cfg: dict, key: str, kind: type, what: str) -> None:
    """``load_cfg[key]`` is None, a path or ``what`` made of strings."""
    value = load_cfg.get(key)
    if value is None or isinstance(value, str):
        return
    names = [*value.keys(), *value.values()] if isinstance(value, dict) else value
    if not isinstance(value, kind) or not all(isinstance(name, str) for name in names):
        raise TypeError(f'load_cfg.{key} must be a file path or {what}, got {value!r}')


def _dataset_class_names(dataset: Any) -> Optional[List[str]]:
    """The classes of a built dataset (``metainfo['classes']``) or of a dataset config
    (``metainfo.classes`` or a readable ``label_map``); wrappers are searched through."""
    stack = [dataset]
    while stack:  # wrappers (RepeatDataset, ConcatDataset ...) nest the real datasets
        dataset = stack.pop(0)
        if isinstance(dataset, dict):
            classes = (dataset.get('metainfo') or {}).get('classes')
            label_map = dataset.get('label_map')
            if not classes and isinstance(label_map, str) and osp.isfile(label_map):
                classes = read_class_names(label_map)
            inner = [dataset.get('dataset'), *(dataset.get('datasets') or [])]
        else:
            classes = (getattr(dataset, 'metainfo', None) or {}).get('classes')
            inner = [getattr(dataset, 'dataset', None), *(getattr(dataset, 'datasets', None) or [])]
        if classes:
            return [str(name) for name in classes]
        stack.extend(part for part in inner if part is not None)
    return None


def classifier_prefixes(model: nn.Module) -> Tuple[str, ...]:
    """State-dict prefixes of the model's classifier, as its head declares them.

    ``model.cls_head.classifier_names`` (see :class:`~mmaction_ft.models.heads.BaseHead`) become
    ``cls_head.<name>``. A head from elsewhere that declares nothing is taken to follow
    MMAction2's convention when it has an ``fc_cls``; a model without a head has no classifier.
    """
    head = getattr(model, 'cls_head', None)
    if head is None:
        return ()
    names = getattr(head, 'classifier_names', None)
    if names is None:
        names = ('fc_cls',) if isinstance(getattr(head, 'fc_cls', None), nn.Module) else ()
    for name in names:
        if not isinstance(getattr(head, name, None), nn.Module):
            raise AttributeError(
                f'{type(head).__name__}.classifier_names names {name!r}, which is not a '
                f'submodule of the head'
            )
    return tuple(f'cls_head.{name}' for name in names)


class ActionCheckpointLoading:
    """mmaction_ft's ``load_checkpoint`` for an mmengine runner class (``Runner`` or
    ``FlexibleRunner``): the runner's ``model``, ``cfg``, ``logger`` and ``call_hook`` are used.

    Attributes:
        last_load_report: What the last :meth:`load_checkpoint` loaded, re-initialised or
            skipped (None before any load).
    """

    last_load_report: Optional[LoadReport] = None
    _strict_loading = False
    _resuming = False  # True while a runner's resume() loads the run's own checkpoint

    @property
    def load_cfg(self) -> dict:
        """The config's ``load_cfg`` merged over the defaults (validated)."""
        return check_load_cfg(self.cfg.get('load_cfg'))

    def load_checkpoint(
        self,
        filename: str,
        map_location: Union[str, Callable] = 'cpu',
        strict: bool = False,
        revise_keys: Optional[List[Tuple[str, str]]] = None,
    ) -> dict:
        """Load model weights from ``filename`` (local path, URL or ``torchvision://NAME``).

        Args:
            filename: Where the checkpoint is.
            map_location: Passed to ``torch.load``.
            strict: Every tensor must match (testing, resuming). Otherwise the loading is
                'finetune', or 'partial' with ``load_cfg.allow_partial``.
            revise_keys: ``(pattern, replacement)`` regular expressions applied to every key
                of the state dict, as in mmengine. None: ``load_cfg.revise_keys``, except when
                resuming, where the run's own checkpoint only has DDP's ``module.`` dropped.

        Returns:
            The whole checkpoint dict (``meta``, ``state_dict``, ``optimizer`` ...).
        """
        load_cfg = self.load_cfg
        checkpoint = load_checkpoint_file(
            filename,
            map_location=map_location,
            weights_only=load_cfg['weights_only'],
            cache_dir=load_cfg['cache_dir'],
            # A download error then says which key to point at a local copy.
            config_key='load_from' if filename == getattr(self, '_load_from', None) else None,
        )
        # Hooks may rewrite the checkpoint (e.g. rename keys) before the model sees it.
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)

        if revise_keys is None:
            # The run's own checkpoint has the model's keys: load_cfg's renames are for load_from.
            revise_keys = DEFAULT_REVISE_KEYS if self._resuming else load_cfg['revise_keys']

        if strict or self._strict_loading:
            mode = 'strict'
        elif load_cfg['allow_partial']:
            mode = 'partial'
        else:
            mode = 'finetune'
        model = self.model.module if is_model_wrapper(self.model) else self.model
        head_prefixes = load_cfg['head_prefixes']
        if head_prefixes is None:
            head_prefixes = classifier_prefixes(model)
        self.last_load_report = load_weights(
            model,
            get_state_dict(checkpoint),
            mode=mode,
            head_prefixes=tuple(head_prefixes),
            logger=self.logger,
            source=filename,
            revise_keys=revise_keys,
            classes=None if mode == 'strict' else self._class_names(checkpoint, load_cfg),
        )
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename} ({mode})')
        return checkpoint

    def _class_names(self, checkpoint: dict, load_cfg: dict) -> ClassNames:
        """The checkpoint's classes (``load_cfg.source_classes``, else its meta) and the
        dataset's, for matching classifier rows by class name."""
        source, origin = load_cfg['source_classes'], 'load_cfg.source_classes'
        if isinstance(source, str):
            if not osp.isfile(source):
                raise FileNotFoundError(f'load_cfg.source_classes: no such file {source!r}')
            source, origin = read_class_names(source), f'load_cfg.source_classes ({source})'
        elif source is None:
            source, origin = checkpoint_class_names(checkpoint), ClassNames.source_origin
        class_map = load_cfg['class_map']
        if isinstance(class_map, str) and not osp.isfile(class_map):
            raise FileNotFoundError(f'load_cfg.class_map: no such file {class_map!r}')
        return ClassNames(
            source=source,
            target=self._dataset_classes(),
            class_map=class_map,
            reuse=load_cfg['reuse_classes'],
            source_origin=origin,
        )

    def _dataset_classes(self) -> Optional[List[str]]:
        """The classes of the train dataset, else of the val or test dataset: a built
        dataset's ``metainfo['classes']`` (wrappers unwrapped), or a dataset config's
        ``metainfo.classes`` / ``label_map`` when the loop is not built yet."""
        for split in ('train', 'val', 'test'):
            loader = getattr(getattr(self, f'_{split}_loop', None), 'dataloader', None)
            if loader is None:  # the loop is not built yet: its dataloader (or config)
                loader = getattr(self, f'_{split}_dataloader', None)
            if isinstance(loader, dict):
                dataset = loader.get('dataset')
            else:
                dataset = getattr(loader, 'dataset', None)
            classes = _dataset_class_names(dataset)
            if classes:
                return classes
        return None

    def val(self) -> dict:
        """Validate; ``load_from`` loads strictly (a wrong head must not be scored silently)."""
        with self._loading_strictly():
            return super().val()

    def test(self) -> dict:
        """Test; ``load_from`` loads strictly (a wrong head must not be scored silently)."""
        with self._loading_strictly():
            return super().test()

    @contextlib.contextmanager
    def _loading_strictly(self) -> Iterator[None]:
        self._strict_loading = True
        try:
            yield
        finally:
            self._strict_loading = False
