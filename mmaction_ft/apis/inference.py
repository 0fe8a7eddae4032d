"""Inference with a trained recognizer, under MMAction2 1.x's names.

    model = init_recognizer('work_dirs/tsn/best_acc_top1_epoch_9.pth')   # config from the meta
    result = inference_recognizer(model, 'video.mp4')                    # or a frame folder, array
    name = model.dataset_meta['classes'][int(result.pred_score.argmax())]

The test pipeline of the model's config (``test_dataloader.dataset.pipeline``) is used, with its
decoding steps swapped for the input at hand, as MMAction2's inferencer does: a video file keeps
the config's video decoder (or gets decord when the model was trained on frame folders), a frame
folder gets ``RawFrameDecode`` with its file name template detected from the folder, and an array
gets ``ArrayDecode``. A video whose result is compared with ``tools/test.py`` therefore goes
through exactly the transforms the test loop applies.
"""

import contextlib
import logging
import os.path as osp
import re
from collections import Counter
from pathlib import Path
from typing import Any, Callable, ContextManager, Dict, List, Optional, Sequence, Tuple, Union

import numpy as np
import torch
from mmengine.config import Config
from mmengine.dataset import Compose, pseudo_collate
from mmengine.logging import print_log
from torch import nn

from mmaction_ft.structures import ActionDataSample
from mmaction_ft.utils.cpu import cpu_bf16_choice

from .checkpoint_meta import (
    NO_CONFIG_HELP,
    checkpoint_classes,
    checkpoint_config,
    classes_from_config,
    inference_settings,
)

__all__ = [
    'VIDEO_EXTENSIONS',
    'build_inference_pipeline',
    'detect_frame_template',
    'inference_recognizer',
    'init_recognizer',
    'input_kind',
    'top_classes',
]

VIDEO_EXTENSIONS = ('.mp4', '.avi', '.webm', '.mkv', '.mov', '.m4v', '.mpg', '.mpeg', '.flv')
FRAME_EXTENSIONS = ('.jpg', '.jpeg', '.png', '.bmp')
CONFIG_EXTENSIONS = ('.py', '.json', '.yaml', '.yml')
_VIDEO_INITS = ('DecordInit', 'PyAVInit', 'OpenCVInit')
_DECODERS = ('DecordDecode', 'PyAVDecode', 'OpenCVDecode', 'RawFrameDecode', 'ArrayDecode')
_DECODER_OF_INIT = {
    'DecordInit': 'DecordDecode',
    'PyAVInit': 'PyAVDecode',
    'OpenCVInit': 'OpenCVDecode',
}
# <prefix><digits><extension>: img_00001.jpg, image_00001.jpg, 00001.jpg, frame-1.png ...
_FRAME_NAME = re.compile(r'^(?P<prefix>.*?)(?P<digits>\d+)(?P<ext>\.[A-Za-z]+)$')

Video = Union[str, Path, np.ndarray, dict]


# ------------------------------------------------------------------------------------ model


def _load_config(config: Union[str, Path, Config], cfg_options: Optional[dict]) -> Config:
    if isinstance(config, Config):
        cfg = config.copy()
        if cfg_options:
            cfg.merge_from_dict(cfg_options)
        return cfg
    from mmaction_ft.config import load_config

    cfg, _ = load_config(str(config), cfg_options)
    return cfg


def _is_config_path(value: Any) -> bool:
    return isinstance(value, Config) or (
        isinstance(value, (str, Path)) and str(value).endswith(CONFIG_EXTENSIONS)
    )


