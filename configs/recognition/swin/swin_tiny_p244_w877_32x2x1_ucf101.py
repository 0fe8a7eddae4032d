# Video Swin-T 32x2x1 finetuned on UCF101 split 1 from MMAction2's Kinetics-400 Swin-T
# (ImageNet-1k Swin-T inflated, 30 epochs, 78.90 top-1 with 4 clips x 3 crops), with its
# Kinetics-400 recipe: AdamW, the backbone at a tenth of the head's LR, no weight decay on
# norms and position tables, drop path 0.1 (in the model base).
_base_ = [
    '../../_base_/models/swin_tiny.py',
    '../../_base_/datasets/ucf101_videos_32x2x1.py',  # Swin trains on the I3D pipelines
    '../../_base_/schedules/adamw_30e_finetune.py',
    '../../_base_/default_runtime.py',
]

model = dict(cls_head=dict(num_classes=101))  # UCF101; the 400-class fc_cls is re-initialised

# MMAction2's Swin test: 4 clips x 3 crops of the 224 short side = 12 views.
test_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=32, frame_interval=2, num_clips=4, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 224)),
    dict(type='ThreeCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))
# MMAction2 trains 8 GPUs x 8 clips with AMP (`tools/train.py --amp` here). In fp32, 4 clips a
# GPU with 2 accumulated steps keep the batch the LR is set for: 8 x 4 x 2 = 64.
train_dataloader = dict(batch_size=4)
val_dataloader = dict(batch_size=4)

optim_wrapper = dict(
    accumulative_counts=2,
    # Kinetics-400's 1e-3 / 10 for 8 GPUs x 8 clips, the model-zoo rule; weight decay 0.02.
    optimizer=dict(lr=1e-4, weight_decay=0.02),
    constructor='SwinOptimWrapperConstructor',
    paramwise_cfg=dict(
        absolute_pos_embed=dict(decay_mult=0.0),
        relative_position_bias_table=dict(decay_mult=0.0),
        norm=dict(decay_mult=0.0),
        backbone=dict(lr_mult=0.1),
    ),
)
auto_scale_lr = dict(base_batch_size=64)  # 8 GPUs x 4 clips x 2 accumulated steps

default_hooks = dict(checkpoint=dict(interval=5, max_keep_ckpts=3))

load_from = (
    'https://download.openmmlab.com/mmaction/v1.0/recognition/swin/'
    'swin-tiny-p244-w877_in1k-pre_8xb8-amp-32x2x1-30e_kinetics400-rgb/'
    'swin-tiny-p244-w877_in1k-pre_8xb8-amp-32x2x1-30e_kinetics400-rgb_20220930-241016b2.pth'
)
