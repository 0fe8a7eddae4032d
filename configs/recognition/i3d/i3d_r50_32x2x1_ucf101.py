# I3D-R50 32x2x1 finetuned on UCF101 split 1 from MMAction2's Kinetics-400 I3D-R50
# (ImageNet-inflated, 100 epochs, 73.47 top-1 on Kinetics-400 with 10 clips x 3 crops).
_base_ = [
    '../../_base_/models/i3d_r50.py',
    '../../_base_/datasets/ucf101_videos_32x2x1.py',
    '../../_base_/schedules/sgd_30e_finetune.py',
    '../../_base_/default_runtime.py',
]

model = dict(
    # load_from replaces every backbone tensor, so the ImageNet weights need not be fetched first.
    backbone=dict(pretrained=None),
    cls_head=dict(num_classes=101),  # UCF101; the 400-class fc_cls is re-initialised
)

# I3D's own training crop (MMAction2's Kinetics-400 recipe): scales 1 or 0.8 of the short side at
# 5 fixed places, square (max_wh_scale_gap=0), instead of the base's RandomResizedCrop.
train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=32, frame_interval=2, num_clips=1),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(
        type='MultiScaleCrop',
        input_size=224,
        scales=(1, 0.8),
        random_crop=False,
        max_wh_scale_gap=0,
    ),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))

optim_wrapper = dict(optimizer=dict(lr=0.001))  # Kinetics-400's 0.01 / 10 for 8 GPUs x 8 clips
auto_scale_lr = dict(base_batch_size=64)  # 8 x 8

default_hooks = dict(checkpoint=dict(interval=5, max_keep_ckpts=3))

load_from = (
    'https://download.openmmlab.com/mmaction/v1.0/recognition/i3d/'
    'i3d_imagenet-pretrained-r50_8xb8-32x2x1-100e_kinetics400-rgb/'
    'i3d_imagenet-pretrained-r50_8xb8-32x2x1-100e_kinetics400-rgb_20220812-e213c223.pth'
)
