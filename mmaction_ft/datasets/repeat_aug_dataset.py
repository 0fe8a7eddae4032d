"""Repeated augmentation: several augmented clips of one video per sample, decoded once.

Hoffer et al., "Augment your batch", 2019 (arXiv:1901.09335); used by the MViT recipes of
MMAction2 1.2.0 (``RepeatAugDataset`` + ``collate_fn=dict(type='repeat_pseudo_collate')``).
"""

from copy import deepcopy
from typing import Any, Callable, Dict, List, Optional, Sequence, Union

import numpy as np
from mmengine.dataset import pseudo_collate
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS

from mmaction_ft.registry import DATASETS, FUNCTIONS

from .transforms.decoding import (
    DecordDecode,
    DecordInit,
    OpenCVDecode,
    OpenCVInit,
    PyAVDecode,
    PyAVInit,
)
from .video_dataset import VideoDataset

_INITS = (DecordInit, PyAVInit, OpenCVInit)
_DECODES = (DecordDecode, PyAVDecode, OpenCVDecode)
# What a sampling transform may read: it runs on these keys only, once per repeat.
_SAMPLER_KEYS = ('total_frames', 'start_index', 'avg_fps')


@DATASETS.register_module()
class RepeatAugDataset(VideoDataset):
    """A :class:`VideoDataset` whose samples are lists of ``num_repeats`` clips of one video.

    The annotation list is the one of :class:`VideoDataset`::

        <path> <label>
        some/path/000.mp4 1

    The pipeline must start with a video opener, a sampling transform and the matching
    decoder, e.g. ``[DecordInit, SampleFrames, DecordDecode, <augmentations...>]``. The
    video is opened once, the sampler runs ``num_repeats`` times (once with
    ``sample_once=True``, every clip then has the same frames), all sampled frames are decoded
    in one call (each distinct frame once), and the rest of the pipeline runs separately on
    each clip, so every clip gets its own random crops, flips, RandAugment ... Use
    ``collate_fn=dict(type='repeat_pseudo_collate')`` so a batch of ``B`` samples becomes
    ``B * num_repeats`` clips. For training only.

    Differences from MMAction2 1.2.0 (same frames, same draws otherwise): any of the decord,
    PyAV and OpenCV opener / decoder pairs is accepted (MMAction2 requires decord); the sampler
    also sees ``avg_fps`` (so ``SampleFrames(target_fps=...)`` works); each clip's
    ``frame_inds`` are its own (MMAction2 leaves all repeats' indices concatenated).

    Args:
        ann_file: Path of the annotation list.
        pipeline: ``[opener, sampler, decoder, ...]`` as above.
        data_prefix: Root of the video files: a string or ``dict(video=...)``.
        num_repeats: Clips per video, >= 1.
        sample_once: Sample the frame indices once and use them for every clip.
        multi_class: Lines may carry several labels (needs ``num_classes``).
        num_classes: Number of classes; labels are range-checked when given.
        start_index: Index of the first decoded frame (0 for videos).
        modality: ``'RGB'`` or ``'Flow'``.
        **kwargs: See :class:`VideoDataset` (``delimiter``, ``label_map``, ...); ``test_mode``
            may only be False.
    """

    def __init__(
        self,
        ann_file: str,
        pipeline: Sequence[Union[dict, Callable]],
        data_prefix: Union[str, Dict[str, str], None] = None,
        num_repeats: int = 4,
        sample_once: bool = False,
        multi_class: bool = False,
        num_classes: Optional[int] = None,
        start_index: int = 0,
        modality: str = 'RGB',
        **kwargs: Any,
    ) -> None:
        if kwargs.pop('test_mode', False):
            raise ValueError(
                'RepeatAugDataset is for training (test_mode=False); use VideoDataset for '
                'validation and testing'
            )
        if not isinstance(num_repeats, int) or isinstance(num_repeats, bool) or num_repeats < 1:
            raise ValueError(
                f'RepeatAugDataset: num_repeats must be an int >= 1, got {num_repeats!r}'
            )
        self.num_repeats = num_repeats
        self.sample_once = bool(sample_once)
        super().__init__(
            ann_file,
            pipeline,
            data_prefix=data_prefix,
            multi_class=multi_class,
            num_classes=num_classes,
            start_index=start_index,
            modality=modality,
            test_mode=False,
            **kwargs,
        )
        self._check_pipeline()

    def _check_pipeline(self) -> None:
        transforms = self.pipeline.transforms
        names = [type(t).__name__ for t in transforms[:3]]
        pairs = [(i.__name__, d.__name__) for i, d in zip(_INITS, _DECODES)]
        ok = len(transforms) >= 3 and any(
            isinstance(transforms[0], i) and isinstance(transforms[2], d)
            for i, d in zip(_INITS, _DECODES)
        )
        if not ok:
            raise ValueError(
                f'RepeatAugDataset: the pipeline must start with an opener, a sampler and the '
                f'matching decoder ({", ".join(f"[{i}, <sampler>, {d}]" for i, d in pairs)}), '
                f'got {names}'
            )

    def prepare_data(self, idx: int) -> Optional[List[dict]]:
        """The ``num_repeats`` processed clips of video ``idx`` (``None`` if a transform of
        the shared part returned ``None``)."""
        opener, sampler, decoder, *rest = self.pipeline.transforms
        data_info = opener(self.get_data_info(idx))
        if data_info is None:
            return None

        sampler_input = {k: data_info[k] for k in _SAMPLER_KEYS if k in data_info}
        sampled: List[dict] = []
        for _ in range(1 if self.sample_once else self.num_repeats):
            out = sampler(dict(sampler_input))
            if out is None:
                return None
            sampled.append(out)
        if self.sample_once:
            sampled = sampled * self.num_repeats
        clip_inds = [np.asarray(s['frame_inds']).reshape(-1) for s in sampled]

        # Decode every distinct frame once; the clips then take their frames from this table.
        unique_inds = np.unique(np.concatenate(clip_inds))
        data_info.update({k: v for k, v in sampled[0].items() if k not in sampler_input})
        data_info['frame_inds'] = unique_inds
        data_info = decoder(data_info)
        if data_info is None:
            return None
        frames = dict(zip(unique_inds.tolist(), data_info.pop('imgs')))

        clips, handed_out = [], set()
        for inds, sample in zip(clip_inds, sampled):
            clip = deepcopy(data_info)
            clip.update({k: v for k, v in sample.items() if k not in sampler_input})
            imgs = []
            for i in inds.tolist():
                # A frame already given to a clip is copied, so in-place transforms stay local.
                imgs.append(frames[i].copy() if i in handed_out else frames[i])
                handed_out.add(i)
            clip['imgs'] = imgs
            for transform in rest:
                clip = transform(clip)
                if clip is None:
                    return None
            clips.append(clip)
        return clips


