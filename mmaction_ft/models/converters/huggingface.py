"""Hugging Face ``VideoMAEForVideoClassification`` checkpoints as mmaction_ft recognizers.

A folder in the ``transformers`` layout (what ``save_pretrained`` writes, or a downloaded model
repository: ``config.json`` plus ``model.safetensors`` or ``pytorch_model.bin``) is read through
``hf://path/to/folder`` (``hf://path/to/folder/model.safetensors`` names the file; its folder
must hold the ``config.json``). Nothing is downloaded. It becomes a ``Recognizer3D`` with
VideoMAE's ``VisionTransformer`` and a ``TimeSformerHead``:

- :func:`videomae_model_cfg`: ``config.json`` -> the recognizer config (sizes, norms, classes);
- :func:`convert_videomae`: the state dict -> the recognizer's keys (pure);
- :func:`load_videomae_checkpoint`: both, plus the class names from ``id2label``, as an
  mmaction_ft checkpoint (what :func:`mmaction_ft.engine.load_checkpoint_file` returns).

``transformers`` itself is not needed; ``safetensors`` is, for ``.safetensors`` files.
"""

import json
import os.path as osp
from collections import OrderedDict
from typing import Any, Dict, List, Mapping, Optional, Tuple

import torch
from mmengine.config import Config

from mmaction_ft.models.backbones.vit_mae import sinusoid_position_encoding

__all__ = [
    'convert_videomae',
    'load_videomae_checkpoint',
    'videomae_class_names',
    'videomae_model_cfg',
]

_WEIGHT_FILES = ('model.safetensors', 'pytorch_model.bin')
_HF_LAYER = 'videomae.encoder.layer.'
# One-to-one renames inside a layer (the q/k/v projections are merged separately).
_LAYER_RENAMES = {
    'attention.output.dense.': 'attn.proj.',
    'intermediate.dense.': 'mlp.layers.0.0.',
    'output.dense.': 'mlp.layers.1.',
    'layernorm_before.': 'norm1.',
    'layernorm_after.': 'norm2.',
}
_QV_BIASES = (
    ('q_bias', 'q_bias'),
    ('v_bias', 'v_bias'),
    ('query.bias', 'q_bias'),
    ('value.bias', 'v_bias'),
)
# VideoMAEImageProcessor's defaults: ImageNet mean / std, here in 0-255 units.
_IMAGENET_MEAN = [123.675, 116.28, 103.53]
_IMAGENET_STD = [58.395, 57.12, 57.375]


def _check_config(config: Mapping[str, Any]) -> None:
    model_type = config.get('model_type')
    if model_type != 'videomae':
        raise ValueError(
            f"a VideoMAE config.json has model_type 'videomae', got {model_type!r}: only "
            'VideoMAEForVideoClassification checkpoints are converted'
        )
    if config.get('hidden_act', 'gelu') != 'gelu':
        raise ValueError(
            f"VisionTransformer's MLP uses GELU; config.json has hidden_act="
            f'{config["hidden_act"]!r}'
        )
    hidden, intermediate = config['hidden_size'], config['intermediate_size']
    if int(hidden * (intermediate / hidden)) != intermediate:
        raise ValueError(f'intermediate_size {intermediate} is not a whole multiple of {hidden}')


def videomae_class_names(config: Mapping[str, Any]) -> Optional[List[str]]:
    """Class names in index order from ``id2label`` (None when it is transformers' placeholder
    ``LABEL_<i>`` for every class)."""
    id2label = config.get('id2label') or {}
    names = [id2label[key] for key in sorted(id2label, key=int)]
    if not names or all(name == f'LABEL_{i}' for i, name in enumerate(names)):
        return None
    return names


