r"""mmengine's Runner with mmaction_ft's checkpoint loading.

Config keys this runner reads (see ``configs/_base_/default_runtime.py``)::

    load_from = 'https://.../tsn_..._20200614-e508be42.pth'  # whole model, fresh schedule
    resume = False            # True: continue load_from (or the work dir's last checkpoint)
    load_cfg = dict(
        weights_only=True,    # False only for checkpoint files you trust (arbitrary unpickling)
        allow_partial=False,  # True: load what fits and log the rest instead of failing
        head_prefixes=None,   # the classifier's keys; None: what model.cls_head declares
        revise_keys=[(r'^module\.', '')],  # (regex, replacement) renames of the file's keys
        reuse_classes=True,   # copy the classifier rows of classes the checkpoint shares
        source_classes=None,  # label map of a checkpoint that names no classes (model zoo)
        class_map=None,       # '<dataset class>,<checkpoint class>' lines, for other names
    )
    finetune = dict(preset='partial', frozen_stages=2, head_lr_mult=10.0)  # what trains

``load_from`` loads in 'finetune' mode (the classifier is re-initialised when only the class
count changed, anything else must fit; the classifier is what the head declares in its
``classifier_names``: ``cls_head.fc_cls`` for most heads, ``cls_head.fc2`` for X3D);
``resume``, ``val()`` and ``test()`` load strictly. ``load_cfg.revise_keys`` renames the keys of
``load_from`` (also for ``val()`` / ``test()``), not of the run's own checkpoints when resuming.
When the checkpoint's classes (its ``meta['dataset_meta']['classes']``, or
``load_cfg.source_classes``) and the dataset's (``label_map`` / ``metainfo.classes`` of the train
dataset, else of the val or test dataset) are both known, finetuning copies the classifier rows
of the classes they share and re-initialises the others; the log lists both
(:func:`~mmaction_ft.engine.class_rows.reuse_classifier_rows`). Without names on both sides
the whole classifier is re-initialised, and the log says why.
mmengine 0.10.7's own loading calls ``torch.load`` with torch's weights-only default (torch >= 2.6),
which refuses the ``message_hub`` of its own training checkpoints; here every file goes through
:func:`mmaction_ft.engine.load_checkpoint_file` and its allow-list instead.
A URL that cannot be downloaded fails naming its config key (``load_from``,
``model.backbone.pretrained``, ``model.<module>.init_cfg.checkpoint``).

The console starts with one line saying where the log file is: mmengine's ~300 lines of system
environment, config and hook order go to that file only, so the first screen shows the run.
"""

import logging
import os.path as osp
from typing import Any, Callable, Dict, List, Optional, Tuple, Union

import torch
from mmengine.dist import master_only
from mmengine.hooks import CheckpointHook, EarlyStoppingHook, EMAHook
from mmengine.logging import MMLogger
from mmengine.model import is_model_wrapper
from mmengine.runner import EpochBasedTrainLoop, Runner
from mmengine.utils.dl_utils import collect_env
from torch import nn
from torch.utils.data import DataLoader

from mmaction_ft.registry import FUNCTIONS, RUNNERS

from .checkpoint_download import config_keys_of_sources
from .checkpoint_files import find_resumable_checkpoint, written_atomically
from .checkpoint_loading import ActionCheckpointLoading, check_load_cfg, classifier_prefixes
from .class_weight_hook import ClassWeightHook, auto_class_weight_losses
from .early_stopping_hook import ActionEarlyStoppingHook
from .ema_hook import ActionEMAHook
from .exact_resume import ExactResumeEpochBasedTrainLoop, get_rng_state, set_rng_state
from .finetune_presets import (
    FinetunePresetHook,
    apply_finetune_preset,
    check_finetune_cfg,
    drop_frozen_parameters,
    merge_head_lr_mult,
)
from .hooks import ActionCheckpointHook, unused_file_client_unlogged

__all__ = ['ActionCheckpointLoading', 'ActionRunner', 'classifier_prefixes']


