# TimeSformer-B with divided space-time attention (Bertasius et al., ICML 2021): an ImageNet-21k
# ViT-B/16 whose every layer attends over time, then over space. MMAction2 parameter layout.
model = dict(
    type='Recognizer3D',
    backbone=dict(
        type='TimeSformer',
        # The image ViT the Kinetics-400 model started from (2D weights, time embedding added).
        pretrained=(
            'https://download.openmmlab.com/mmaction/recognition/timesformer/vit_base_patch16_224.pth'
        ),
        num_frames=8,
        img_size=224,
        patch_size=16,
        embed_dims=768,
        in_channels=3,
        dropout_ratio=0.0,
        transformer_layers=None,
        attention_type='divided_space_time',
        norm_cfg=dict(type='LN', eps=1e-6),
    ),
    cls_head=dict(type='TimeSformerHead', num_classes=400, in_channels=768, average_clips='prob'),
    # The ViT's own normalisation: [0, 255] -> [-1, 1].
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[127.5, 127.5, 127.5],
        std=[127.5, 127.5, 127.5],
        format_shape='NCTHW',
    ),
)
