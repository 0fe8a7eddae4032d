# Schedule of the model-zoo demos (configs/demo/<family>_demo.py): 80 target videos / batch 8 =
# 10 iterations an epoch, 10 epochs, cosine to 0; a few minutes on 2 CPU cores.
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=10, val_begin=1, val_interval=2)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

param_scheduler = [dict(type='CosineAnnealingLR', T_max=10, eta_min=0, by_epoch=True)]

optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=0.0001),
    clip_grad=dict(max_norm=40, norm_type=2),
)