@FUNCTIONS.register_module()
def repeat_pseudo_collate(data_batch: Sequence[Sequence[Any]]) -> Any:
    """``pseudo_collate`` of the clips of all samples of a :class:`RepeatAugDataset` batch:
    ``B`` samples of ``num_repeats`` clips become one batch of ``B * num_repeats`` clips
    (sample-major: the clips of sample 0, then of sample 1 ...)."""
    for sample in data_batch:
        if not isinstance(sample, (list, tuple)):
            raise TypeError(
                'repeat_pseudo_collate expects each sample to be a list of clips (from '
                f'RepeatAugDataset), got {type(sample).__name__}; use pseudo_collate for other '
                'datasets'
            )
    return pseudo_collate([clip for sample in data_batch for clip in sample])


# mmengine's Runner looks a ``collate_fn`` type up with ``FUNCTIONS.get(name)`` on its root
# registry, which does not switch to the config's default scope, so MMAction2's configs
# (``collate_fn=dict(type='repeat_pseudo_collate')``) only find a function registered there
# too (MMAction2 does the same). An identical one registered first (MMAction2's) is kept.
if 'repeat_pseudo_collate' not in MMENGINE_FUNCTIONS.module_dict:
    MMENGINE_FUNCTIONS.register_module(name='repeat_pseudo_collate', module=repeat_pseudo_collate)
