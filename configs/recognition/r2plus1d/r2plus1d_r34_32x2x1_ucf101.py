# R(2+1)D-34 32x2x1 finetuned on UCF101 split 1 from MMAction2's Kinetics-400 R(2+1)D-34
# (from scratch, 180 epochs, 75.46 top-1 on Kinetics-400 with 10 clips x 3 crops).
_base_ = [
    '../../_base_/models/r2plus1d_r34.py',
    '../../_base_/datasets/ucf101_videos_32x2x1.py',
    '../../_base_/schedules/sgd_30e_finetune.py',
    '../../_base_/default_runtime.py',
]

model = dict(cls_head=dict(num_classes=101))  # UCF101; the 400-class fc_cls is re-initialised

optim_wrapper = dict(optimizer=dict(lr=0.001))  # Kinetics-400's 0.01 / 10 for 8 GPUs x 8 clips
auto_scale_lr = dict(base_batch_size=64)  # 8 x 8

default_hooks = dict(checkpoint=dict(interval=5, max_keep_ckpts=3))

load_from = (
    'https://download.openmmlab.com/mmaction/v1.0/recognition/r2plus1d/'
    'r2plus1d_r34_8xb8-32x2x1-180e_kinetics400-rgb/'
    'r2plus1d_r34_8xb8-32x2x1-180e_kinetics400-rgb_20220812-4270588c.pth'
)