def init_recognizer(
    config_or_checkpoint: Union[str, Path, Config],
    checkpoint: Optional[str] = None,
    device: Union[str, torch.device] = 'cpu',
    cfg_options: Optional[dict] = None,
) -> nn.Module:
    """Build a recognizer and load its checkpoint strictly.

    Args:
        config_or_checkpoint: A config (path or ``Config``), with the checkpoint as second
            argument; or a checkpoint alone, whose ``meta['cfg']`` supplies the config.
        checkpoint: Path, URL or ``torchvision://`` of the weights when a config comes first;
            None builds the model with its initial weights (MMAction2's behaviour).
        device: Where the model goes.
        cfg_options: Overrides merged into the config (``{'model.cls_head.num_classes': 5}``).

    Returns:
        The model in eval mode, with ``model.cfg`` (the config) and ``model.dataset_meta``
        (``{'classes': [...]}``: the checkpoint's class names, else the config's dataset
        ``label_map`` / ``metainfo``, else None with a warning).

    Raises:
        ValueError: The checkpoint carries no config and none was given.
        CheckpointMismatchError: The weights do not fit the model (the message says which
            ``num_classes`` would fit when only the class count differs).
    """
    from mmaction_ft.engine import get_state_dict, load_checkpoint_file, load_weights
    from mmaction_ft.engine.runner import classifier_prefixes
    from mmaction_ft.registry import MODELS

    if _is_config_path(config_or_checkpoint):
        cfg = _load_config(config_or_checkpoint, cfg_options)
        source = checkpoint
    else:
        if checkpoint is not None:
            raise ValueError(
                f'init_recognizer: {config_or_checkpoint!r} is not a config file '
                f'({", ".join(CONFIG_EXTENSIONS)}), so it is read as the checkpoint; then '
                f'checkpoint={checkpoint!r} must not be given too'
            )
        cfg, source = None, str(config_or_checkpoint)

    state = load_checkpoint_file(str(source), map_location='cpu') if source else None
    classes = checkpoint_classes(state) if state is not None else None
    if cfg is None:
        stored = checkpoint_config(state)
        if stored is None:
            what = 'class names nor a config' if classes is None else 'config'
            raise ValueError(f'checkpoint {source} carries no {what} in its meta: {NO_CONFIG_HELP}')
        cfg = _load_config(stored, cfg_options)
    if classes is None:
        classes = classes_from_config(cfg)
    if classes is None:
        print_log(
            f'no class names in {source or "the model"} nor in its config (label_map or '
            'metainfo.classes of a dataset): predictions are named by class index',
            logger='current',
            level=logging.WARNING,
        )

    backbone = cfg.model.get('backbone')
    if isinstance(backbone, dict) and backbone.get('pretrained'):
        backbone['pretrained'] = None  # the checkpoint (or nothing) provides the weights
    model = MODELS.build(cfg.model)
    if state is not None:
        load_weights(
            model,
            get_state_dict(state),
            mode='strict',
            head_prefixes=classifier_prefixes(model),
            source=str(source),
        )
    num_classes = (cfg.model.get('cls_head') or {}).get('num_classes')
    if classes is not None and num_classes is not None and len(classes) != num_classes:
        raise ValueError(
            f'{len(classes)} class names for a model with num_classes={num_classes} '
            f'({source}): the names do not belong to this model'
        )
    model.cfg = cfg
    model.dataset_meta = {'classes': classes}
    model.to(device)
    model.eval()
    return model


# ------------------------------------------------------------------------------------ inputs


def detect_frame_template(frame_dir: str) -> Dict[str, Any]:
    """The file name template, first index and frame count of a folder of extracted frames.

    The most common ``<prefix><digits><ext>`` pattern of the folder's image files wins
    (``img_00001.jpg`` -> ``'img_{:05}.jpg'``, ``00001.jpg`` -> ``'{:05}.jpg'``, ``f1.png`` ...
    ``f12.png`` -> ``'f{}.png'``).

    Returns:
        ``filename_tmpl``, ``start_index`` (the smallest index) and ``total_frames``.

    Raises:
        FileNotFoundError: No numbered image file in the folder.
        ValueError: The numbered frames have gaps (a frame is missing).
    """
    groups: Dict[Tuple[str, str], List[Tuple[int, int]]] = {}
    for name in sorted(Path(frame_dir).iterdir()) if osp.isdir(frame_dir) else []:
        match = _FRAME_NAME.match(name.name)
        if match and match['ext'].lower() in FRAME_EXTENSIONS:
            digits = match['digits']
            groups.setdefault((match['prefix'], match['ext']), []).append(
                (int(digits), len(digits))
            )
    if not groups:
        raise FileNotFoundError(
            f'no numbered frame files ({", ".join(FRAME_EXTENSIONS)}) in {osp.abspath(frame_dir)}'
        )
    (prefix, ext), frames = max(groups.items(), key=lambda item: len(item[1]))
    indices = sorted(index for index, _ in frames)
    widths = Counter(width for _, width in frames)
    width = widths.most_common(1)[0][0]
    # Zero padded when some name has a leading zero, or all names share one width > 1.
    padded = any(len(str(i)) < w for i, w in frames) or (len(widths) == 1 and width > 1)
    template = f'{prefix}{{:0{width}}}{ext}' if padded else f'{prefix}{{}}{ext}'
    start, total = indices[0], len(indices)
    if indices[-1] - start + 1 != total:
        missing = sorted(set(range(start, indices[-1] + 1)) - set(indices))
        raise ValueError(
            f'frame folder {osp.abspath(frame_dir)} has gaps in {template}: frames '
            f'{missing[:10]}{" ..." if len(missing) > 10 else ""} are missing'
        )
    return dict(filename_tmpl=template, start_index=start, total_frames=total)


