# VideoMAE ViT-B/16 16x4x1 finetuned on UCF101 split 1 from MMAction2's Kinetics-400 VideoMAE
# (self-supervised on Kinetics-400, then finetuned on it: 81.3 top-1 with 5 clips x 3 crops).
# The recipe is VideoMAE's finetuning recipe (Tong et al., NeurIPS 2022, appendix Table 10).
_base_ = [
    '../../_base_/models/vit_base_p16.py',
    '../../_base_/datasets/ucf101_videos.py',
    '../../_base_/schedules/adamw_30e_finetune.py',
    '../../_base_/default_runtime.py',
]

num_classes = 101  # UCF101; the 400-class fc_cls is re-initialised
model = dict(
    backbone=dict(drop_path_rate=0.1),  # VideoMAE's stochastic depth for ViT-B
    cls_head=dict(num_classes=num_classes, label_smooth_eps=0.1),
    data_preprocessor=dict(
        # Mixup (alpha 0.8) or CutMix (alpha 1.0), one of the two per batch: VideoMAE's values.
        # The soft targets need the class count of the head.
        blending=dict(
            type='RandomBatchAugment',
            augments=[
                dict(type='MixupBlending', alpha=0.8, num_classes=num_classes),
                dict(type='CutmixBlending', alpha=1.0, num_classes=num_classes),
            ],
        ),
    ),
)

# VideoMAE's training augmentation: RandAugment (magnitude 7, 4 ops; timm's rand-m7-n4), an
# Inception crop, flips and random erasing (p 0.25).
train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=16, frame_interval=4, num_clips=1),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='PytorchVideoWrapper', op='RandAugment', magnitude=7, num_layers=4),
    dict(type='RandomResizedCrop'),
    dict(type='Resize', scale=(224, 224), keep_ratio=False),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='RandomErasing', erase_prob=0.25, mode='rand'),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
val_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=16, frame_interval=4, num_clips=1, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 224)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
# MMAction2's VideoMAE test: 5 clips x 3 crops (224 x 224 of the 224 short side) = 15 views.
test_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=16, frame_interval=4, num_clips=5, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 224)),
    dict(type='ThreeCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
# Memory: 16 frames of 224 x 224 are 8 x 14 x 14 = 1568 tokens a clip, so the recipe takes 4
# clips per GPU and accumulates 2 steps: the batch the LR is set for stays 8 GPUs x 4 x 2 = 64.
# With more GPU memory (or --amp) use batch_size=8 and accumulative_counts=1.
train_dataloader = dict(batch_size=4, dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(batch_size=4, dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))

optim_wrapper = dict(
    accumulative_counts=2,
    # VideoMAE's rule: lr = 1e-3 x batch / 256 = 1e-3 x 64 / 256.
    optimizer=dict(lr=2.5e-4, weight_decay=0.05),
    # Layer-wise LR decay 0.75 over the 12 blocks (VideoMAE's ViT-B value): block i trains at
    # 0.75 ** (12 - i) of the LR, the patch embedding at 0.75 ** 13 = 0.024, the head at 1.
    constructor='LearningRateDecayOptimizerConstructor',
    paramwise_cfg=dict(decay_rate=0.75, decay_type='layer_wise', num_layers=12),
)
auto_scale_lr = dict(base_batch_size=64)  # 8 GPUs x 4 clips x 2 accumulated steps

default_hooks = dict(checkpoint=dict(interval=5, max_keep_ckpts=3))

load_from = (
    'https://download.openmmlab.com/mmaction/v1.0/recognition/videomae/'
    'vit-base-p16_videomae-k400-pre_16x4x1_kinetics-400_20221013-860a3cd3.pth'
)
