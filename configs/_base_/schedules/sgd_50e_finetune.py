# Finetuning schedule from the MMAction2 tutorial: half the epochs and half the LR of sgd_100e.
_base_ = ['./sgd_100e.py']

train_cfg = dict(max_epochs=50, val_interval=1)
param_scheduler = [
    dict(type='MultiStepLR', begin=0, end=50, by_epoch=True, milestones=[20, 40], gamma=0.1)
]
optim_wrapper = dict(optimizer=dict(lr=0.005))  # 0.01 / 2: the backbone is already trained