class _FileOnly(logging.Filter):
    """Keeps the runner's start-up dump off the console; the log file still gets all of it.

    The dump is the environment and config (logged with ``extra={'file_only': True}`` by
    :meth:`ActionRunner._log_env`) and the hook table mmengine's ``Runner.__init__`` logs.
    """

    HOOK_TABLE = 'Hooks will be executed in the following order:'

    def filter(self, record: logging.LogRecord) -> bool:
        if getattr(record, 'file_only', False):
            return False
        return not (isinstance(record.msg, str) and record.msg.startswith(self.HOOK_TABLE))


def _weight_source_keys(model: nn.Module) -> Dict[str, str]:
    """Source -> config key of what ``init_weights`` reads: each module's ``pretrained`` and
    the ``checkpoint`` of a ``Pretrained`` ``init_cfg`` (``model.backbone.pretrained`` ...)."""
    keys = {}
    for name, module in model.named_modules():
        prefix = f'model.{name}' if name else 'model'
        pretrained = getattr(module, 'pretrained', None)
        if isinstance(pretrained, str):
            keys.setdefault(pretrained, f'{prefix}.pretrained')
        init_cfg = getattr(module, 'init_cfg', None)
        entries = init_cfg if isinstance(init_cfg, list) else [init_cfg]
        for i, entry in enumerate(entries):
            if isinstance(entry, dict) and isinstance(entry.get('checkpoint'), str):
                index = f'.{i}' if isinstance(init_cfg, list) else ''
                keys.setdefault(entry['checkpoint'], f'{prefix}.init_cfg{index}.checkpoint')
    return keys


def with_default_collate(dataloader: Any) -> Any:
    """``dataloader`` (a config dict) with ``collate_fn=dict(type='action_collate')`` when it
    names none (:mod:`mmaction_ft.datasets.collate`: one stacked inputs tensor per batch);
    anything else unchanged."""
    if isinstance(dataloader, dict) and dataloader.get('collate_fn') is None:
        FUNCTIONS.import_from_location()  # registers action_collate where mmengine looks
        return {**dataloader, 'collate_fn': dict(type='action_collate')}
    return dataloader


