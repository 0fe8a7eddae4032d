# TSN-R50 1x1x3 on 320x240 mp4 videos decoded by decord: the same model, batch and sampling as
# tsn_r50_1x1x3_rawframes.py (which says how to make the data), MMAction2's video pipelines.
_base_ = ['tsn_r50_1x1x3_rawframes.py']

data_root = 'data/benchmark'
train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=3),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(
        type='MultiScaleCrop',
        input_size=224,
        scales=(1, 0.875, 0.75, 0.66),
        random_crop=False,
        max_wh_scale_gap=1,
    ),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs'),
]
val_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=3, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs'),
]
test_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=25, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='TenCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs'),
]
train_dataloader = dict(
    dataset=dict(
        type='VideoDataset',
        ann_file=f'{data_root}/source_train_list_videos.txt',
        data_prefix=dict(_delete_=True, video=f'{data_root}/videos'),
        pipeline=train_pipeline,
    )
)
val_dataloader = dict(
    dataset=dict(
        type='VideoDataset',
        ann_file=f'{data_root}/source_val_list_videos.txt',
        data_prefix=dict(_delete_=True, video=f'{data_root}/videos'),
        pipeline=val_pipeline,
    )
)
test_dataloader = dict(
    dataset=dict(
        type='VideoDataset',
        ann_file=f'{data_root}/source_val_list_videos.txt',
        data_prefix=dict(_delete_=True, video=f'{data_root}/videos'),
        pipeline=test_pipeline,
    )
)
