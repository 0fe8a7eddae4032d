"""MMAction2 0.x ``data`` / pipelines / ``evaluation`` -> mmengine dataloaders, packing, evaluators.

- ``data=dict(videos_per_gpu=B, workers_per_gpu=W, train=..., val=..., test=...,
  {train,val,test}_dataloader=dict(videos_per_gpu=..., ...))`` becomes one
  ``{split}_dataloader=dict(batch_size, num_workers, persistent_workers, sampler, dataset)`` per
  split (0.x defaults: 1 video, 1 worker; train shuffles), plus ``val_cfg`` / ``test_cfg`` loops.
  A split without a dataset anywhere gets no loop. The val and test datasets get
  ``test_mode=True`` (0.x tools built them with it; in 1.x configs it is written out).
- Pipelines lose ``Normalize`` (the model's ``ActionDataPreprocessor`` normalises, with the same
  mean / std and ``to_rgb = to_bgr``: both flip the channel order) and ``ToTensor``; ``Collect``
  becomes ``PackActionInputs``.
- Optical flow (``FormatShape(input_format='NCHW_Flow')`` or a two-value ``Normalize``): the
  pipeline keeps ``NCHW_Flow``, which stacks the ``clip_len`` x/y frame pairs of a clip along
  the channels; the preprocessor gets ``format_shape='NCHW'`` and the x/y mean / std repeated
  ``clip_len`` times (0.x normalised each frame before stacking: same numbers).
- A 0.x pipeline that 0.x itself could not run is an error naming the step: a ``FormatShape``
  without ``input_format`` (required in 0.x too), a ``*Decode`` without its ``*Init`` before it.
- ``evaluation=dict(interval, metrics, metric_options, topk, save_best, rule)`` becomes
  ``train_cfg.val_interval``, ``AccMetric(metric_list, metric_options)`` evaluators (the
  deprecated ``topk`` is ``metric_options.top_k_accuracy.topk``, as in 0.x) and
  ``default_hooks.checkpoint.save_best``.
"""

import re
from typing import Any, Iterator, List, Optional, Tuple

from .checks import check_section_keys
from .errors import ConfigError
from .keypaths import MISSING, get_path, split_path
from .legacy_context import TranslationContext

SPLITS = ('train', 'val', 'test')
_DATA_KEYS = (
    'videos_per_gpu',
    'workers_per_gpu',
    'persistent_workers',
    'pin_memory',
    'train',
    'val',
    'test',
    'train_dataloader',
    'val_dataloader',
    'test_dataloader',
)
_LOADER_KEYS = (
    'videos_per_gpu',
    'workers_per_gpu',
    'persistent_workers',
    'pin_memory',
    'drop_last',
    'shuffle',
    'seed',
)
_TENSOR_STEPS = ('ToTensor', 'ImageToTensor', 'ToDataContainer')
# Top-level pipeline variables of 0.x configs (helpers, not keys mmengine reads).
_HELPERS = ('train_pipeline', 'val_pipeline', 'test_pipeline')
# Video decoders that need their ``<Backend>Init`` step first (RawFrameDecode opens nothing).
_DECODE_BACKENDS = ('Decord', 'PyAV', 'OpenCV')
_LEGACY_STEPS = ('Normalize', 'Collect') + _TENSOR_STEPS
_EVAL_KEYS = (
    'interval',
    'metrics',
    'metric_options',
    'topk',
    'save_best',
    'rule',
    'start',
    'by_epoch',
    'gpu_collect',
    'tmpdir',
    'broadcast_bn_buffer',
    'out_dir',
)
# 0.x metric name -> AccMetric result key (AccMetric prefixes 'acc/').
_METRIC_KEYS = {
    'mean_class_accuracy': 'acc/mean1',
    'mean_average_precision': 'acc/mean_average_precision',
    'mmit_mean_average_precision': 'acc/mmit_mean_average_precision',
}


