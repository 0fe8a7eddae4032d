# TimeSformer (divided space-time) 8x32x1 finetuned on UCF101 split 1 from MMAction2's
# Kinetics-400 TimeSformer (ImageNet-21k ViT-B, 15 epochs, 77.69 top-1 with 1 clip x 3 crops).
# TimeSformer trains with SGD (Bertasius et al., ICML 2021, and MMAction2's recipe), so this
# recipe keeps SGD with the model-zoo finetuning schedule rather than the AdamW one.
_base_ = [
    '../../_base_/models/timesformer_divst.py',
    '../../_base_/datasets/ucf101_videos.py',
    '../../_base_/schedules/sgd_30e_finetune.py',
    '../../_base_/default_runtime.py',
]

model = dict(
    # load_from replaces every backbone tensor, so the ImageNet ViT need not be fetched first.
    # Drop path is built in: 0 at the first layer to 0.1 at the last, as in MMAction2.
    backbone=dict(pretrained=None),
    cls_head=dict(num_classes=101, label_smooth_eps=0.1),  # the 400-class fc_cls is re-initialised
)

# MMAction2's TimeSformer pipelines: 8 frames 32 apart (a 256-frame span; SampleFrames loops a
# shorter video, and UCF101's average 7 s is ~180 frames), short side rescaled to 256-320 and
# cropped at random for training; testing 1 clip x 3 crops of the 224 short side.
train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=8, frame_interval=32, num_clips=1),
    dict(type='DecordDecode'),
    dict(type='RandomRescale', scale_range=(256, 320)),
    dict(type='RandomCrop', size=224),
    dict(type='Flip', flip_ratio=0.5),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
val_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=8, frame_interval=32, num_clips=1, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 256)),
    dict(type='CenterCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
test_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=8, frame_interval=32, num_clips=1, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 224)),
    dict(type='ThreeCrop', crop_size=224),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))

optim_wrapper = dict(
    # Kinetics-400's 0.005 / 10 for 8 GPUs x 8 clips; Nesterov momentum as in MMAction2.
    optimizer=dict(type='SGD', lr=0.0005, momentum=0.9, weight_decay=1e-4, nesterov=True),
    # No weight decay on the class token and the position / time embeddings (MMAction2).
    paramwise_cfg=dict(
        custom_keys={
            '.backbone.cls_token': dict(decay_mult=0.0),
            '.backbone.pos_embed': dict(decay_mult=0.0),
            '.backbone.time_embed': dict(decay_mult=0.0),
        }
    ),
    clip_grad=dict(max_norm=40, norm_type=2),
)
auto_scale_lr = dict(base_batch_size=64)  # 8 x 8

default_hooks = dict(checkpoint=dict(interval=5, max_keep_ckpts=3))

load_from = (
    'https://download.openmmlab.com/mmaction/v1.0/recognition/timesformer/'
    'timesformer_divST_8xb8-8x32x1-15e_kinetics400-rgb/'
    'timesformer_divST_8xb8-8x32x1-15e_kinetics400-rgb_20220815-a4d0d01f.pth'
)
