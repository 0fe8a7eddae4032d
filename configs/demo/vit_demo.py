# Model-zoo demo: a VideoMAE-style ViT (4 blocks of 96 channels, 8 x 8 patches, 2-frame
# tubelets) finetuned on the 5 target motions of the synthetic demo data from an 8-class
# checkpoint of the same model, with the transformer recipe of configs/recognition/videomae/ at
# toy size: AdamW, layer-wise LR decay, warm-up + cosine, drop path, label smoothing, mixup /
# cutmix, gradient clipping. A few minutes on 2 CPU cores.
_base_ = [
    '../_base_/models/vit_base_p16.py',
    '../_base_/datasets/demo_motion_videos_3d.py',
    '../_base_/schedules/demo_finetune_10e.py',
    '../_base_/default_runtime.py',
]

num_classes = 5
model = dict(
    backbone=dict(
        img_size=56,  # the demo's crop: 7 x 7 patches of 8 x 8
        patch_size=8,
        embed_dims=96,
        depth=4,
        num_heads=4,  # 24 channels a head
        num_frames=8,  # the demo's clips: 4 tubelets of 2 frames, 4 x 7 x 7 = 196 tokens
        drop_path_rate=0.1,
    ),
    cls_head=dict(num_classes=num_classes, in_channels=96, label_smooth_eps=0.1),
    data_preprocessor=dict(
        # Milder than VideoMAE's 0.8 / 1.0: 80 videos leave little room for soft targets.
        blending=dict(
            type='RandomBatchAugment',
            augments=[
                dict(type='MixupBlending', alpha=0.2, num_classes=num_classes),
                dict(type='CutmixBlending', alpha=0.2, num_classes=num_classes),
            ],
        ),
    ),
)

# One warm-up epoch (10 iterations), then cosine to 0 at epoch 10.
param_scheduler = [
    dict(
        type='LinearLR',
        start_factor=0.1,
        by_epoch=True,
        begin=0,
        end=1,
        convert_to_iter_based=True,
    ),
    dict(type='CosineAnnealingLR', T_max=9, eta_min=0, by_epoch=True, begin=1, end=10),
]
optim_wrapper = dict(
    type='OptimWrapper',  # fp32 on the CPU; `tools/train.py --amp` on a GPU
    optimizer=dict(_delete_=True, type='AdamW', lr=1e-3, betas=(0.9, 0.999), weight_decay=0.05),
    # Block i at 0.75 ** (4 - i) of the LR, the patch embedding at 0.75 ** 5 = 0.24.
    constructor='LearningRateDecayOptimizerConstructor',
    paramwise_cfg=dict(decay_rate=0.75, decay_type='layer_wise', num_layers=4),
    clip_grad=dict(max_norm=5, norm_type=2),
)

default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=2, max_keep_ckpts=1))
randomness = dict(seed=0)

# An 8-class "source" checkpoint of this model (docs/model_zoo.md, "Demos", shows how to train
# one on the 8 source motions; tests/tools/test_model_zoo_demo.py writes a random one).
load_from = 'work_dirs/vit_demo_source/source_model.pth'
