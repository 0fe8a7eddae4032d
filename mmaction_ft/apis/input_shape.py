"""The shape of the ``inputs`` a config's pipeline gives the model, read from the config alone.

Exporting a recognizer and counting its FLOPs need an input of the right shape without decoding
a video. It follows from the pipeline's settings:

- ``SampleFrames`` (or any sampler with ``clip_len``): ``clip_len`` frames per clip,
  ``num_clips`` clips (twice that with ``twice_sample`` in test mode);
- the last ``CenterCrop`` / ``ThreeCrop`` / ``TenCrop`` gives ``H x W`` and 1, 3 or 10 crops
  (without a crop, a ``Resize`` to a fixed ``(w, h)`` with ``keep_ratio=False``);
- ``FormatShape``: ``'NCTHW'`` folds clips x crops into views of ``[C, T, H, W]``; ``'NCHW'``
  makes every frame of every clip and crop a view of ``[C, H, W]``.
"""

from typing import Optional, Sequence, Tuple

__all__ = ['CROPS_PER_TRANSFORM', 'pipeline_inputs_shape', 'view_shape']

CROPS_PER_TRANSFORM = {'CenterCrop': 1, 'ThreeCrop': 3, 'TenCrop': 10}
_CHANNELS = 3  # RGB frames; optical flow (NCHW_Flow) needs an explicit shape


def _last(pipeline: Sequence[dict], names: Tuple[str, ...]) -> Optional[dict]:
    found = [t for t in pipeline if t.get('type') in names]
    return found[-1] if found else None


def _pair(size, what: str) -> Tuple[int, int]:
    """``(h, w)`` from a ``(w, h)`` pair or an int (the transforms' convention)."""
    if isinstance(size, int):
        return size, size
    if isinstance(size, (tuple, list)) and len(size) == 2 and all(v > 0 for v in size):
        return int(size[1]), int(size[0])
    raise ValueError(f'{what} must be an int or a (w, h) pair of positive ints, got {size!r}')


def _frame_size(pipeline: Sequence[dict]) -> Tuple[int, int, int]:
    """(crops, h, w) of the frames at the end of ``pipeline``."""
    crop = _last(pipeline, tuple(CROPS_PER_TRANSFORM))
    if crop is not None:
        h, w = _pair(crop['crop_size'], f'{crop["type"]}.crop_size')
        return CROPS_PER_TRANSFORM[crop['type']], h, w
    resize = _last(pipeline, ('Resize',))
    if resize is not None and resize.get('keep_ratio') is False:
        h, w = _pair(resize['scale'], 'Resize.scale')
        return 1, h, w
    raise ValueError(
        'cannot tell the frame size from the pipeline: it has no CenterCrop, ThreeCrop or '
        'TenCrop and no Resize to a fixed (w, h) with keep_ratio=False; give the input shape '
        'explicitly'
    )


def _pipeline_sizes(pipeline: Sequence[dict]) -> Tuple[str, int, int, int, int, int]:
    """(layout, num_clips, clip_len, crops, h, w) of ``pipeline``'s output."""
    sampler = next((t for t in pipeline if 'clip_len' in t), None)
    if sampler is None:
        raise ValueError(
            f'the pipeline samples no frames (no transform with clip_len): '
            f'{[t.get("type") for t in pipeline]}'
        )
    formatter = _last(pipeline, ('FormatShape',))
    layout = formatter.get('input_format') if formatter else None
    if layout not in ('NCHW', 'NCTHW'):
        raise ValueError(
            f"cannot tell the input shape of FormatShape input_format={layout!r} (only 'NCHW' "
            "and 'NCTHW'); give the input shape explicitly"
        )
    num_clips = sampler.get('num_clips', 1)
    if sampler.get('twice_sample') and sampler.get('test_mode'):
        num_clips *= 2
    return (layout, num_clips, sampler['clip_len']) + _frame_size(pipeline)


def pipeline_inputs_shape(pipeline: Sequence[dict]) -> Tuple[int, ...]:
    """The ``inputs`` of one video after ``pipeline``: ``(num_views, C, T, H, W)`` for an
    ``'NCTHW'`` pipeline, ``(num_views, C, H, W)`` for ``'NCHW'``.

    Args:
        pipeline: Transform configs (``cfg.test_dataloader.dataset.pipeline``).

    Raises:
        ValueError: The pipeline samples no frames, has no ``FormatShape`` with ``'NCHW'`` or
            ``'NCTHW'``, or does not say the frame size (see the module docstring).
    """
    layout, num_clips, clip_len, crops, h, w = _pipeline_sizes(pipeline)
    if layout == 'NCTHW':
        return (num_clips * crops, _CHANNELS, clip_len, h, w)  # [num_views, C, T, H, W]
    return (num_clips * clip_len * crops, _CHANNELS, h, w)  # [num_views, C, H, W]


def view_shape(cfg) -> Tuple[int, ...]:
    """One view as the validation pipeline makes it, the unit of MMAction2's FLOPs counts:
    ``(1, C, T, H, W)`` for a 3D model, ``(num_clips * clip_len, C, H, W)`` for a 2D one (its head
    averages the frames, so they count as one view), one crop either way."""
    layout, num_clips, clip_len, _, h, w = _pipeline_sizes(cfg.val_dataloader.dataset.pipeline)
    if layout == 'NCTHW':
        return (1, _CHANNELS, clip_len, h, w)
    return (num_clips * clip_len, _CHANNELS, h, w)
