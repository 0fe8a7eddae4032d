# Model-zoo demo: TSM (ResNet-18, 3 segments) finetuned on the 5 target motions of the synthetic
# demo data from an 8-class checkpoint of the same model. configs/recognition/tsm/ at toy size.
_base_ = [
    '../_base_/models/tsm_r50.py',
    '../_base_/datasets/demo_motion_videos.py',
    '../_base_/schedules/demo_finetune_10e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    # ResNet-18 (512-d features) instead of 50, random init: everything comes from load_from.
    backbone=dict(depth=18, pretrained=None, num_segments=3),  # the base pipelines' 3 segments
    cls_head=dict(num_classes=5, in_channels=512, num_segments=3),
)

# The 5 target motions instead of the base's 8 source ones.
ann_file_train = 'data/demo/target_train_list_videos.txt'
ann_file_val = 'data/demo/target_val_list_videos.txt'
label_map = 'data/demo/target_classes.txt'
# TSM tests whole clips of 3 frames: the 3 segment centres and, with `twice_sample`, the 3
# segment starts = 2 clips x 3 crops = 6 views (18 frames), instead of the base's 8 x 3 frames.
test_pipeline = [
    dict(type='DecordInit'),
    dict(
        type='SampleFrames',
        clip_len=1,
        frame_interval=1,
        num_clips=3,
        twice_sample=True,
        test_mode=True,
    ),
    dict(type='DecordDecode'),
    dict(type='ThreeCrop', crop_size=(56, 64)),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs'),
]
train_dataloader = dict(batch_size=8, dataset=dict(ann_file=ann_file_train, label_map=label_map))
val_dataloader = dict(dataset=dict(ann_file=ann_file_val, label_map=label_map))
test_dataloader = dict(
    dataset=dict(ann_file=ann_file_val, label_map=label_map, pipeline=test_pipeline)
)

# TSM's optimizer: the classifier learns 5x (weight) / 10x (bias) faster.
optim_wrapper = dict(constructor='TSMOptimWrapperConstructor', paramwise_cfg=dict(fc_lr5=True))

default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=2, max_keep_ckpts=1))
randomness = dict(seed=0)

# An 8-class "source" checkpoint of this model (docs/model_zoo.md, "Demos", shows how to train
# one on the 8 source motions; tests/tools/test_model_zoo_demo.py writes a random one).
load_from = 'work_dirs/tsm_demo_source/source_model.pth'
