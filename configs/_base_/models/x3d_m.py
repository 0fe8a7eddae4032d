# X3D-M (Feichtenhofer, CVPR 2020): X2D expanded in width (gamma_w), bottleneck width
# (gamma_b) and depth (gamma_d); X3D-S is the same network fed 13 x 160 x 160 clips instead of
# 16 x 224 x 224. MMAction2 parameter layout (weights converted from PySlowFast).
model = dict(
    type='Recognizer3D',
    backbone=dict(type='X3D', gamma_w=1, gamma_b=2.25, gamma_d=2.2),
    cls_head=dict(
        type='X3DHead',
        in_channels=432,  # 192 stage-4 channels * gamma_b 2.25
        num_classes=400,
        spatial_type='avg',
        dropout_ratio=0.5,
        fc1_bias=False,
        average_clips='prob',
    ),
    # PySlowFast's X3D normalisation: 0.45 / 0.225 on the 0-1 scale (x 255).
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[114.75, 114.75, 114.75],
        std=[57.38, 57.38, 57.38],
        format_shape='NCTHW',
    ),
    train_cfg=None,
    test_cfg=None,
)
