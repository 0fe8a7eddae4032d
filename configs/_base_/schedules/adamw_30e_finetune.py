# Finetuning schedule of the transformer recipes (configs/recognition/{videomae,mvit,swin,
# uniformerv2}/): AdamW, linear warm-up over 3 epochs, then cosine to 0 at epoch 30. Each recipe
# sets its family's LR, weight decay, parameter groups and clipping, and the batch they are for.
train_cfg = dict(type='EpochBasedTrainLoop', max_epochs=30, val_begin=1, val_interval=5)
val_cfg = dict(type='ValLoop')
test_cfg = dict(type='TestLoop')

param_scheduler = [
    # The re-initialised classifier and the batch statistics of AdamW's moments need a few
    # hundred steps at a small LR before the full one (3 epochs of UCF101 split 1 at batch 64:
    # 3 x 9537 / 64 = 447 iterations).
    dict(
        type='LinearLR',
        start_factor=0.01,
        by_epoch=True,
        begin=0,
        end=3,
        convert_to_iter_based=True,
    ),
    dict(
        type='CosineAnnealingLR',
        T_max=27,  # 30 - 3 warm-up epochs
        eta_min=0,
        by_epoch=True,
        begin=3,
        end=30,
        convert_to_iter_based=True,
    ),
]

optim_wrapper = dict(
    # fp32 here so the recipes also run on a CPU; on a GPU, `tools/train.py --amp` switches to
    # mmengine's AmpOptimWrapper (dynamic loss scale), as MMAction2's Swin configs train.
    type='OptimWrapper',
    optimizer=dict(type='AdamW', lr=1e-4, betas=(0.9, 0.999), weight_decay=0.05),
    clip_grad=dict(max_norm=5, norm_type=2),
)

# `--auto-scale-lr` rescales lr from this total batch size to the actual one.
auto_scale_lr = dict(enable=False, base_batch_size=64)
