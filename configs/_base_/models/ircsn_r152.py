# ir-CSN-152 (Tran et al., ICCV 2019): a 3D ResNet-152 whose 3x3x3 convs are depthwise
# ("interaction-reduced"), MMAction2 parameter layout.
model = dict(
    type='Recognizer3D',
    backbone=dict(
        type='ResNet3dCSN',
        pretrained2d=False,
        pretrained=None,
        depth=152,
        with_pool2=False,
        bottleneck_mode='ir',
        norm_eval=False,
        zero_init_residual=False,
    ),
    cls_head=dict(
        type='I3DHead',
        num_classes=400,
        in_channels=2048,
        spatial_type='avg',
        dropout_ratio=0.5,
        init_std=0.01,
        average_clips='prob',
    ),
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        format_shape='NCTHW',
    ),
    train_cfg=None,
    # 30 test views of 32 x 256 x 256 do not fit one GPU at once: 10 at a time.
    test_cfg=dict(max_testing_views=10),
)