def input_kind(video: Video) -> str:
    """``'video'`` (a file), ``'rawframes'`` (a folder of frames), ``'array'`` or ``'dict'``.

    Raises:
        FileNotFoundError: A path that does not exist.
        TypeError: Anything else.
    """
    if isinstance(video, dict):
        return 'dict'
    if isinstance(video, np.ndarray):
        if video.ndim != 4:
            raise ValueError(f'a video array must be [T, H, W, C], got shape {video.shape}')
        return 'array'
    if isinstance(video, (str, Path)):
        path = str(video)
        if osp.isdir(path):
            return 'rawframes'
        if osp.isfile(path):
            return 'video'
        raise FileNotFoundError(f'video not found: {osp.abspath(path)}')
    raise TypeError(f'video must be a path, a [T, H, W, C] array or a dict, got {type(video)}')


def _step_type(step: Union[dict, Callable]) -> str:
    name = step.get('type', '') if isinstance(step, dict) else type(step).__name__
    return name if isinstance(name, str) and name else getattr(name, '__name__', str(name))


def build_inference_pipeline(pipeline: Sequence[dict], kind: str) -> List[dict]:
    """The test pipeline ``pipeline`` with its decoding adapted to one input of ``kind``.

    Args:
        pipeline: Transform configs of the test pipeline.
        kind: ``'video'``: a video decoder of the config is kept (decord otherwise);
            ``'rawframes'``: ``RawFrameDecode``; ``'array'``: ``ArrayDecode``. ``'dict'``
            keeps the pipeline as is.
    """
    steps = [dict(step) for step in pipeline]
    if kind == 'dict':
        return steps
    names = [_step_type(step).rpartition('.')[2] for step in steps]
    if kind == 'video' and any(name in _VIDEO_INITS for name in names):
        return steps
    decoder_at = next((i for i, name in enumerate(names) if name in _DECODERS), None)
    if decoder_at is None:
        raise ValueError(f'the test pipeline has no decoding step ({", ".join(_DECODERS)})')
    init = next((name for name in names if name in _VIDEO_INITS), None)
    before = [s for s, n in zip(steps[:decoder_at], names) if n not in _VIDEO_INITS]
    after = [
        s for s, n in zip(steps[decoder_at + 1 :], names[decoder_at + 1 :]) if n not in _DECODERS
    ]
    if kind == 'video':
        init = init or 'DecordInit'
        return [dict(type=init)] + before + [dict(type=_DECODER_OF_INIT[init])] + after
    if kind == 'rawframes':
        return before + [dict(type='RawFrameDecode')] + after
    if kind == 'array':
        return before + [dict(type='ArrayDecode')] + after
    raise ValueError(f'unknown input kind {kind!r}')


def _input_data(video: Video, kind: str, modality: str) -> dict:
    if kind == 'dict':
        return dict(video)
    if kind == 'video':
        return dict(filename=str(video), label=-1, start_index=0, modality=modality)
    if kind == 'rawframes':
        return dict(
            frame_dir=str(video),
            label=-1,
            offset=0,
            modality=modality,
            **detect_frame_template(str(video)),
        )
    return dict(array=video, total_frames=len(video), label=-1, start_index=0, modality=modality)


# ------------------------------------------------------------------------------------ inference


