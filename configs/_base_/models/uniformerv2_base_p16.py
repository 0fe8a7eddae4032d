# UniFormerV2-B/16 (Li et al., ICCV 2023): a CLIP ViT-B/16 with local temporal (LMHRA) blocks and
# a 4-layer global decoder over blocks 8-11, 8 frames. MMAction2 parameter layout.
num_frames = 8
model = dict(
    type='Recognizer3D',
    backbone=dict(
        type='UniFormerV2',
        input_resolution=224,
        patch_size=16,
        width=768,
        layers=12,
        heads=12,
        t_size=num_frames,
        dw_reduction=1.5,
        backbone_drop_path_rate=0.0,
        temporal_downsample=False,
        no_lmhra=True,
        double_lmhra=True,
        return_list=[8, 9, 10, 11],
        n_layers=4,
        n_dim=768,
        n_head=12,
        mlp_factor=4.0,
        drop_path_rate=0.0,
        mlp_dropout=[0.5, 0.5, 0.5, 0.5],
        clip_pretrained=False,
    ),
    cls_head=dict(
        type='UniFormerHead',
        dropout_ratio=0.5,
        num_classes=400,
        in_channels=768,
        average_clips='prob',
    ),
    # CLIP's normalisation, as MMAction2's UniFormerV2 configs approximate it.
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[114.75, 114.75, 114.75],
        std=[57.375, 57.375, 57.375],
        format_shape='NCTHW',
    ),
)
