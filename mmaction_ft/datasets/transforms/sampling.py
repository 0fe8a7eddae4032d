"""Temporal sampling: which frame indices of a video make up its clips."""

from typing import Optional, Tuple

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
        _check_positive_ints(
            type(self).__name__,
            clip_len=clip_len,
            frame_interval=frame_interval,
            num_clips=num_clips,
        )
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
        num_frames = _total_frames(results, type(self).__name__)
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


def _total_frames(results: dict, sampler: str) -> int:
    """``results['total_frames']``, or an error naming the video and the missing reader."""
    video = results.get('filename', results.get('frame_dir', '<unknown video>'))
    if 'total_frames' not in results:
        raise KeyError(
            f'{sampler}: no total_frames for {video}; for a video file put the reader '
            f"(e.g. dict(type='DecordInit')) before {sampler} in the pipeline"
        )
    num_frames = results['total_frames']
    if num_frames < 1:
        raise ValueError(f'{sampler}: {video} has total_frames={num_frames}, nothing to sample')
    return num_frames


def _check_positive_ints(sampler: str, **values: int) -> None:
    for name, value in values.items():
        if not isinstance(value, (int, np.integer)) or isinstance(value, bool) or value < 1:
            raise ValueError(f'{sampler}: {name} must be an int >= 1, got {value!r}')


@TRANSFORMS.register_module()
class DenseSampleFrames(SampleFrames):
    """Clips at fixed spacing inside one window of ``sample_range`` frames (I3D's and TSM's
    "dense" sampling), MMAction2 1.x's indices bit for bit.

    With ``N`` = ``total_frames``, ``K`` = ``num_clips``, ``R`` = ``sample_range``:
    ``positions = max(1, 1 + N - R)`` window starts are possible, and the clips of one window
    start ``R // K`` frames apart (modulo ``N``). Train: one window, starting at 0 when
    ``positions == 1``, else at ``randint(0, positions - 1)``. Test: ``num_sample_positions``
    windows starting at ``linspace(0, positions - 1)`` (truncated to int), so a video yields
    ``num_sample_positions * K`` clips while ``num_clips`` in the results stays ``K``, as in
    MMAction2. Clip frames, ``temporal_jitter``, out-of-bound handling and ``start_index`` are
    those of :class:`SampleFrames`.

    Required Keys:
        - total_frames
        - start_index

    Added Keys:
        - frame_inds
        - clip_len
        - frame_interval
        - num_clips

    Args:
        clip_len: Frames per clip.
        frame_interval: Step between the frames of a clip.
        num_clips: Clips per window.
        sample_range: Frames one window covers.
        num_sample_positions: Windows per video in test mode.
        temporal_jitter: Shift every index by a random ``[0, frame_interval)`` (train).
        out_of_bound_opt: ``'loop'`` or ``'repeat_last'``.
        test_mode: Deterministic test-time sampling.
    """

    def __init__(
        self,
        clip_len: int,
        frame_interval: int = 1,
        num_clips: int = 1,
        sample_range: int = 64,
        num_sample_positions: int = 10,
        temporal_jitter: bool = False,
        out_of_bound_opt: str = 'loop',
        test_mode: bool = False,
    ) -> None:
        super().__init__(
            clip_len,
            frame_interval=frame_interval,
            num_clips=num_clips,
            temporal_jitter=temporal_jitter,
            out_of_bound_opt=out_of_bound_opt,
            test_mode=test_mode,
        )
        _check_positive_ints(
            'DenseSampleFrames',
            sample_range=sample_range,
            num_sample_positions=num_sample_positions,
        )
        self.sample_range = int(sample_range)
        self.num_sample_positions = int(num_sample_positions)

    def _window(self, num_frames: int) -> Tuple[int, np.ndarray]:
        """(number of possible window starts, clip offsets inside one window)."""
        positions = max(1, 1 + num_frames - self.sample_range)
        return positions, np.arange(self.num_clips) * (self.sample_range // self.num_clips)

    def _train_offsets(self, num_frames: int, span: float) -> np.ndarray:
        positions, base = self._window(num_frames)
        start = 0 if positions == 1 else np.random.randint(0, positions - 1)
        return (base + start) % num_frames

    def _test_offsets(self, num_frames: int, span: float) -> np.ndarray:
        positions, base = self._window(num_frames)
        starts = np.linspace(0, positions - 1, num=self.num_sample_positions, dtype=int)
        return ((starts[:, None] + base[None, :]) % num_frames).reshape(-1)

    def __repr__(self) -> str:
        return (
            f'{type(self).__name__}(clip_len={self.clip_len}, '
            f'frame_interval={self.frame_interval}, num_clips={self.num_clips}, '
            f'sample_range={self.sample_range}, '
            f'num_sample_positions={self.num_sample_positions}, '
            f'temporal_jitter={self.temporal_jitter}, '
            f'out_of_bound_opt={self.out_of_bound_opt!r}, test_mode={self.test_mode})'
        )


@TRANSFORMS.register_module()
class UniformSample(BaseTransform):
    """One frame from each of ``clip_len`` equal segments of the video (PySlowFast's sampling
    for Something-Something), MMAction2 1.x's indices bit for bit.

    With ``N`` = ``total_frames`` and ``seg = (N - 1) / clip_len``, segment ``i`` spans
    ``[round(seg * i), round(seg * (i + 1))]``. Train: a random frame of each segment. Test:
    ``num_clips`` clips; clip ``k`` takes ``round(seg * i) + int(seg / (num_clips + 1) * (k +
    1))`` from segment ``i``. A video shorter than ``clip_len`` repeats frames instead of
    looping.

    Required Keys:
        - total_frames
        - start_index

    Added Keys:
        - frame_inds: ``[num_clips * clip_len]`` int32 (``[clip_len]`` in train mode)
        - clip_len
        - frame_interval: None (the step varies with the video's length)
        - num_clips

    Args:
        clip_len: Frames per clip (= segments).
        num_clips: Clips per video in test mode.
        test_mode: Deterministic test-time sampling.
    """

    def __init__(self, clip_len: int, num_clips: int = 1, test_mode: bool = False) -> None:
        _check_positive_ints('UniformSample', clip_len=clip_len, num_clips=num_clips)
        self.clip_len = int(clip_len)
        self.num_clips = int(num_clips)
        self.test_mode = test_mode

    def _indices(self, num_frames: int) -> np.ndarray:
        seg = float(num_frames - 1) / self.clip_len
        starts = [int(np.round(seg * i)) for i in range(self.clip_len)]
        if not self.test_mode:
            ends = [int(np.round(seg * (i + 1))) for i in range(self.clip_len)]
            return np.array([np.random.randint(a, b + 1) for a, b in zip(starts, ends)])
        step = seg / (self.num_clips + 1)
        return np.array(
            [a + int(step * (k + 1)) for k in range(self.num_clips) for a in starts]
        )  # [num_clips * clip_len]

    def transform(self, results: dict) -> dict:
        """Add ``frame_inds`` and the sampling settings to ``results``."""
        num_frames = _total_frames(results, type(self).__name__)
        frame_inds = self._indices(num_frames) + results['start_index']
        results['frame_inds'] = frame_inds.astype(np.int32)
        results['clip_len'] = self.clip_len
        results['frame_interval'] = None
        results['num_clips'] = self.num_clips
        return results

    def __repr__(self) -> str:
        return (
            f'{type(self).__name__}(clip_len={self.clip_len}, num_clips={self.num_clips}, '
            f'test_mode={self.test_mode})'
        )