def translate_data(t: TranslationContext) -> None:
    """``data`` -> ``{train,val,test}_dataloader`` (+ ``val_cfg`` / ``test_cfg`` loops)."""
    data = t.pop('data')
    if not isinstance(data, dict):
        return
    check_section_keys('data', data, _DATA_KEYS, t.where('data'))
    for split in SPLITS:
        _translate_split(t, data, split)


def _translate_split(t: TranslationContext, data: dict, split: str) -> None:
    overrides = data.get(f'{split}_dataloader') or {}
    check_section_keys(f'data.{split}_dataloader', overrides, _LOADER_KEYS, t.where('data'))
    loader = f'{split}_dataloader'
    dataset = data.get(split, MISSING)
    exists = isinstance(t.cfg.get(loader), dict)
    if dataset is MISSING and not exists:
        _remove_loop(t, split)
        return
    creating = dataset is not MISSING and not exists

    def setting(key: str, default: Any) -> Optional[Tuple[str, Any]]:
        """(0.x key path, value) of a per-split setting: split override, then data-wide."""
        if key in overrides:
            return f'data.{split}_dataloader.{key}', overrides[key]
        if key in data:
            return f'data.{key}', data[key]
        return (f'data.{split}', default) if creating else None

    for key, new in (('videos_per_gpu', 'batch_size'), ('workers_per_gpu', 'num_workers')):
        found = setting(key, 1)  # 0.x build_dataloader defaults
        if found:
            t.write(found[0], f'{loader}.{new}', found[1])
    persistent = setting('persistent_workers', None)
    workers = setting('workers_per_gpu', 1)
    if persistent and persistent[1] is not None:
        t.write(persistent[0], f'{loader}.persistent_workers', persistent[1])
    elif workers:
        # Keep workers alive between epochs when there are any (1.x convention).
        t.write(workers[0], f'{loader}.persistent_workers', workers[1] > 0)
    if 'shuffle' in overrides or creating:
        shuffle = overrides.get('shuffle', split == 'train')
        old = f'data.{split}_dataloader.shuffle' if 'shuffle' in overrides else f'data.{split}'
        t.write(
            old, f'{loader}.sampler', dict(type='DefaultSampler', shuffle=shuffle), how='update'
        )
    for key in ('pin_memory', 'drop_last'):
        found = setting(key, None)
        if found and found[1] is not None:
            t.write(found[0], f'{loader}.{key}', found[1])
    if 'seed' in overrides:
        t.drop(f'data.{split}_dataloader.seed', 'set randomness.seed instead')
    if dataset is not MISSING:
        if isinstance(dataset, (list, tuple)):  # 0.x concatenated a list of datasets
            dataset = dict(type='ConcatDataset', datasets=list(dataset))
        detail = ''
        if split != 'train':
            tested = _in_test_mode(dataset)
            detail = 'test_mode=True, as 0.x tools built it' if tested != dataset else ''
            dataset = tested
        t.write(f'data.{split}', f'{loader}.dataset', dataset, detail=detail)
    if split != 'train' and f'{split}_cfg' not in t.cfg:
        loop = 'ValLoop' if split == 'val' else 'TestLoop'
        t.write(f'data.{split}', f'{split}_cfg', dict(type=loop))


def _in_test_mode(dataset: Any) -> Any:
    """``dataset`` with ``test_mode=True`` unless set: 0.x ``build_dataset(cfg.data.val,
    dict(test_mode=True))`` passed it down to the datasets inside wrappers."""
    if not isinstance(dataset, dict):
        return dataset
    dataset = dict(dataset)
    if isinstance(dataset.get('dataset'), dict):
        dataset['dataset'] = _in_test_mode(dataset['dataset'])
    elif isinstance(dataset.get('datasets'), (list, tuple)):
        dataset['datasets'] = [_in_test_mode(d) for d in dataset['datasets']]
    else:
        dataset.setdefault('test_mode', True)
    return dataset


def _remove_loop(t: TranslationContext, split: str) -> None:
    """A split without data has no loop: drop loop / evaluator settings inherited for it."""
    if split == 'train':
        return
    for key in (f'{split}_cfg', f'{split}_evaluator'):
        if t.cfg.get(key) is not None:
            t.pop(key)
            t.report.add('data', f'(no {key})', f'data has no {split} dataset: no {split} loop')


