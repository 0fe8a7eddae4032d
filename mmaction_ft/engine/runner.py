"""mmengine's Runner with mmaction_ft's checkpoint loading.

Config keys this runner reads (see ``configs/_base_/default_runtime.py``)::

    load_from = 'https://.../tsn_..._20200614-e508be42.pth'  # whole model, fresh schedule
    resume = False            # True: continue load_from (or the work dir's last checkpoint)
    load_cfg = dict(
        weights_only=True,    # False only for checkpoint files you trust (arbitrary unpickling)
        allow_partial=False,  # True: load what fits and log the rest instead of failing
        head_prefixes=None,   # the classifier's keys; None: what model.cls_head declares
    )

``load_from`` loads in 'finetune' mode (the classifier is re-initialised when only the class
count changed, anything else must fit; the classifier is what the head declares in its
``classifier_names``: ``cls_head.fc_cls`` for most heads, ``cls_head.fc2`` for X3D);
``resume``, ``val()`` and ``test()`` load strictly.
mmengine 0.10.7's own loading calls ``torch.load`` with torch's weights-only default (torch >= 2.6),
which refuses the ``message_hub`` of its own training checkpoints; here every file goes through
:func:`mmaction_ft.engine.load_checkpoint_file` and its allow-list instead.
"""

import contextlib
import difflib
import re
from typing import Any, Callable, Iterator, List, Optional, Tuple, Union

from mmengine.model import is_model_wrapper
from mmengine.runner import Runner, find_latest_checkpoint
from torch import nn

from mmaction_ft.registry import RUNNERS

from .checkpoint import get_state_dict, load_checkpoint_file
from .weight_loading import LoadReport, load_weights

__all__ = ['ActionRunner', 'classifier_prefixes']

# load_cfg keys and their defaults.
_LOAD_CFG_DEFAULTS = dict(
    weights_only=True,
    allow_partial=False,
    head_prefixes=None,  # None: classifier_prefixes(model)
    cache_dir=None,
)


def _check_load_cfg(load_cfg: Optional[dict]) -> dict:
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
    for key in ('weights_only', 'allow_partial'):
        if key in load_cfg and not isinstance(load_cfg[key], bool):
            raise TypeError(f'load_cfg.{key} must be True or False, got {load_cfg[key]!r}')
    if isinstance(load_cfg.get('head_prefixes'), str):
        load_cfg['head_prefixes'] = (load_cfg['head_prefixes'],)
    return {**_LOAD_CFG_DEFAULTS, **load_cfg}


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


@RUNNERS.register_module()
class ActionRunner(Runner):
    """An mmengine ``Runner`` whose checkpoint loading is explicit and safe on torch >= 2.6.

    Built like mmengine's Runner (``ActionRunner.from_cfg(cfg)``, or ``runner_type =
    'ActionRunner'`` in a config); ``load_cfg`` is read from the config.

    Attributes:
        last_load_report: What the last :meth:`load_checkpoint` loaded, re-initialised or
            skipped (None before any load).
    """

    last_load_report: Optional[LoadReport] = None
    _strict_loading = False

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _check_load_cfg(self.cfg.get('load_cfg'))  # a typo fails now, not after training

    @property
    def load_cfg(self) -> dict:
        """The config's ``load_cfg`` merged over the defaults (validated)."""
        return _check_load_cfg(self.cfg.get('load_cfg'))

    def load_checkpoint(
        self,
        filename: str,
        map_location: Union[str, Callable] = 'cpu',
        strict: bool = False,
        revise_keys: List[Tuple[str, str]] = [(r'^module\.', '')],  # noqa: B006 (mmengine's API)
    ) -> dict:
        """Load model weights from ``filename`` (local path, URL or ``torchvision://NAME``).

        Args:
            filename: Where the checkpoint is.
            map_location: Passed to ``torch.load``.
            strict: Every tensor must match (testing, resuming). Otherwise the loading is
                'finetune', or 'partial' with ``load_cfg.allow_partial``.
            revise_keys: ``(pattern, replacement)`` regular expressions applied to every key
                of the state dict, as in mmengine.

        Returns:
            The whole checkpoint dict (``meta``, ``state_dict``, ``optimizer`` ...).
        """
        load_cfg = self.load_cfg
        checkpoint = load_checkpoint_file(
            filename,
            map_location=map_location,
            weights_only=load_cfg['weights_only'],
            cache_dir=load_cfg['cache_dir'],
        )
        # Hooks may rewrite the checkpoint (e.g. rename keys) before the model sees it.
        self.call_hook('after_load_checkpoint', checkpoint=checkpoint)

        state_dict = get_state_dict(checkpoint)
        for pattern, replacement in revise_keys:
            revised = type(state_dict)(
                (re.sub(pattern, replacement, key), value) for key, value in state_dict.items()
            )
            if hasattr(state_dict, '_metadata'):
                revised._metadata = state_dict._metadata
            state_dict = revised

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
            state_dict,
            mode=mode,
            head_prefixes=tuple(head_prefixes),
            logger=self.logger,
            source=filename,
        )
        self._has_loaded = True
        self.logger.info(f'Load checkpoint from {filename} ({mode})')
        return checkpoint

    def resume(
        self,
        filename: str,
        resume_optimizer: bool = True,
        resume_param_scheduler: bool = True,
        map_location: Union[str, Callable] = 'default',
    ) -> None:
        """Continue a run from ``filename``: model (strictly), optimizer, schedulers, epoch.

        mmengine's resume loads the model non-strictly through :meth:`load_checkpoint`; a
        resumed run must continue exactly, so the weights load strictly here.
        """
        with self._loading_strictly():
            super().resume(
                filename,
                resume_optimizer=resume_optimizer,
                resume_param_scheduler=resume_param_scheduler,
                map_location=map_location,
            )

    def val(self) -> dict:
        """Validate; ``load_from`` loads strictly (a wrong head must not be scored silently)."""
        with self._loading_strictly():
            return super().val()

    def test(self) -> dict:
        """Test; ``load_from`` loads strictly (a wrong head must not be scored silently)."""
        with self._loading_strictly():
            return super().test()

    def _init_model_weights(self) -> None:
        """Initialise the model, without fetching backbone files that a checkpoint replaces.

        A config copied from the tutorial keeps ``pretrained='torchvision://resnet50'`` next to
        ``load_from``; the whole-model checkpoint overwrites every backbone tensor anyway (or the
        load fails), so the ImageNet file is not downloaded and loaded first. With
        ``load_cfg.allow_partial`` the checkpoint may not cover the backbone, so it is kept.
        """
        checkpoint = self._load_from
        if self._resume and checkpoint is None:
            checkpoint = find_latest_checkpoint(self.work_dir)
        if checkpoint is None or self.load_cfg['allow_partial']:
            super()._init_model_weights()
            return
        model = self.model.module if is_model_wrapper(self.model) else self.model
        skipped = [
            (name, module)
            for name, module in model.named_modules()
            if isinstance(getattr(module, 'pretrained', None), str)
        ]
        for name, module in skipped:
            self.logger.info(
                f'{name}.pretrained={module.pretrained!r} not loaded: the '
                f'checkpoint {checkpoint} replaces every tensor of {name}'
            )
            module.pretrained, module._skipped_pretrained = None, module.pretrained
        try:
            super()._init_model_weights()
        finally:
            for _, module in skipped:
                module.pretrained = module.__dict__.pop('_skipped_pretrained')

    @contextlib.contextmanager
    def _loading_strictly(self) -> Iterator[None]:
        self._strict_loading = True
        try:
            yield
        finally:
            self._strict_loading = False
