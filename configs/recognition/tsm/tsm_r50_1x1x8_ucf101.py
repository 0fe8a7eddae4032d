# TSM-R50 1x1x8 finetuned on UCF101 split 1 from MMAction2's Kinetics-400 TSM-R50
# (1x1x8, 50 epochs, 73.18 top-1 on Kinetics-400 with 8 clips x 10 crops).
_base_ = [
    '../../_base_/models/tsm_r50.py',
    '../../_base_/datasets/ucf101_videos_tsm_1x1x8.py',
    '../../_base_/schedules/sgd_30e_finetune.py',
    '../../_base_/default_runtime.py',
]

model = dict(
    # load_from replaces every backbone tensor, so the ImageNet weights need not be fetched first.
    backbone=dict(pretrained=None, num_segments=8),  # the 8 frames of each clip
    cls_head=dict(num_classes=101, num_segments=8),  # UCF101; the 400-class fc is re-initialised
)

# TSM's optimizer: the classifier learns 5x (weight) and 10x (bias) faster than the backbone.
# lr = Kinetics-400's 0.02 / 10 for the same 8 GPUs x 16 clips; clip 20 as TSM.
optim_wrapper = dict(
    constructor='TSMOptimWrapperConstructor',
    paramwise_cfg=dict(fc_lr5=True),
    optimizer=dict(lr=0.002),
    clip_grad=dict(max_norm=20),
)
auto_scale_lr = dict(base_batch_size=128)  # 8 x 16

default_hooks = dict(checkpoint=dict(interval=5, max_keep_ckpts=3))

load_from = (
    'https://download.openmmlab.com/mmaction/v1.0/recognition/tsm/'
    'tsm_imagenet-pretrained-r50_8xb16-1x1x8-50e_kinetics400-rgb/'
    'tsm_imagenet-pretrained-r50_8xb16-1x1x8-50e_kinetics400-rgb_20220831-64d69186.pth'
)