def _short_clip_note(results: dict) -> Optional[str]:
    """A note when the video is shorter than one clip and the sampled indices wrapped."""
    total = results.get('total_frames')
    clip_len = results.get('clip_len')
    if total is None or clip_len is None:
        return None
    interval, num_clips = results.get('frame_interval', 1), results.get('num_clips', 1)
    # A 2D (TSN) clip is one frame per segment; a 3D clip spans (L - 1) * I + 1 frames.
    needed = num_clips if clip_len == 1 else (clip_len - 1) * interval + 1
    if total >= needed:
        return None
    return (
        f'{total} frames, shorter than one clip ({needed} frames): padded by sampling frames '
        'again, as the test pipeline does'
    )


def _run_pipeline(transforms: Sequence[Callable], data: dict) -> Tuple[dict, Optional[str]]:
    note = None
    for transform in transforms:
        result = transform(data)
        if result is None:
            raise ValueError(f'{transform!r} returned None')
        if note is None and 'frame_inds' in result:
            note = _short_clip_note(result)
        data = result
    return data, note


def inference_recognizer(
    model: nn.Module, video: Video, test_pipeline: Optional[Union[Compose, Sequence]] = None
) -> ActionDataSample:
    """Recognise the action in one video.

    Args:
        model: A model from :func:`init_recognizer` (``model.cfg`` is read).
        video: A video file, a folder of extracted frames, ``[T, H, W, 3]`` uint8 RGB frames, or
            the input dict of a pipeline (MMAction2's forms).
        test_pipeline: Transforms (a ``Compose`` or configs) used as given instead of the
            config's test pipeline.

    Returns:
        An ``ActionDataSample`` with ``pred_score`` (``[num_classes]``, averaged over views as
        in testing) and ``pred_label``; metainfo ``short_video`` holds a note when the video had
        fewer frames than one clip (also logged).
    """
    from mmaction_ft.registry import TRANSFORMS

    kind = input_kind(video)
    settings = inference_settings(model.cfg)
    modality = settings['dataset'].get('modality', 'RGB')
    if test_pipeline is None:
        steps = build_inference_pipeline(settings['test_pipeline'], kind)
        transforms = [TRANSFORMS.build(step) for step in steps]
    elif isinstance(test_pipeline, Compose):
        transforms = list(test_pipeline.transforms)
    else:
        transforms = [TRANSFORMS.build(t) if isinstance(t, dict) else t for t in test_pipeline]

    data, note = _run_pipeline(transforms, _input_data(video, kind, modality))
    with torch.no_grad():
        result = model.test_step(pseudo_collate([data]))[0]
    if note is not None:
        name = 'array' if kind == 'array' else str(video) if kind != 'dict' else 'input'
        print_log(f'{name}: {note}', logger='current', level=logging.WARNING)
        result.set_metainfo(dict(short_video=note))
    return result


def inference_autocast(device: Union[str, torch.device]) -> Tuple[ContextManager, str]:
    """The autocast context for mixed-precision inference on ``device`` (``--amp`` of
    ``tools/predict.py``) and what it does, for the user: float16 on a GPU, bfloat16 on a CPU
    that computes it natively (AVX-512 BF16 / AMX), none (float32) on other CPUs, where bfloat16
    would be emulated and slower. Scores move by the lower precision's rounding and are stored
    in float32 either way."""
    device_type = torch.device(device).type
    if device_type == 'cuda':
        return torch.autocast('cuda', dtype=torch.float16), 'float16 autocast on the GPU'
    bf16, why = cpu_bf16_choice()
    if bf16:
        return torch.autocast('cpu', dtype=torch.bfloat16), f'bfloat16 autocast, because {why}'
    return contextlib.nullcontext(), f'float32, because {why}'


def top_classes(model: nn.Module, result: ActionDataSample, k: int = 5) -> List[Tuple[str, float]]:
    """``(class name, score)`` of the ``k`` best classes; names are indices without class names."""
    scores = result.pred_score.detach().float().cpu()
    values, indices = scores.topk(min(k, scores.numel()))
    classes = (getattr(model, 'dataset_meta', None) or {}).get('classes')
    return [
        (classes[i] if classes else str(i), float(v))
        for v, i in zip(values.tolist(), indices.tolist())
    ]
