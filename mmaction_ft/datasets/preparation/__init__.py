"""Data preparation: frame extraction, annotation lists from official splits, dataset checks.

Imported by its full path (``mmaction_ft.datasets.preparation``); nothing here is registered.
The command-line front ends are ``tools/data/{extract_frames,build_file_list,check_dataset}.py``.
"""

from .doctor import (
    DoctorReport,
    Issue,
    check_config,
    check_dataset,
    check_frame_folder,
    check_video,
    dataset_from_config,
    dataset_from_settings,
    diagnose,
)
from .file_lists import (
    DATASETS,
    BuildReport,
    DatasetSpec,
    FrameCounter,
    format_line,
    write_file_lists,
)
from .frame_extraction import (
    FRAME_COUNTS_FILE,
    ExtractionReport,
    count_frames,
    extract_frames,
    extract_video_frames,
    find_videos,
    iter_video_frames,
    read_frame_counts,
    write_frame_counts,
)
from .official_annotations import (
    Sample,
    kinetics_class_dir,
    parse_activitynet,
    parse_hmdb51,
    parse_kinetics,
    parse_mit,
    parse_mmit,
    parse_sthv1,
    parse_sthv2,
    parse_thumos14,
    parse_ucf101,
)

__all__ = [
    'BuildReport',
    'DATASETS',
    'DatasetSpec',
    'DoctorReport',
    'ExtractionReport',
    'FRAME_COUNTS_FILE',
    'FrameCounter',
    'Issue',
    'Sample',
    'dataset_from_settings',
    'check_config',
    'check_dataset',
    'check_frame_folder',
    'check_video',
    'count_frames',
    'dataset_from_config',
    'diagnose',
    'extract_frames',
    'extract_video_frames',
    'find_videos',
    'format_line',
    'iter_video_frames',
    'kinetics_class_dir',
    'parse_activitynet',
    'parse_hmdb51',
    'parse_kinetics',
    'parse_mit',
    'parse_mmit',
    'parse_sthv1',
    'parse_sthv2',
    'parse_thumos14',
    'parse_ucf101',
    'read_frame_counts',
    'write_file_lists',
    'write_frame_counts',
]
