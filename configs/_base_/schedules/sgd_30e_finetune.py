# Short finetuning schedule for the model-zoo recipes (configs/recognition/): SGD, one warm-up
# epoch, then cosine to 0 over 30 epochs. Each recipe sets the LR (a tenth of its Kinetics-400
# recipe's, at the same batch size) and `auto_scale_lr.base_batch_size` (that batch size).
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=30, val_begin=1, val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

param_scheduler = [
    # The re-initialised classifier starts with large gradients: ramp the LR up from 1/10.
    dict(
        type='LinearLR',
        start_factor=0.1,
        by_epoch=True,
        begin=0,
        end=1,
        convert_to_iter_based=True,
    ),
    dict(type='CosineAnnealingLR', T_max=30, eta_min=0, by_epoch=True, begin=0, end=30),
]

optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.001, momentum=0.9, weight_decay=0.0001),
    clip_grad=dict(max_norm=40, norm_type=2),
)

# `--auto-scale-lr` rescales lr from this total batch size to the actual one.
auto_scale_lr = dict(enable=False, base_batch_size=64)
