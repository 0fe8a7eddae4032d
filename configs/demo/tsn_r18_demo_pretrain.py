# Demo, step 1: train a small TSN from scratch on the 8 "source" motions; its checkpoint plays the
# role of a Kinetics-400 model-zoo file for step 2 (tsn_r18_demo_finetune.py).
_base_ = [
    '../_base_/models/tsn_r18.py',
    '../_base_/datasets/demo_motion_videos.py',
    '../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(pretrained=None),  # no download: random init
    cls_head=dict(num_classes=8, dropout_ratio=0.2),
)

train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=8, val_begin=1, val_interval=2)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0001),
    clip_grad=dict(max_norm=40, norm_type=2),
)
param_scheduler = [dict(type='CosineAnnealingLR', T_max=8, eta_min=0, by_epoch=True)]

default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=2, max_keep_ckpts=1))
randomness = dict(seed=0)
