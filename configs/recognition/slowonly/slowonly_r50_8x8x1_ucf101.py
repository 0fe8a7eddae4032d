# SlowOnly-R50 8x8x1 finetuned on UCF101 split 1 from MMAction2's Kinetics-400 SlowOnly-R50
# (ImageNet-pretrained, step LR, 150 epochs, 75.96 top-1 on Kinetics-400 with 10 clips x 3 crops).
_base_ = [
    '../../_base_/models/slowonly_r50.py',
    '../../_base_/datasets/ucf101_videos_8x8x1.py',
    '../../_base_/schedules/sgd_30e_finetune.py',
    '../../_base_/default_runtime.py',
]

model = dict(
    # load_from replaces every backbone tensor, so the ImageNet weights need not be fetched first.
    backbone=dict(pretrained=None),
    cls_head=dict(num_classes=101),  # UCF101; the 400-class fc_cls is re-initialised
)

optim_wrapper = dict(optimizer=dict(lr=0.002))  # Kinetics-400's 0.02 / 10 for 8 GPUs x 16 clips
auto_scale_lr = dict(base_batch_size=128)  # 8 x 16

default_hooks = dict(checkpoint=dict(interval=5, max_keep_ckpts=3))

load_from = (
    'https://download.openmmlab.com/mmaction/v1.0/recognition/slowonly/'
    'slowonly_imagenet-pretrained-r50_8xb16-8x8x1-steplr-150e_kinetics400-rgb/'
    'slowonly_imagenet-pretrained-r50_8xb16-8x8x1-steplr-150e_kinetics400-rgb_20220901-df42dc84.pth'
)
