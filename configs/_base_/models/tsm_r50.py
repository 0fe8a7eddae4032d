# TSM-R50 (Lin et al., ICCV 2019): a 2D ResNet-50 whose residual branches shift 1/8 of the
# channels one frame forward and 1/8 back in time, MMAction2 parameter layout.
model = dict(
    type='Recognizer2D',
    backbone=dict(
        type='ResNetTSM',
        pretrained='torchvision://resnet50',
        depth=50,
        norm_eval=False,
        shift_div=8,  # 1/8 of the channels each way (paper, sec. 3.2)
    ),
    cls_head=dict(
        type='TSMHead',
        num_classes=400,
        in_channels=2048,
        spatial_type='avg',
        consensus=dict(type='AvgConsensus', dim=1),
        dropout_ratio=0.5,
        init_std=0.001,
        is_shift=True,
        average_clips='prob',
    ),
    # ImageNet RGB mean / std on the 0-255 scale.
    data_preprocessor=dict(
        type='ActionDataPreprocessor',
        mean=[123.675, 116.28, 103.53],
        std=[58.395, 57.12, 57.375],
        format_shape='NCHW',
    ),
    train_cfg=None,
    test_cfg=None,
)
