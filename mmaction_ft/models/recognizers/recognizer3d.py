"""Recognizer for 3D backbones: every view of a video is a clip."""

from mmaction_ft.registry import MODELS

from .base_recognizer import BaseRecognizer


@MODELS.register_module()
class Recognizer3D(BaseRecognizer):
    """A 3D recognizer such as I3D, SlowFast or X3D: the backbone sees
    ``[N * num_views, C, T, H, W]`` clips, the head scores each view (``num_segs=num_views``)
    and ``predict`` averages the view rows of each video as ``cls_head.average_clips`` says.

    See :class:`BaseRecognizer` for the arguments.
    """

    input_layout = ('N', 'num_views', 'C', 'T', 'H', 'W')
    format_shape = 'NCTHW'
