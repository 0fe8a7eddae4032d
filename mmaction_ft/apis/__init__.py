from .run_setup import check_annotation_files, default_work_dir, prepare_train_cfg

__all__ = ['check_annotation_files', 'default_work_dir', 'prepare_train_cfg']