def videomae_model_cfg(config: Mapping[str, Any]) -> Dict:
    """The recognizer config that rebuilds a ``VideoMAEForVideoClassification``.

    Args:
        config: The model's ``config.json`` as a dict.
    """
    _check_config(config)
    hidden = config['hidden_size']
    num_labels = len(config['id2label']) if config.get('id2label') else config['num_labels']
    return dict(
        type='Recognizer3D',
        backbone=dict(
            type='VisionTransformer',
            img_size=config['image_size'],
            patch_size=config['patch_size'],
            in_channels=config.get('num_channels', 3),
            embed_dims=hidden,
            depth=config['num_hidden_layers'],
            num_heads=config['num_attention_heads'],
            mlp_ratio=config['intermediate_size'] / hidden,
            qkv_bias=config.get('qv_bias', True),
            num_frames=config['num_frames'],
            tubelet_size=config['tubelet_size'],
            use_mean_pooling=config.get('use_mean_pooling', True),
            norm_cfg=dict(type='LN', eps=config.get('layer_norm_eps', 1e-12)),
            # VideoMAEForVideoClassification.fc_norm is nn.LayerNorm(hidden): default eps.
            fc_norm_cfg=dict(type='LN', eps=1e-5),
            drop_rate=config.get('hidden_dropout_prob', 0.0),
            attn_drop_rate=config.get('attention_probs_dropout_prob', 0.0),
        ),
        cls_head=dict(
            type='TimeSformerHead',
            num_classes=num_labels,
            in_channels=hidden,
            average_clips='prob',
        ),
        data_preprocessor=dict(
            type='ActionDataPreprocessor',
            mean=list(_IMAGENET_MEAN),
            std=list(_IMAGENET_STD),
            format_shape='NCTHW',
        ),
    )


