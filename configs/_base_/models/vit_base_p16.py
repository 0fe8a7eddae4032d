# ViT-B/16 of VideoMAE (Tong et al., NeurIPS 2022) for finetuning: 2 x 16 x 16 tubelets of a
# 16-frame clip, fixed sinusoidal position table, mean-pooled tokens. MMAction2 parameter layout.
model = dict(
    type='Recognizer3D',
    backbone=dict(
        type='VisionTransformer',
        img_size=224,
        patch_size=16,
        embed_dims=768,
        depth=12,
        num_heads=12,
        mlp_ratio=4,
        qkv_bias=True,
        num_frames=16,
        norm_cfg=dict(type='LN', eps=1e-6),
    ),
    cls_head=dict(type='TimeSformerHead', num_classes=400, in_channels=768, average_clips='prob'),
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        format_shape='NCTHW',
    ),
)
