# TSN-R50 1x1x3 on 320x240 JPEG frames: the speed comparison of docs/benchmarks.md.
# Written in MMAction2 1.x style so that MMAction2 1.2.0 runs the very same file. The data:
#   python tools/data/make_demo_dataset.py data/benchmark --videos-per-class 3 \
#       --num-frames 96 --size 240 320 --fps 30
# (8 classes, 16 training and 8 val videos of 96 frames). Then:
#   python tools/analysis/benchmark.py configs/benchmarks/tsn_r50_1x1x3_rawframes.py
# It also trains (tools/train.py) with the tutorial's finetuning schedule.
_base_ = [
    '../_base_/models/tsn_r50.py',
    '../_base_/schedules/sgd_50e_finetune.py',
    '../_base_/default_runtime.py',
]

data_root = 'data/benchmark'
dataset_type = 'RawframeDataset'
data_prefix = dict(img=f'{data_root}/rawframes')
ann_file_train = f'{data_root}/source_train_list_rawframes.txt'
ann_file_test = f'{data_root}/source_val_list_rawframes.txt'

# TSN-R50 as MMAction2 builds it, from random weights (pretraining does not change speed).
model = dict(backbone=dict(pretrained=None), cls_head=dict(num_classes=8))

# MMAction2's TSN Kinetics-400 pipelines (tsn_imagenet-pretrained-r50_8xb32-1x1x3-100e).
train_pipeline = [
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=3),
    dict(type='RawFrameDecode'),
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
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=3, test_mode=True),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs'),
]
test_pipeline = [
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=25, test_mode=True),
    dict(type='RawFrameDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='TenCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs'),
]

train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file_train,
        data_prefix=data_prefix,
        pipeline=train_pipeline,
    ),
)
val_dataloader = dict(
    batch_size=8,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file_test,
        data_prefix=data_prefix,
        pipeline=val_pipeline,
        test_mode=True,
    ),
)
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file_test,
        data_prefix=data_prefix,
        pipeline=test_pipeline,
        test_mode=True,
    ),
)
val_evaluator = dict(type='AccMetric')
test_evaluator = val_evaluator

# The benchmark uses the schedule's SGD (lr 0.005, momentum 0.9, weight decay 1e-4, gradient
# clipping at 40) as given here, for both MMAction2 and mmaction_ft.
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.005, momentum=0.9, weight_decay=0.0001),
    clip_grad=dict(max_norm=40, norm_type=2),
)
randomness = dict(seed=0)