def convert_videomae(
    state_dict: Mapping[str, torch.Tensor], config: Mapping[str, Any]
) -> 'OrderedDict[str, torch.Tensor]':
    """``VideoMAEForVideoClassification`` tensors -> the keys of :func:`videomae_model_cfg`'s
    recognizer, without changing ``state_dict``.

    - ``query`` / ``key`` / ``value`` weights are stacked into ``attn.qkv.weight``; the query
      and value biases (``q_bias`` / ``v_bias``, or ``query.bias`` / ``value.bias``) become
      ``attn.q_bias`` / ``attn.v_bias`` (the key has none in either);
    - ``layernorm_before`` / ``_after`` -> ``norm1`` / ``norm2``, ``intermediate`` / ``output``
      -> the MLP's two linears, ``fc_norm`` (mean pooling) or ``videomae.layernorm`` (first
      token) -> ``fc_norm`` / ``norm``, ``classifier`` -> ``cls_head.fc_cls``;
    - the fixed sinusoidal position table, which transformers does not save, is added as
      ``backbone.pos_embed`` (the buffer VisionTransformer saves), from the config's sizes.

    Args:
        state_dict: The checkpoint's tensors.
        config: The model's ``config.json``.
    """
    out = OrderedDict()
    qkv: Dict[int, Dict[str, torch.Tensor]] = {}
    for key, value in state_dict.items():
        if key.startswith(_HF_LAYER):
            index, _, rest = key[len(_HF_LAYER) :].partition('.')
            prefix = f'backbone.blocks.{index}.'
            if rest.startswith('attention.attention.'):
                qkv.setdefault(int(index), {})[rest[len('attention.attention.') :]] = value
                continue
            for old, new in _LAYER_RENAMES.items():
                if rest.startswith(old):
                    rest = new + rest[len(old) :]
                    break
            out[prefix + rest] = value
        elif key.startswith('videomae.embeddings.patch_embeddings.projection.'):
            out['backbone.patch_embed.' + key.split('patch_embeddings.')[1]] = value
        elif key.startswith('videomae.layernorm.'):
            out['backbone.norm.' + key[len('videomae.layernorm.') :]] = value
        elif key.startswith('fc_norm.'):
            out['backbone.' + key] = value
        elif key.startswith('classifier.'):
            out['cls_head.fc_cls.' + key[len('classifier.') :]] = value
        else:
            out[key] = value  # reported as unexpected by the loader
    for index, parts in sorted(qkv.items()):
        prefix = f'backbone.blocks.{index}.attn.'
        out[prefix + 'qkv.weight'] = torch.cat(
            [parts.pop('query.weight'), parts.pop('key.weight'), parts.pop('value.weight')]
        )
        # Files keep VideoMAE's own ``q_bias`` / ``v_bias`` (transformers < 5 modules, and what
        # transformers 5 writes); transformers 5 modules hold them as ``query`` / ``value`` biases.
        for name, new in _QV_BIASES:
            if name in parts:
                out[prefix + new] = parts.pop(name)
        for name, value in parts.items():  # e.g. a key bias: no place for it
            out[prefix + 'attention.' + name] = value
    image, patch = config['image_size'], config['patch_size']
    num_patches = (image // patch) ** 2 * (config['num_frames'] // config['tubelet_size'])
    out['backbone.pos_embed'] = sinusoid_position_encoding(num_patches, config['hidden_size'])
    return out


def _find_files(path: str) -> Tuple[str, str]:
    """(weights file, config.json) of a folder or of a weights file in its folder."""
    path = osp.expanduser(path)
    if osp.isdir(path):
        folder = path
        found = [osp.join(path, name) for name in _WEIGHT_FILES if osp.isfile(osp.join(path, name))]
        if not found:
            raise FileNotFoundError(
                f'hf://{path}: the folder has none of {", ".join(_WEIGHT_FILES)} (hf:// reads a '
                'local folder written by transformers save_pretrained; nothing is downloaded)'
            )
        weights = found[0]
    elif osp.isfile(path):
        folder, weights = osp.dirname(path), path
    else:
        raise FileNotFoundError(
            f'hf://{path}: no such folder or file (hf:// reads a local folder written by '
            'transformers save_pretrained, or downloaded with huggingface-cli; nothing is '
            'downloaded)'
        )
    config = osp.join(folder, 'config.json')
    if not osp.isfile(config):
        raise FileNotFoundError(
            f'hf://{path}: {config} is missing; it gives the sizes of the position table and '
            'the class names, so the weights cannot be converted without it'
        )
    return weights, config


def load_videomae_checkpoint(
    path: str, map_location: Any = 'cpu', weights_only: bool = True
) -> Dict[str, Any]:
    """Read a Hugging Face VideoMAE classification folder as an mmaction_ft checkpoint.

    Args:
        path: The folder, or its weights file (what follows ``hf://``).
        map_location: Passed to ``torch.load`` for ``pytorch_model.bin``.
        weights_only: Refuse pickled objects other than tensors in ``pytorch_model.bin``.

    Returns:
        ``state_dict`` (recognizer keys, :func:`convert_videomae`) and ``meta``:
        ``dataset_meta.classes`` (from ``id2label``), ``converted_from`` and ``cfg`` (a config
        holding :func:`videomae_model_cfg` as ``model``, so ``init_recognizer('hf://...')``
        builds the model without a config file).
    """
    weights, config_file = _find_files(path)
    with open(config_file, encoding='utf-8') as f:
        config = json.load(f)
    model_cfg = videomae_model_cfg(config)
    if weights.endswith('.safetensors'):
        try:
            from safetensors.torch import load_file
        except ImportError as err:
            raise ImportError(
                f'reading {weights} needs the safetensors package: pip install safetensors'
            ) from err
        device = map_location if isinstance(map_location, (str, torch.device)) else 'cpu'
        state_dict = load_file(weights, device=str(device))
    else:
        from mmaction_ft.engine.checkpoint import _torch_load, get_state_dict

        state_dict = get_state_dict(_torch_load(weights, map_location, weights_only))
    classes = videomae_class_names(config)
    return dict(
        state_dict=convert_videomae(state_dict, config),
        meta=dict(
            dataset_meta=dict(classes=classes) if classes else {},
            converted_from=f'hf://{path}',
            cfg=Config(dict(model=model_cfg)),
        ),
    )