def translate_pipelines(t: TranslationContext) -> None:
    """Normalize -> ``model.data_preprocessor``; Collect / ToTensor -> ``PackActionInputs``."""
    norms: List[Tuple[str, dict]] = []
    shapes: List[Tuple[str, str]] = []
    clip_lens: List[Tuple[str, int]] = []
    translated: List[str] = []
    problems: List[str] = []
    for split in SPLITS:
        dataset = get_path(t.cfg, f'{split}_dataloader.dataset')
        for where, pipeline in _pipelines(dataset, f'{split}_dataloader.dataset'):
            new, norm, shape = _translate_pipeline(pipeline, where)
            if new is None:
                continue
            old = _legacy_name(where)
            for i, problem in _legacy_pipeline_problems(pipeline):
                place = t.sources.locate(split_path(f'{old}.{i}')) if t.sources else ''
                problems.append(f'{old}.{i}: {problem}' + (f' ({place})' if place else ''))
            pipeline[:] = new
            translated.append(where)
            if norm is not None:
                norms.append((where, norm))
            if shape is not None:
                shapes.append((where, shape))
            clip_len = _clip_len(pipeline)
            if clip_len is not None:
                clip_lens.append((where, clip_len))
    if problems:
        raise ConfigError(
            'pipelines that MMAction2 0.x could not run either:\n  ' + '\n  '.join(problems)
        )
    for helper in _HELPERS:
        pipeline = t.cfg.get(helper)
        if isinstance(pipeline, list):  # helper variables: shown by print_config, keep them tidy
            new, _, _ = _translate_pipeline(pipeline, helper)
            if new is not None:
                pipeline[:] = new
    if not translated:
        return
    names = ', '.join(translated)
    t.report.add('Collect + ToTensor', 'PackActionInputs', names)
    preprocessor = {}
    shape = None
    if shapes:
        _require_same('FormatShape', shapes)
        shape = shapes[0][1]
        # The model sees NCHW either way: flow frames are stacked on the channels.
        preprocessor['format_shape'] = 'NCHW' if shape == 'NCHW_Flow' else shape
    if norms:
        _require_same('Normalize', norms)
        norm = norms[0][1]
        mean, std = norm['mean'], norm['std']
        if len(mean) == 2 and shape != 'NCTHW':  # flow: [x0, y0, x1, y1, ...] channels
            repeat = 1
            if clip_lens:
                _require_same('the clip_len of the flow pipelines', clip_lens)
                repeat = clip_lens[0][1]
            mean, std = mean * repeat, std * repeat
        preprocessor.update(mean=mean, std=std, to_rgb=norm['to_bgr'])
    if preprocessor:
        current = get_path(t.cfg, 'model.data_preprocessor', None) or {}
        preprocessor.setdefault('type', current.get('type', 'ActionDataPreprocessor'))
        old = 'Normalize' if norms else 'FormatShape'
        t.write(
            old,
            'model.data_preprocessor',
            preprocessor,
            how='update',
            detail=f'from {names}; the model normalises once',
        )


def _pipelines(dataset: Any, where: str) -> Iterator[Tuple[str, list]]:
    """Every pipeline inside a dataset config, including wrapped / concatenated datasets."""
    if isinstance(dataset, (list, tuple)):
        for i, item in enumerate(dataset):
            yield from _pipelines(item, f'{where}.{i}')
        return
    if not isinstance(dataset, dict):
        return
    if isinstance(dataset.get('pipeline'), list):
        yield f'{where}.pipeline', dataset['pipeline']
    if 'dataset' in dataset:
        yield from _pipelines(dataset['dataset'], f'{where}.dataset')
    if 'datasets' in dataset:
        yield from _pipelines(dataset['datasets'], f'{where}.datasets')


