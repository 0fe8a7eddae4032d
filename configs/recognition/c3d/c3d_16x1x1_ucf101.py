# C3D 16x1x1 on UCF101 split 1, MMAction2's C3D recipe (83.08 top-1, 10 clips x 1 crop).
# MMAction2 publishes no Kinetics-400 C3D: the starting point is the backbone-only Sports-1M
# model (`model.backbone.pretrained` in the model base: convs + fc6 / fc7), and the head is new.
_base_ = [
    '../../_base_/models/c3d.py',
    '../../_base_/datasets/ucf101_videos_c3d_16x1x1.py',
    '../../_base_/schedules/sgd_30e_finetune.py',
    '../../_base_/default_runtime.py',
]

# MMAction2's C3D UCF101 schedule, to reproduce its result: 45 epochs, LR / 10 at 20 and 40,
# lr 0.001 for 8 GPUs x 30 clips, weight decay 5e-4.
train_cfg = dict(max_epochs=45)
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=45, by_epoch=True, milestones=[20, 40], gamma=0.1)
]
optim_wrapper = dict(optimizer=dict(lr=0.001, weight_decay=0.0005))
auto_scale_lr = dict(base_batch_size=240)  # 8 x 30

default_hooks = dict(checkpoint=dict(interval=5))

# Nothing to load_from: the Sports-1M backbone comes through `model.backbone.pretrained`. The
# finished UCF101 model, to test or to finetune further, is
# https://download.openmmlab.com/mmaction/v1.0/recognition/c3d/c3d_sports1m-pretrained_8xb30-16x1x1-45e_ucf101-rgb/c3d_sports1m-pretrained_8xb30-16x1x1-45e_ucf101-rgb_20220811-31723200.pth  # noqa: E501
load_from = None
