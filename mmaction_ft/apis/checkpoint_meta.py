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

import ast
import os
import os.path as osp
import tempfile
from typing import Any, Dict, List, Optional

from mmengine.config import Config

from mmaction_ft.datasets.annotation import load_class_names
from mmaction_ft.engine.class_rows import checkpoint_class_names as checkpoint_classes

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

    _check_config_is_data(text)
    fd, path = tempfile.mkstemp(suffix='.py', prefix='checkpoint_cfg_')
    try:
        with os.fdopen(fd, 'w') as f:
            f.write(text)
        cfg, _ = load_config(path)
    finally:
        os.remove(path)
    return cfg


# What a dumped mmengine config (``Config.pretty_text``) is made of: assignments of literals,
# lists, tuples and ``dict(...)`` calls. Anything else would run as code when the text is read.
_DATA_NODES = (
    ast.Constant,
    ast.Dict,
    ast.List,
    ast.Tuple,
    ast.Set,
    ast.Load,
    ast.keyword,
    ast.UnaryOp,
    ast.USub,
    ast.UAdd,
)


def _check_config_is_data(text: str) -> None:
    """Refuse a stored config that is more than data: reading a config file executes it, and a
    checkpoint may come from anywhere (``weights_only`` promises that loading runs no code)."""
    from mmaction_ft.engine.checkpoint import UnsafeCheckpointError

    def refuse(node: ast.AST, why: str) -> None:
        raise UnsafeCheckpointError(
            f"the config stored in the checkpoint (meta['cfg'], line "
            f'{getattr(node, "lineno", "?")}) is not plain data ({why}); reading it would run '
            'code. Pass the config file '
            'yourself (--config / init_recognizer(config, checkpoint))'
        )

    try:
        tree = ast.parse(text)
    except SyntaxError as err:
        message = f"the config stored in the checkpoint (meta['cfg']) is not valid: {err}"
        raise ValueError(message) from None
    for statement in tree.body:
        if not (
            isinstance(statement, ast.Assign)
            and len(statement.targets) == 1
            and isinstance(statement.targets[0], ast.Name)
        ):
            refuse(statement, f'a {type(statement).__name__} statement')
        name = statement.targets[0].id
        if name in ('_base_', 'custom_imports'):
            if name == '_base_' or not _only_own_imports(statement.value):
                refuse(statement, f'{name} reads other files or modules')
        for node in ast.walk(statement.value):
            if isinstance(node, ast.Call):
                if not (isinstance(node.func, ast.Name) and node.func.id == 'dict'):
                    refuse(node, 'a call other than dict(...)')
            elif isinstance(node, ast.Name):
                if node.id != 'dict':
                    refuse(node, f'the name {node.id!r}')
            elif not isinstance(node, _DATA_NODES):
                refuse(node, f'a {type(node).__name__} expression')


def _only_own_imports(value: ast.AST) -> bool:
    """Whether ``custom_imports`` names mmaction_ft's own modules only (as translated 0.x
    configs do)."""
    modules = [
        node.value
        for node in ast.walk(value)
        if isinstance(node, ast.Constant) and isinstance(node.value, str)
    ]
    return all(
        module in ('imports', 'allow_failed_imports') or module.startswith('mmaction_ft.')
        for module in modules
    )


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
        raise ValueError(
            'the config has no test_dataloader.dataset.pipeline (nor test_pipeline): inference '
            'needs the test pipeline (a checkpoint converted from torchvision:// or hf:// '
            'carries the model only); pass a config with one (--config / '
            'init_recognizer(config, checkpoint))'
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