@RUNNERS.register_module()
class ActionRunner(ActionCheckpointLoading, Runner):
    """An mmengine ``Runner`` whose checkpoint loading is explicit and safe on torch >= 2.6.

    Built like mmengine's Runner (``ActionRunner.from_cfg(cfg)``, or ``runner_type =
    'ActionRunner'`` in a config); ``load_cfg`` is read from the config.
    """

    _resuming = False
    _resume_rng_state: Optional[Dict[str, Any]] = None
    _auto_resume: Optional[Tuple[Optional[str]]] = None  # (found checkpoint,) once searched

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Config values (lr='0.01', max_epochs='5' ...) are checked, with file and line, when
        # mmaction_ft.config.load_config reads the config, as tools/train.py does.
        check_load_cfg(self.cfg.get('load_cfg'))  # a typo fails now, not after training

    # ------------------------------------------------------------------ console and log file
    def build_logger(self, *args: Any, **kwargs: Any) -> MMLogger:
        """mmengine's logger; its console leaves out the start-up dump (:class:`_FileOnly`)."""
        logger = super().build_logger(*args, **kwargs)
        for handler in logger.handlers:
            console = not isinstance(handler, logging.FileHandler)
            if console and not any(isinstance(f, _FileOnly) for f in handler.filters):
                handler.addFilter(_FileOnly())
        return logger

    def _log_env(self, env_cfg: dict) -> None:
        """Write the system environment, the runtime settings and the config to the log file,
        and say on the console where that file is.

        mmengine's ``Runner._log_env`` prints the same on the console and calls the process
        count 'GPU number' also for CPU processes; here it is 'Processes' without CUDA.
        """
        runtime = {**env_cfg, **self._randomness_cfg, 'seed': self._seed}
        runtime['Distributed launcher'] = self._launcher
        runtime['Distributed training'] = self._distributed
        runtime['GPU number' if torch.cuda.is_available() else 'Processes'] = self._world_size

        def block(items: Dict[str, Any]) -> str:
            return ''.join(f'\n    {key}: {value}' for key, value in items.items())

        rule = '-' * 60
        dump = f'\n{rule}\nSystem environment:{block(collect_env())}\n'
        dump += f'\nRuntime environment:{block(runtime)}\n{rule}\n'
        self.logger.info(dump, extra={'file_only': True})
        if self.cfg._cfg_dict:
            self.logger.info(f'Config:\n{self.cfg.pretty_text}', extra={'file_only': True})
        if self.logger.log_file is not None:
            self.logger.info(
                f'System environment, config and hook order are in {self.logger.log_file}'
            )

    # ------------------------------------------------------------------ finetune presets
    # mmengine's hooks that mmaction_ft replaces in custom_hooks (see each class's docstring).
    _CUSTOM_HOOK_REPLACEMENTS = {
        'EMAHook': ActionEMAHook,
        'mmengine.EMAHook': ActionEMAHook,
        EMAHook: ActionEMAHook,
        'EarlyStoppingHook': ActionEarlyStoppingHook,
        'mmengine.EarlyStoppingHook': ActionEarlyStoppingHook,
        EarlyStoppingHook: ActionEarlyStoppingHook,
    }

    @property
    def finetune_cfg(self) -> Optional[dict]:
        """The config's ``finetune`` with its defaults (validated), None when unset."""
        return check_finetune_cfg(self.cfg.get('finetune'))

    @staticmethod
    def build_dataloader(
        dataloader: Any, seed: Optional[int] = None, diff_rank_seed: bool = False
    ) -> DataLoader:
        """mmengine's, with ``action_collate`` where the config names no ``collate_fn``
        (:mod:`~mmaction_ft.datasets.collate`)."""
        return Runner.build_dataloader(with_default_collate(dataloader), seed, diff_rank_seed)

    def build_model(self, model: Any) -> nn.Module:
        """mmengine's, then ``finetune.preset`` freezes its parts (before a DDP wrapper records
        which parameters train; see :mod:`~mmaction_ft.engine.finetune_presets`)."""
        model = super().build_model(model)
        finetune = self.finetune_cfg
        if finetune is not None:
            for line in apply_finetune_preset(model, finetune):
                self.logger.info(line)
        return model

    def build_optim_wrapper(self, optim_wrapper: Any) -> Any:
        """mmengine's; with ``finetune``, ``head_lr_mult`` goes into ``paramwise_cfg.custom_keys``
        and frozen parameters are left out of the optimizer."""
        finetune = self.finetune_cfg
        if finetune is None:
            return super().build_optim_wrapper(optim_wrapper)
        if isinstance(optim_wrapper, dict):
            optim_wrapper = merge_head_lr_mult(optim_wrapper, finetune['head_lr_mult'])
        optim_wrapper = super().build_optim_wrapper(optim_wrapper)
        dropped = drop_frozen_parameters(optim_wrapper)
        if dropped:
            self.logger.info(f'{dropped} frozen tensors left out of the optimizer')
        return optim_wrapper

    def register_hooks(
        self,
        default_hooks: Optional[Dict[str, Any]] = None,
        custom_hooks: Optional[List[Any]] = None,
    ) -> None:
        """mmengine's; in ``custom_hooks`` mmengine's ``EMAHook`` and ``EarlyStoppingHook`` become
        :data:`_CUSTOM_HOOK_REPLACEMENTS`, and ``finetune`` adds a :class:`FinetunePresetHook`."""
        hooks = [self._replace_custom_hook(hook) for hook in custom_hooks or []]
        finetune = self.finetune_cfg
        if finetune is not None:
            hooks.append(FinetunePresetHook(finetune['preset']))
        super().register_hooks(default_hooks, hooks)

    def _replace_custom_hook(self, hook: Any) -> Any:
        if isinstance(hook, dict):
            hook_type = hook.get('type')
            if isinstance(hook_type, (str, type)) and hook_type in self._CUSTOM_HOOK_REPLACEMENTS:
                return {**hook, 'type': self._CUSTOM_HOOK_REPLACEMENTS[hook_type]}
        return hook

    # ------------------------------------------------------------------ exact resume
    def register_default_hooks(self, hooks: Optional[Dict[str, Any]] = None) -> None:
        """mmengine's default hooks, with :class:`ActionCheckpointHook` for ``CheckpointHook``."""
        hooks = dict(hooks or {})
        checkpoint = hooks.get('checkpoint', dict(type='CheckpointHook', interval=1))
        if isinstance(checkpoint, dict) and checkpoint.get('type') in (
            'CheckpointHook',
            'mmengine.CheckpointHook',
            CheckpointHook,
        ):
            hooks['checkpoint'] = {**checkpoint, 'type': ActionCheckpointHook}
        super().register_default_hooks(hooks)

    def build_train_loop(self, loop: Any) -> Any:
        """mmengine's loop, with :class:`ExactResumeEpochBasedTrainLoop` for epoch-based ones."""
        if isinstance(loop, dict):
            loop = dict(loop)
            if loop.get('type') in ('EpochBasedTrainLoop', EpochBasedTrainLoop) or (
                'type' not in loop and loop.get('by_epoch')
            ):
                loop.pop('by_epoch', None)
                loop['type'] = ExactResumeEpochBasedTrainLoop
        return super().build_train_loop(loop)

    @master_only
    def save_checkpoint(
        self,
        out_dir: str,
        filename: str,
        file_client_args: Optional[dict] = None,
        save_optimizer: bool = True,
        save_param_scheduler: bool = True,
        meta: Optional[dict] = None,
        by_epoch: bool = True,
        backend_args: Optional[dict] = None,
    ) -> None:
        """mmengine's checkpoint, plus the RNG states, written atomically to a local folder.

        ``meta['rng_state']`` holds the RNG states (see ``mmaction_ft.engine.exact_resume``).
        A local file is written under a temporary name, fsynced and renamed, so a crash never
        leaves a half-written ``filename`` (the temporary file is removed when saving fails).
        """
        meta = dict(meta or {})
        loop = self._train_loop
        if isinstance(loop, ExactResumeEpochBasedTrainLoop):
            meta['rng_state'] = loop.checkpoint_rng_state()
        else:
            meta['rng_state'] = get_rng_state()
        kwargs = dict(
            file_client_args=file_client_args,
            save_optimizer=save_optimizer,
            save_param_scheduler=save_param_scheduler,
            meta=meta,
            by_epoch=by_epoch,
            backend_args=backend_args,
        )
        local = '://' not in str(out_dir) and file_client_args is None and not backend_args
        if not local:
            super().save_checkpoint(out_dir, filename, **kwargs)
            return
        with written_atomically(osp.join(out_dir, filename)) as tmp_path:
            with unused_file_client_unlogged(self):
                super().save_checkpoint(out_dir, osp.basename(tmp_path), **kwargs)

    def load_checkpoint(self, filename: str, *args: Any, **kwargs: Any) -> dict:
        """See :meth:`ActionCheckpointLoading.load_checkpoint`; keeps the RNG states to resume."""
        checkpoint = super().load_checkpoint(filename, *args, **kwargs)
        if self._resuming:
            meta = checkpoint.get('meta') if isinstance(checkpoint, dict) else None
            self._resume_rng_state = (meta or {}).get('rng_state')
        return checkpoint

    def _auto_resume_checkpoint(self) -> Optional[str]:
        """What ``resume=True`` without ``load_from`` continues from (searched once)."""
        if self._auto_resume is None:
            self._auto_resume = (find_resumable_checkpoint(self.work_dir),)
        return self._auto_resume[0]

    def load_or_resume(self) -> None:
        """mmengine's, but auto-resume falls back to the newest intact checkpoint."""
        if self._resume and self._load_from is None and not self._has_loaded:
            self._load_from = self._auto_resume_checkpoint()
            if self._load_from is not None:
                self.logger.info(f'Auto resumed from the latest checkpoint {self._load_from}.')
            else:
                # mmengine would read last_checkpoint again, pointing at a missing file.
                self.logger.warning(
                    f'resume=True: no intact checkpoint in {self.work_dir}, starting a new run'
                )
                self._resume = False
        super().load_or_resume()

    def train(self) -> nn.Module:
        """Train; labels are checked against the head's class count first (see below).

        A dataset that does not know its class count (no ``num_classes``, no ``label_map``)
        gets ``model.cls_head.num_classes`` through ``BaseActionDataset.check_labels``, so a
        label outside the head's range fails now, naming the annotation file and line.
        A loss with ``class_weight='auto'`` gets a :class:`ClassWeightHook` to fill it.
        """
        self._check_labels_against_head()
        self._add_class_weight_hook()
        return super().train()

    def _add_class_weight_hook(self) -> None:
        has_hook = any(isinstance(hook, ClassWeightHook) for hook in self._hooks)
        if not has_hook and any(auto_class_weight_losses(self.model)):
            self.register_hook(ClassWeightHook())

    def _check_labels_against_head(self) -> None:
        model = self.model.module if is_model_wrapper(self.model) else self.model
        num_classes = getattr(getattr(model, 'cls_head', None), 'num_classes', None)
        if not isinstance(num_classes, int):
            return
        loaders = [self.train_dataloader]
        if self._val_loop is not None:
            loaders.append(self.val_dataloader)
        for loader in loaders:
            stack = [loader.dataset]
            while stack:  # wrappers (RepeatDataset, ConcatDataset ...) nest the real datasets
                dataset = stack.pop()
                # Duck-typed (the engine sits below datasets): BaseActionDataset.check_labels.
                check_labels = getattr(dataset, 'check_labels', None)
                if callable(check_labels):
                    check_labels(num_classes, 'model.cls_head.num_classes')
                stack.extend(getattr(dataset, 'datasets', []) or [])
                if getattr(dataset, 'dataset', None) is not None:
                    stack.append(dataset.dataset)

    def resume(
        self,
        filename: str,
        resume_optimizer: bool = True,
        resume_param_scheduler: bool = True,
        map_location: Union[str, Callable] = 'default',
    ) -> None:
        """Continue a run from ``filename``: model (strictly), optimizer, schedulers, epoch.

        mmengine's resume loads the model non-strictly through :meth:`load_checkpoint`; a
        resumed run must continue exactly, so the weights load strictly here. The RNG states
        and the position inside the epoch go to the train loop
        (:meth:`ExactResumeEpochBasedTrainLoop.resume_at`); another loop gets the RNG states
        restored now.
        """
        self._resuming, self._resume_rng_state = True, None
        try:
            with self._loading_strictly():
                super().resume(
                    filename,
                    resume_optimizer=resume_optimizer,
                    resume_param_scheduler=resume_param_scheduler,
                    map_location=map_location,
                )
        finally:
            self._resuming = False
        loop = self.train_loop
        if isinstance(loop, ExactResumeEpochBasedTrainLoop):
            # Batches of the current epoch trained before the checkpoint (0 at an epoch end).
            loop.resume_at(self.iter - self.epoch * len(loop.dataloader), self._resume_rng_state)
        elif self._resume_rng_state is not None:
            set_rng_state(self._resume_rng_state)

    def _init_model_weights(self) -> None:
        """Initialise the model, without fetching backbone files that a checkpoint replaces.

        A config copied from the tutorial keeps ``pretrained='torchvision://resnet50'`` next to
        ``load_from``; the whole-model checkpoint overwrites every backbone tensor anyway (or the
        load fails), so the ImageNet file is not downloaded and loaded first. With
        ``load_cfg.allow_partial`` the checkpoint may not cover the backbone, so it is kept.
        """
        model = self.model.module if is_model_wrapper(self.model) else self.model
        # A backbone's pretrained URL that cannot be downloaded names its config key.
        with config_keys_of_sources(_weight_source_keys(model)):
            self._init_weights_unless_replaced(model)

    def _init_weights_unless_replaced(self, model: nn.Module) -> None:
        checkpoint = self._load_from
        if self._resume and checkpoint is None:
            checkpoint = self._auto_resume_checkpoint()
        if checkpoint is None or self.load_cfg['allow_partial']:
            super()._init_model_weights()
            return
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
