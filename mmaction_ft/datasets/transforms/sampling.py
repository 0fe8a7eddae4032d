"""Temporal sampling: which frame indices of a video make up its clips."""

from typing import Optional

import numpy as np
from mmcv.transforms import BaseTransform

from mmaction_ft.registry import TRANSFORMS


@TRANSFORMS.register_module()
class SampleFrames(BaseTransform):
    """Sample ``num_clips`` clips of ``clip_len`` frames, ``frame_interval`` frames apart.

    The indices are MMAction2 1.x's, bit for bit (same numpy RNG calls in train mode). With
    ``N`` = ``total_frames``, ``L`` = ``clip_len``, ``I`` = ``frame_interval``, ``K`` =
    ``num_clips``, each clip starts at an offset and reads ``offset + arange(L) * I``:

    - Train (TSN's segment sampling): ``span = L * I``; ``avg = (N - span + 1) // K``.
      ``avg > 0``: ``offsets = arange(K) * avg + randint(avg, size=K)`` (one random start per
      segment); else if ``N > max(K, span)``: sorted ``randint(N - span + 1, size=K)``; else if
      ``avg == 0``: evenly spread ``around(arange(K) * (N - span + 1) / K)``; else all zeros.
      ``keep_tail_frames`` uses the float ``avg = (N - span + 1) / K`` and
      ``int(arange(K) * avg + uniform(0, avg))`` so the last segment reaches the tail.
    - Test, 2D (``L == 1``): segment centres ``arange(K) * N / K + N / (2K)`` (floats, truncated
      at the end); ``twice_sample`` appends the segment starts ``arange(K) * N / K``.
    - Test, 3D (``L > 1``): ``span = (L - 1) * I + 1``, ``max_offset = max(N - span, 0)``;
      ``K' = 2K`` with ``twice_sample``; ``offsets = round(arange(K') * max_offset / (K - 1))``
      (numpy rounds halves to even) when ``K' > 1``, else ``[max_offset // 2]``.
    - ``temporal_jitter`` adds ``randint(I)`` to every index. Indices ``>= N`` wrap around
      (``'loop'``) or repeat the clip's last valid index (``'repeat_last'``). Finally
      ``start_index`` is added and the result is cast to int32.
    - ``target_fps``: the clip covers ``L * I`` frames at ``target_fps``, i.e.
      ``max(1, L * I * avg_fps / target_fps)`` frames of the video, read at
      ``linspace(0, span - 1, L)``; 3D test offsets are spaced by ``floor(max_offset / (K - 1))``
      (PySlowFast's rule).

    Required Keys:
        - total_frames
        - start_index
        - avg_fps (optional, used with ``target_fps``)

    Added Keys:
        - frame_inds: ``[K * L]`` int32 (``[2K * L]`` with ``twice_sample`` in test mode)
        - clip_len
        - frame_interval
        - num_clips

    Args:
        clip_len: Frames per clip (1 for 2D models such as TSN).
        frame_interval: Step between the frames of a clip.
        num_clips: Clips per video (TSN's segments).
        temporal_jitter: Shift every index by a random ``[0, frame_interval)`` (train).
        twice_sample: In test mode, sample the clips a second time with another offset (TSM).
        out_of_bound_opt: ``'loop'`` or ``'repeat_last'``.
        test_mode: Deterministic test-time sampling.
        keep_tail_frames: Train-mode segments that reach the last frames.
        target_fps: Resample to this frame rate using ``avg_fps`` (set by video init transforms).
    """

    OUT_OF_BOUND_OPTIONS = ('loop', 'repeat_last')

    def __init__(
        self,
        clip_len: int,
        frame_interval: int = 1,
        num_clips: int = 1,
        temporal_jitter: bool = False,
        twice_sample: bool = False,
        out_of_bound_opt: str = 'loop',
        test_mode: bool = False,
        keep_tail_frames: bool = False,
        target_fps: Optional[float] = None,
    ) -> None:
        for name, value in (
            ('clip_len', clip_len),
            ('frame_interval', frame_interval),
            ('num_clips', num_clips),
        ):
            if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
                raise ValueError(f'SampleFrames: {name} must be an int >= 1, got {value!r}')
        if out_of_bound_opt not in self.OUT_OF_BOUND_OPTIONS:
            raise ValueError(
                f'SampleFrames: out_of_bound_opt must be one of {self.OUT_OF_BOUND_OPTIONS}, '
                f'got {out_of_bound_opt!r}'
            )
        if target_fps is not None and not target_fps > 0:
            raise ValueError(f'SampleFrames: target_fps must be > 0 or None, got {target_fps!r}')
        if test_mode and twice_sample and clip_len > 1 and num_clips == 1:
            # The 3D offsets are spaced max_offset / (num_clips - 1) apart: undefined for one clip.
            raise ValueError('SampleFrames: twice_sample with clip_len > 1 needs num_clips >= 2')
        self.clip_len = int(clip_len)
        self.frame_interval = int(frame_interval)
        self.num_clips = int(num_clips)
        self.temporal_jitter = temporal_jitter
        self.twice_sample = twice_sample
        self.out_of_bound_opt = out_of_bound_opt
        self.test_mode = test_mode
        self.keep_tail_frames = keep_tail_frames
        self.target_fps = target_fps

    def _clip_span(self, fps_scale_ratio: float) -> float:
        """Frames of the video one clip covers."""
        if self.target_fps is not None:
            return np.maximum(1, self.clip_len * self.frame_interval * fps_scale_ratio)
        if self.test_mode:
            return (self.clip_len - 1) * self.frame_interval + 1
        return self.clip_len * self.frame_interval

    def _train_offsets(self, num_frames: int, span: float) -> np.ndarray:
        num_clips = self.num_clips
        if self.keep_tail_frames:
            avg = (num_frames - span + 1) / float(num_clips)
            if num_frames > span - 1:
                starts = np.arange(num_clips) * avg
                return (starts + np.random.uniform(0, avg, num_clips)).astype(np.int32)
            return np.zeros((num_clips,), dtype=np.int32)

        avg = (num_frames - span + 1) // num_clips
        if avg > 0:  # one random start inside each of K equal segments
            return np.arange(num_clips) * avg + np.random.randint(avg, size=num_clips)
        if num_frames > max(num_clips, span):  # too short for K segments: K sorted random starts
            return np.sort(np.random.randint(num_frames - span + 1, size=num_clips))
        if avg == 0:  # spread the K starts evenly over the valid range
            ratio = (num_frames - span + 1.0) / num_clips
            return np.around(np.arange(num_clips) * ratio)
        return np.zeros((num_clips,), dtype=np.int32)

    def _test_offsets(self, num_frames: int, span: float) -> np.ndarray:
        num_clips = self.num_clips
        if self.clip_len == 1:  # 2D: the centre frame of each segment
            avg = num_frames / float(num_clips)
            starts = np.arange(num_clips) * avg
            offsets = starts + avg / 2.0
            if self.twice_sample:
                offsets = np.concatenate([offsets, starts])
            return offsets

        max_offset = max(num_frames - span, 0)
        total = num_clips * 2 if self.twice_sample else num_clips
        if total == 1:
            return np.array([max_offset // 2])
        if self.target_fps is not None:
            step = np.floor(max_offset / float(num_clips - 1))
            return np.arange(total) * step
        return np.round(np.arange(total) * (max_offset / float(num_clips - 1)))

    def transform(self, results: dict) -> dict:
        """Add ``frame_inds`` and the sampling settings to ``results``."""
        if 'total_frames' not in results:
            video = results.get('filename', results.get('frame_dir', '<unknown video>'))
            raise KeyError(
                f'SampleFrames: no total_frames for {video}; for a video file put the reader '
                "(e.g. dict(type='DecordInit')) before SampleFrames in the pipeline"
            )
        num_frames = results['total_frames']
        if num_frames < 1:
            video = results.get('filename', results.get('frame_dir', '<unknown video>'))
            raise ValueError(
                f'SampleFrames: {video} has total_frames={num_frames}, nothing to sample'
            )
        fps = results.get('avg_fps')
        fps_scale_ratio = fps / self.target_fps if self.target_fps is not None and fps else 1.0
        span = self._clip_span(fps_scale_ratio)
        if self.test_mode:
            offsets = self._test_offsets(num_frames, span)
        else:
            offsets = self._train_offsets(num_frames, span)

        if self.target_fps is not None:
            steps = np.linspace(0, span - 1, self.clip_len).astype(np.int32)
        else:
            steps = np.arange(self.clip_len) * self.frame_interval
        frame_inds = (offsets[:, None] + steps[None, :]).reshape(-1)  # [clips * clip_len]
        if self.temporal_jitter:
            frame_inds = frame_inds + np.random.randint(self.frame_interval, size=len(frame_inds))

        frame_inds = frame_inds.reshape(-1, self.clip_len)  # [clips, clip_len]
        if self.out_of_bound_opt == 'loop':
            frame_inds = np.mod(frame_inds, num_frames)
        else:  # 'repeat_last'
            valid = frame_inds < num_frames
            last_valid = np.max(np.where(valid, frame_inds, 0), axis=1, keepdims=True)
            frame_inds = np.where(valid, frame_inds, last_valid)

        frame_inds = frame_inds.reshape(-1) + results['start_index']
        results['frame_inds'] = frame_inds.astype(np.int32)
        results['clip_len'] = self.clip_len
        results['frame_interval'] = self.frame_interval
        results['num_clips'] = self.num_clips
        return results

    def __repr__(self) -> str:
        return (
            f'{type(self).__name__}(clip_len={self.clip_len}, '
            f'frame_interval={self.frame_interval}, num_clips={self.num_clips}, '
            f'temporal_jitter={self.temporal_jitter}, twice_sample={self.twice_sample}, '
            f'out_of_bound_opt={self.out_of_bound_opt!r}, test_mode={self.test_mode}, '
            f'keep_tail_frames={self.keep_tail_frames}, target_fps={self.target_fps})'
        )
