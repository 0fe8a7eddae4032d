from .run_setup import (
    check_annotation_files,
    default_work_dir,
    prepare_test_cfg,
    prepare_train_cfg,
    test_checkpoint,
)

__all__ = [
    'check_annotation_files',
    'default_work_dir',
    'prepare_test_cfg',
    'prepare_train_cfg',
    'test_checkpoint',
]
