"""Recognizer for 2D backbones: every view of a video is an image."""

from mmaction_ft.registry import MODELS

from .base_recognizer import BaseRecognizer


@MODELS.register_module()
class Recognizer2D(BaseRecognizer):
    """A 2D recognizer such as TSN or TSM: the backbone sees ``[N * num_views, C, H, W]``
    images and the head merges the ``num_views`` views of each video (``num_segs``).

    See :class:`BaseRecognizer` for the arguments.
    """

    input_layout = ('N', 'num_views', 'C', 'H', 'W')
    format_shape = 'NCHW'