def _translate_pipeline(
    pipeline: list, where: str
) -> Tuple[Optional[list], Optional[dict], Optional[str]]:
    """(new pipeline or None if nothing is 0.x, Normalize settings, FormatShape input_format)."""
    types = [step.get('type') for step in pipeline if isinstance(step, dict)]
    if not set(types) & set(_LEGACY_STEPS):
        return None, None, None
    has_pack = 'PackActionInputs' in types
    new, norm, shape = [], None, None
    for i, step in enumerate(pipeline):
        kind = step.get('type') if isinstance(step, dict) else None
        if kind == 'Normalize':
            check_section_keys(
                f'{where}.{i}', step, ('type', 'mean', 'std', 'to_bgr', 'adjust_magnitude')
            )
            if step.get('adjust_magnitude'):
                raise ConfigError(
                    f'{where}.{i}: Normalize(adjust_magnitude=True) has no translation'
                )
            norm = dict(
                mean=list(step['mean']), std=list(step['std']), to_bgr=step.get('to_bgr', False)
            )
            continue
        if kind in _TENSOR_STEPS:
            continue
        if kind == 'Collect':
            if not has_pack:
                new.append(_pack(step))
                has_pack = True
            continue
        if kind == 'FormatShape':
            shape = step.get('input_format')
        new.append(step)
    if not has_pack:
        new.append(dict(type='PackActionInputs'))
    return new, norm, shape


def _legacy_name(where: str) -> str:
    """``train_dataloader.dataset.pipeline`` -> ``data.train.pipeline``, the 0.x key path."""
    split, _, rest = where.partition('_dataloader.dataset')
    return f'data.{split}{rest}'


def _clip_len(pipeline: list) -> Optional[int]:
    """The ``clip_len`` of the pipeline's frame sampler (the first step that sets one)."""
    for step in pipeline:
        if isinstance(step, dict) and isinstance(step.get('clip_len'), int):
            return step['clip_len']
    return None


def _legacy_pipeline_problems(pipeline: list) -> List[Tuple[int, str]]:
    """(step index, problem) for the steps of a 0.x pipeline that fail in 0.x as well."""
    problems = []
    opened = set()
    for i, step in enumerate(pipeline):
        kind = step.get('type') if isinstance(step, dict) else None
        if not isinstance(kind, str):
            continue
        if kind == 'FormatShape' and 'input_format' not in step:
            problems.append(
                (
                    i,
                    'FormatShape without input_format (a required argument in 0.x too): add '
                    "input_format='NCHW' for 2D models such as TSN, 'NCTHW' for 3D ones",
                )
            )
        backend = kind[: -len('Init')] if kind.endswith('Init') else None
        if backend in _DECODE_BACKENDS:
            opened.add(backend)
        backend = kind[: -len('Decode')] if kind.endswith('Decode') else None
        if backend in _DECODE_BACKENDS and backend not in opened:
            problems.append(
                (
                    i,
                    f'{kind} with no {backend}Init before it (nothing opened the video): the '
                    f'pipeline should start with {backend}Init, then the sampler',
                )
            )
    return problems


def _pack(collect: dict) -> dict:
    pack = dict(type='PackActionInputs')
    extra = [k for k in collect.get('keys', ()) if k not in ('imgs', 'label')]
    if extra:
        pack['algorithm_keys'] = tuple(extra)
    if collect.get('meta_keys'):
        pack['meta_keys'] = tuple(collect['meta_keys'])
    return pack


def _require_same(kind: str, found: List[Tuple[str, Any]]) -> None:
    first_where, first = found[0]
    for where, value in found[1:]:
        if value != first:
            raise ConfigError(
                f'pipelines disagree on {kind}: {first_where} has {first}, {where} has {value}; '
                'the model applies one setting to every split'
            )


def translate_evaluation(t: TranslationContext) -> None:
    """``evaluation`` -> val interval, evaluators and the best-checkpoint key."""
    evaluation = t.pop('evaluation')
    evaluators = {}
    if isinstance(evaluation, dict):
        check_section_keys('evaluation', evaluation, _EVAL_KEYS, t.where('evaluation'))
        _evaluation(t, evaluation, evaluators)
    for split in ('val', 'test'):
        if not isinstance(t.cfg.get(f'{split}_dataloader'), dict):
            continue
        key = f'{split}_evaluator'
        if key in evaluators:
            t.write('evaluation.metrics', key, evaluators[key])
        elif t.cfg.get(key) is None and t.is_legacy:
            t.write(f'data.{split}', key, dict(type='AccMetric'), detail='default metrics')
    checkpoint = get_path(t.cfg, 'default_hooks.checkpoint', None)
    if isinstance(checkpoint, dict):
        checkpoint.setdefault('type', 'CheckpointHook')


