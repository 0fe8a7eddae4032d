# SlowFast-R50 4x16x1 finetuned on UCF101 split 1 from MMAction2's Kinetics-400 SlowFast-R50
# (256 epochs, 75.55 top-1 on Kinetics-400 with 10 clips x 3 crops). The 32x2x1 input clip
# feeds the slow pathway 32 / 8 = 4 frames, 2 x 8 = 16 apart (hence "4x16x1"), and the fast
# pathway all 32.
_base_ = [
    '../../_base_/models/slowfast_r50.py',
    '../../_base_/datasets/ucf101_videos_32x2x1.py',
    '../../_base_/schedules/sgd_30e_finetune.py',
    '../../_base_/default_runtime.py',
]

model = dict(cls_head=dict(num_classes=101))  # UCF101; the 400-class fc_cls is re-initialised

optim_wrapper = dict(optimizer=dict(lr=0.01))  # Kinetics-400's 0.1 / 10 for 8 GPUs x 8 clips
auto_scale_lr = dict(base_batch_size=64)  # 8 x 8

default_hooks = dict(checkpoint=dict(interval=5, max_keep_ckpts=3))

load_from = (
    'https://download.openmmlab.com/mmaction/v1.0/recognition/slowfast/'
    'slowfast_r50_8xb8-4x16x1-256e_kinetics400-rgb/'
    'slowfast_r50_8xb8-4x16x1-256e_kinetics400-rgb_20220901-701b0f6f.pth'
)
