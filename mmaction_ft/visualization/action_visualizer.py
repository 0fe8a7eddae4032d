"""``ActionVisualizer``: the frames of a video with its ground truth and predicted classes written
on them, saved to the visualizer's backends or to a folder / video file.

MMAction2 1.x configs name it in ``visualizer = dict(type='ActionVisualizer', ...)``; its
``add_datasample`` takes the same arguments as MMAction2's.
"""

import os
import os.path as osp
from typing import Dict, List, Optional, Sequence, Tuple, Union

import mmcv
import numpy as np
from mmengine.visualization import Visualizer

from mmaction_ft.registry import VISUALIZERS
from mmaction_ft.structures import ActionDataSample

Video = Union[np.ndarray, Sequence[np.ndarray], str]
OUT_TYPES = ('img', 'video')


@VISUALIZERS.register_module()
class ActionVisualizer(Visualizer):
    """Writes ``gt: <class>`` and ``pred: <class> (<score>)`` on every frame of a video.

    Class names come from ``dataset_meta['classes']`` (the runner sets it from the dataset);
    without them the class index is written.

    Args:
        name: The instance name (mmengine visualizers are global instances).
        vis_backends: Backend configs, e.g. ``[dict(type='LocalVisBackend')]``.
        save_dir: Where the backends save.
        fig_save_cfg, fig_show_cfg: matplotlib figure options of mmengine's ``Visualizer``.
    """

    def __init__(
        self,
        name: str = 'visualizer',
        vis_backends: Optional[List[Dict]] = None,
        save_dir: Optional[str] = None,
        fig_save_cfg: Dict = dict(frameon=False),  # noqa: B006 (never mutated)
        fig_show_cfg: Dict = dict(frameon=False),  # noqa: B006
    ) -> None:
        super().__init__(
            name=name,
            vis_backends=vis_backends,
            save_dir=save_dir,
            fig_save_cfg=fig_save_cfg,
            fig_show_cfg=fig_show_cfg,
        )

    def add_datasample(
        self,
        name: str,
        video: Video,
        data_sample: Optional[ActionDataSample] = None,
        draw_gt: bool = True,
        draw_pred: bool = True,
        draw_score: bool = True,
        rescale_factor: Optional[float] = None,
        show_frames: bool = False,
        text_cfg: Optional[Dict] = None,
        wait_time: float = 0.1,
        out_path: Optional[str] = None,
        out_type: str = 'img',
        target_resolution: Optional[Tuple[int, int]] = None,
        step: int = 0,
        fps: int = 4,
    ) -> List[np.ndarray]:
        """Draw the labels of ``data_sample`` on every frame of ``video`` and save the frames.

        Args:
            name: Name of the sample (file names and backend keys derive from it).
            video: RGB frames ``[T, H, W, 3]`` (uint8), a list of such frames, or a video path.
            data_sample: Holds ``gt_label`` and / or ``pred_score`` / ``pred_label``.
            draw_gt: Write the ground-truth class.
            draw_pred: Write the predicted class.
            draw_score: Add the predicted class's score.
            rescale_factor: Resize every frame by this factor first.
            show_frames: Show each drawn frame in a window (needs a display).
            text_cfg: Options of mmengine's ``draw_texts`` (``colors``, ``font_sizes`` ...).
            wait_time: Seconds each frame is shown with ``show_frames``.
            out_path: Save here instead of to the backends: a folder of JPEG frames for
                ``out_type='img'``, an mp4 file for ``'video'``.
            out_type: ``'img'`` or ``'video'``.
            target_resolution: ``(width, height)`` of the drawn frames; -1 in one keeps the
                aspect ratio.
            step: Global step passed to the backends.
            fps: Frame rate of a saved video.

        Returns:
            The drawn RGB frames.
        """
        if out_type not in OUT_TYPES:
            raise ValueError(f'out_type must be one of {OUT_TYPES}, got {out_type!r}')
        frames = [_resize(f, rescale_factor, target_resolution) for f in _read_frames(video)]
        lines = self._label_lines(data_sample, draw_gt, draw_pred, draw_score)
        text_options = dict(colors='white', bboxes=dict(facecolor='black', alpha=0.6))
        text_options.update(text_cfg or {})
        drawn = []
        for frame in frames:
            self.set_image(frame)
            if lines:
                height = frame.shape[0]
                font_size = max(8, height // 16)
                positions = np.array([[4, 4 + i * font_size * 1.6] for i in range(len(lines))])
                self.draw_texts(
                    lines,
                    positions,
                    font_sizes=font_size,
                    vertical_alignments='top',
                    **text_options,
                )
            drawn.append(self.get_image())
            if show_frames:
                self.show(drawn[-1], win_name=name, wait_time=wait_time)

        if out_path is None:
            strip = np.concatenate(drawn, axis=1)  # [H, T * W, 3]: the clip as one image
            self.add_image(name, strip, step)
        elif out_type == 'img':
            for i, frame in enumerate(drawn):
                mmcv.imwrite(frame[..., ::-1], osp.join(out_path, f'{name}_{i:05d}.jpg'))
        else:
            _write_video(drawn, out_path, fps)
        return drawn

    def _label_lines(
        self,
        data_sample: Optional[ActionDataSample],
        draw_gt: bool,
        draw_pred: bool,
        draw_score: bool,
    ) -> List[str]:
        if data_sample is None:
            return []
        classes = (self.dataset_meta or {}).get('classes')

        def class_name(index: int) -> str:
            return str(classes[index]) if classes is not None else str(index)

        lines = []
        if draw_gt and 'gt_label' in data_sample:
            labels = data_sample.gt_label.flatten()
            if labels.is_floating_point():  # multi-label one-hot
                labels = labels.nonzero().flatten()
            lines.append('gt: ' + ', '.join(class_name(int(i)) for i in labels))
        if draw_pred and 'pred_score' in data_sample:
            scores = data_sample.pred_score
            label = int(scores.argmax())
            line = f'pred: {class_name(label)}'
            if draw_score:
                line += f' ({float(scores[label]):.2f})'
            lines.append(line)
        return lines


def _read_frames(video: Video) -> List[np.ndarray]:
    if isinstance(video, str):
        reader = mmcv.VideoReader(video)
        frames = [frame[..., ::-1] for frame in reader]  # BGR -> RGB
        if not frames:
            raise ValueError(f'no frame could be read from {video}')
        return frames
    frames = list(video)
    if not frames or any(np.asarray(f).ndim != 3 or np.asarray(f).shape[2] != 3 for f in frames):
        raise ValueError('video must be a video path or non-empty RGB frames [T, H, W, 3]')
    return [np.ascontiguousarray(f, dtype=np.uint8) for f in frames]


def _resize(
    frame: np.ndarray, factor: Optional[float], target: Optional[Tuple[int, int]]
) -> np.ndarray:
    if factor is not None:
        frame = mmcv.imrescale(frame, factor)
    if target is not None:
        width, height = target
        h, w = frame.shape[:2]
        if width == -1:
            width = round(w * height / h)
        elif height == -1:
            height = round(h * width / w)
        frame = mmcv.imresize(frame, (width, height))
    return frame


def _write_video(frames: List[np.ndarray], out_path: str, fps: int) -> None:
    import cv2

    os.makedirs(osp.dirname(osp.abspath(out_path)), exist_ok=True)
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(out_path, cv2.VideoWriter_fourcc(*'mp4v'), fps, (width, height))
    try:
        for frame in frames:
            writer.write(np.ascontiguousarray(frame[..., ::-1]))  # RGB -> BGR
    finally:
        writer.release()