def _evaluation(t: TranslationContext, evaluation: dict, evaluators: dict) -> None:
    if 'val_dataloader' not in t.cfg:
        t.drop('evaluation', 'no val dataset: no validation')
        return
    if evaluation.get('by_epoch') is False and t.train_length().by_epoch:
        raise ConfigError('evaluation.by_epoch=False needs runner=IterBasedRunner')
    if 'interval' in evaluation:
        t.write('evaluation.interval', 'train_cfg.val_interval', evaluation['interval'])
    if evaluation.get('start') is not None:
        t.write('evaluation.start', 'train_cfg.val_begin', evaluation['start'])
    metrics = evaluation.get('metrics', 'top_k_accuracy')  # 0.x datasets' evaluate() default
    metrics = (metrics,) if isinstance(metrics, str) else tuple(metrics)
    options = _metric_options(evaluation)
    if 'topk' in evaluation:
        t.report.add(
            'evaluation.topk',
            '{val,test}_evaluator.metric_options.top_k_accuracy.topk',
            "0.x's deprecated spelling of metric_options",
        )
    evaluator = dict(type='AccMetric', metric_list=metrics)
    if options:
        evaluator['metric_options'] = options
    if evaluation.get('gpu_collect'):
        evaluator['collect_device'] = 'gpu'
    evaluators['val_evaluator'] = evaluators['test_evaluator'] = evaluator
    for key in ('tmpdir', 'broadcast_bn_buffer', 'out_dir'):
        if key in evaluation:
            t.drop(f'evaluation.{key}', 'handled by mmengine')
    if 'save_best' in evaluation:
        best = _best_key(evaluation['save_best'], metrics, options or {})
        t.write('evaluation.save_best', 'default_hooks.checkpoint.save_best', best)
        if best is not None:
            t.write(
                'evaluation.save_best',
                'default_hooks.checkpoint.rule',
                evaluation.get('rule') or 'greater',
            )


def _metric_options(evaluation: dict) -> Optional[dict]:
    """``metric_options`` with the deprecated top-level ``topk`` folded in, as 0.x did.

    0.x ``BaseDataset.evaluate`` took ``evaluation.topk`` (a deprecated keyword) over
    ``metric_options.top_k_accuracy.topk``.
    """
    options = evaluation.get('metric_options')
    if 'topk' not in evaluation:
        return options
    options = dict(options or {})
    top_k = options.get('top_k_accuracy')
    options['top_k_accuracy'] = {
        **(top_k if isinstance(top_k, dict) else {}),
        'topk': evaluation['topk'],
    }
    return options


def _best_key(save_best: Optional[str], metrics: tuple, options: dict) -> Optional[str]:
    """0.x ``save_best`` ('auto', 'top1_acc', ...) -> the AccMetric key ('acc/top1', ...)."""
    if save_best is None or '/' in save_best:
        return save_best
    if save_best == 'auto':  # 0.x: the first key the first metric reports
        first = metrics[0]
        if first == 'top_k_accuracy':
            topk = options.get('top_k_accuracy', {}).get('topk', (1, 5))
            return f'acc/top{topk if isinstance(topk, int) else topk[0]}'
        save_best = first
    match = re.fullmatch(r'top(\d+)_acc', save_best)
    if match:
        return f'acc/top{match.group(1)}'
    if save_best in _METRIC_KEYS:
        return _METRIC_KEYS[save_best]
    raise ConfigError(
        f'evaluation.save_best={save_best!r}: use auto, topK_acc, mean_class_accuracy, '
        'mean_average_precision or an AccMetric key like acc/top1'
    )
