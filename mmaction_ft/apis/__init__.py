from .checkpoint_meta import checkpoint_classes, checkpoint_config, inference_settings
from .eval_outputs import eval_outputs_dump, write_eval_outputs, write_test_outputs
from .inference import (
    detect_frame_template,
    inference_autocast,
    inference_recognizer,
    init_recognizer,
    top_classes,
)
from .predict import collect_inputs, format_table, predict_videos, write_predictions
from .run_setup import (
    apply_precision,
    check_annotation_files,
    default_work_dir,
    prepare_test_cfg,
    prepare_train_cfg,
    test_checkpoint,
    use_mixed_precision,
)
from .timeline import plot_timeline, video_timeline, write_timeline

__all__ = [
    'apply_precision',
    'check_annotation_files',
    'checkpoint_classes',
    'checkpoint_config',
    'collect_inputs',
    'default_work_dir',
    'detect_frame_template',
    'eval_outputs_dump',
    'format_table',
    'inference_autocast',
    'inference_recognizer',
    'inference_settings',
    'init_recognizer',
    'plot_timeline',
    'predict_videos',
    'prepare_test_cfg',
    'prepare_train_cfg',
    'test_checkpoint',
    'top_classes',
    'use_mixed_precision',
    'video_timeline',
    'write_eval_outputs',
    'write_predictions',
    'write_test_outputs',
    'write_timeline',
]
