# C3D (Tran et al., ICCV 2015) with MMAction2's Sports-1M weights: 8 3x3x3 convs + fc6 / fc7 in
# the backbone, so its input size is fixed: 16 x 112 x 112 clips (out_dim 8192 = 512 x 1 x 4 x 4).
model = dict(
    type='Recognizer3D',
    backbone=dict(
        type='C3D',
        # Backbone-only Sports-1M weights (there is no Kinetics-400 C3D in MMAction2's zoo).
        pretrained=(
            'https://download.openmmlab.com/mmaction/recognition/c3d/'
            'c3d_sports1m_pretrain_20201016-dcc47ddc.pth'
        ),
        style='pytorch',
        conv_cfg=dict(type='Conv3d'),
        norm_cfg=None,
        act_cfg=dict(type='ReLU'),
        dropout_ratio=0.5,
        init_std=0.005,
    ),
    cls_head=dict(
        type='I3DHead',
        num_classes=101,
        in_channels=4096,  # fc7
        spatial_type=None,  # the backbone already gives vectors
        dropout_ratio=0.5,
        init_std=0.01,
        average_clips='prob',
    ),
    # The Sports-1M model's channel means on the 0-255 scale and no std scaling, as MMAction2.
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[104, 117, 128],
        std=[1, 1, 1],
        format_shape='NCTHW',
    ),
    train_cfg=None,
    test_cfg=None,
)
