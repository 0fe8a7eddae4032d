"""Pure converters of other codebases' checkpoints into mmaction_ft recognizers' keys.

One module per source; importing this package registers them with
:func:`mmaction_ft.engine.checkpoint.register_source_converter`, and
:func:`mmaction_ft.engine.load_checkpoint_file` applies them by URI (``torchvision://NAME``,
``hf://FOLDER``), so ``load_from`` and ``model.backbone.pretrained`` take these sources like any
checkpoint.
"""

from mmaction_ft.engine.checkpoint import HF_SCHEME, TORCHVISION_SCHEME, register_source_converter

from .huggingface import (
    convert_videomae,
    load_videomae_checkpoint,
    videomae_class_names,
    videomae_model_cfg,
)
from .torchvision_video import (
    TORCHVISION_VIDEO_MODELS,
    convert_mvit,
    convert_s3d,
    convert_swin3d,
    convert_torchvision_checkpoint,
    convert_video_resnet,
    torchvision_video_model_cfg,
)

register_source_converter(TORCHVISION_SCHEME, convert_torchvision_checkpoint)
register_source_converter(HF_SCHEME, load_videomae_checkpoint)

__all__ = [
    'TORCHVISION_VIDEO_MODELS',
    'convert_mvit',
    'convert_s3d',
    'convert_swin3d',
    'convert_torchvision_checkpoint',
    'convert_video_resnet',
    'convert_videomae',
    'load_videomae_checkpoint',
    'torchvision_video_model_cfg',
    'videomae_class_names',
    'videomae_model_cfg',
]
