# Synthetic motion clips (tools/data/make_demo_dataset.py, 64x64 mp4, 24 frames) for the 3D
# model-zoo demos (configs/demo/<family>_demo.py): the 5 "target" motions they finetune on. As
# in demo_motion_videos.py the pipelines never flip (flips swap directions) and crop mildly.
dataset_type = 'VideoDataset'
data_root = 'data/demo/videos'
ann_file_train = 'data/demo/target_train_list_videos.txt'
ann_file_val = 'data/demo/target_val_list_videos.txt'
label_map = 'data/demo/target_classes.txt'

# One clip of 8 frames, 2 apart: 16 of the 24 frames, most of the motion.
train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=8, frame_interval=2, num_clips=1),
    dict(type='DecordDecode'),
    dict(type='MultiScaleCrop', input_size=56, scales=(1, 0.875)),
    dict(type='Resize', scale=(56, 56), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
val_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=8, frame_interval=2, num_clips=1, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='CenterCrop', crop_size=56),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
# Multi-view testing, 3D style: 2 clips x 3 crops (left, middle, right; 56 wide, full height)
# = 6 views per video, averaged by the head.
test_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=8, frame_interval=2, num_clips=2, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='ThreeCrop', crop_size=(56, 64)),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]

train_dataloader = dict(
    batch_size=8,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file_train,
        data_prefix=dict(video=data_root),
        label_map=label_map,
        pipeline=train_pipeline,
    ),
)
val_dataloader = dict(
    batch_size=8,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file_val,
        data_prefix=dict(video=data_root),
        label_map=label_map,
        pipeline=val_pipeline,
        test_mode=True,
    ),
)
test_dataloader = dict(
    batch_size=1,
    num_workers=1,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file_val,
        data_prefix=dict(video=data_root),
        label_map=label_map,
        pipeline=test_pipeline,
        test_mode=True,
    ),
)

val_evaluator = dict(type='AccMetric')
test_evaluator = val_evaluator
