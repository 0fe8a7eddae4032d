"""What a checkpoint knows about itself: class names, config, test pipeline, normalisation.

mmengine's Runner writes two entries into the ``meta`` of every checkpoint it saves::

    meta['cfg']           the full config as Python text (Config.pretty_text), bases merged
    meta['dataset_meta']  the train dataset's metainfo; holds 'classes' whenever the dataset
                          learnt class names: label_map (one name per line or UCF101's
                          classInd.txt), or metainfo=dict(classes=...)

From the config text the test pipeline (``test_dataloader.dataset.pipeline``) and the data
preprocessor's normalisation (``model.data_preprocessor``) come back, so a training checkpoint
alone is enough for inference. Model-zoo files and older checkpoints may lack both entries; they
are used with a config file instead.
"""

import os
import os.path as osp
import tempfile
from typing import Any, Dict, List, Optional

from mmengine.config import Config

from mmaction_ft.datasets.annotation import load_class_names

__all__ = [
    'NO_CONFIG_HELP',
    'checkpoint_classes',
    'checkpoint_config',
    'classes_from_config',
    'inference_settings',
]

NO_CONFIG_HELP = (
    'pass the config it was trained with (init_recognizer(config, checkpoint), or '
    '--config CFG on the command line); checkpoints written by tools/train.py carry theirs'
)


def checkpoint_config(checkpoint: Dict[str, Any]) -> Optional[Config]:
    """The config stored in ``checkpoint['meta']['cfg']``, or None when there is none.

    The text is read like a config file (:func:`mmaction_ft.config.load_config`), so the config
    of an MMAction2 1.x checkpoint (``default_scope='mmaction'``) builds here too.
    """
    text = (checkpoint.get('meta') or {}).get('cfg')
    if not text:
        return None
    if isinstance(text, Config):
        return text
    from mmaction_ft.config import load_config

    fd, path = tempfile.mkstemp(suffix='.py', prefix='checkpoint_cfg_')
    try:
        with os.fdopen(fd, 'w') as f:
            f.write(text)
        cfg, _ = load_config(path)
    finally:
        os.remove(path)
    return cfg


def checkpoint_classes(checkpoint: Dict[str, Any]) -> Optional[List[str]]:
    """Class names in ``checkpoint['meta']['dataset_meta']['classes']``, or None."""
    dataset_meta = (checkpoint.get('meta') or {}).get('dataset_meta') or {}
    classes = dataset_meta.get('classes')
    return [str(name) for name in classes] if classes else None


def _datasets(cfg: Config) -> List[dict]:
    """Dataset configs of the test, val and train loaders, wrappers unwrapped, in that order."""
    found = []
    for split in ('test', 'val', 'train'):
        stack = [(cfg.get(f'{split}_dataloader') or {}).get('dataset')]
        while stack:
            dataset = stack.pop()
            if not isinstance(dataset, dict):
                continue
            found.append(dataset)
            stack.append(dataset.get('dataset'))
            stack.extend(dataset.get('datasets') or [])
    return found


def classes_from_config(cfg: Config) -> Optional[List[str]]:
    """Class names a config's datasets would learn: ``metainfo.classes`` or a readable
    ``label_map`` (relative paths are taken from the working directory, as training does)."""
    for dataset in _datasets(cfg):
        classes = (dataset.get('metainfo') or {}).get('classes')
        if classes:
            return [str(name) for name in classes]
        label_map = dataset.get('label_map')
        if label_map and osp.isfile(label_map):
            return load_class_names(label_map)
    return None


def inference_settings(cfg: Config) -> Dict[str, Any]:
    """What inference needs from a config, read back from it.

    Returns:
        ``test_pipeline`` (the transform configs of ``test_dataloader.dataset.pipeline``, or the
        top-level ``test_pipeline``), ``data_preprocessor`` (``type``, ``mean``, ``std``,
        ``format_shape`` ...), ``num_classes`` (of ``model.cls_head``, None without one) and
        ``dataset`` (the test dataset's type, ``start_index`` and ``modality`` when set).

    Raises:
        KeyError: The config has neither a test dataloader pipeline nor a ``test_pipeline``.
    """
    dataset = (cfg.get('test_dataloader') or {}).get('dataset') or {}
    while 'pipeline' not in dataset and isinstance(dataset.get('dataset'), dict):
        dataset = dataset['dataset']  # RepeatDataset and the like
    pipeline = dataset.get('pipeline') or cfg.get('test_pipeline')
    if not pipeline:
        raise KeyError(
            'the config has no test_dataloader.dataset.pipeline (nor test_pipeline): inference '
            'needs the test pipeline'
        )
    model = cfg.get('model') or {}
    head = model.get('cls_head') or {}
    return dict(
        test_pipeline=[dict(step) for step in pipeline],
        data_preprocessor=dict(model.get('data_preprocessor') or {}),
        num_classes=head.get('num_classes'),
        dataset={
            key: dataset[key] for key in ('type', 'start_index', 'modality') if key in dataset
        },
    )
