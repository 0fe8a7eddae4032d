# Model-zoo demo: C3D finetuned on the 5 target motions of the synthetic demo data from an
# 8-class checkpoint of the same model. C3D has no width or depth to shrink and its fc6 is sized
# for one clip size, so the demo keeps the full network on 16 x 56 x 56 clips (fc6 takes
# out_dim = 512 x 1 x 2 x 2 = 2048, see below): the slowest of the demos.
_base_ = [
    '../_base_/models/c3d.py',
    '../_base_/datasets/demo_motion_videos_3d.py',
    '../_base_/schedules/demo_finetune_10e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    # pool5 of a 16 x 56 x 56 clip: 16 / 16 = 1 frame, 56 / 16 = 3.5 -> 3, padded pool -> 2.
    backbone=dict(pretrained=None, out_dim=2048),
    cls_head=dict(num_classes=5),
)

# C3D needs 16 frames a clip (its 4 temporal poolings halve 16 down to 1): 16 consecutive
# frames instead of the base's 8 x 2. Every view must be 56 x 56 for fc6, so the test takes
# 2 clips x 1 centre crop = 2 views (C3D's own protocol is centre crops too: 10 x 1).
train_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=16, frame_interval=1, num_clips=1),
    dict(type='DecordDecode'),
    dict(type='MultiScaleCrop', input_size=56, scales=(1, 0.875)),
    dict(type='Resize', scale=(56, 56), keep_ratio=False),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
val_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=16, frame_interval=1, num_clips=1, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='CenterCrop', crop_size=56),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
test_pipeline = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=16, frame_interval=1, num_clips=2, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='CenterCrop', crop_size=56),
    dict(type='FormatShape', input_format='NCTHW'),
    dict(type='PackActionInputs'),
]
train_dataloader = dict(dataset=dict(pipeline=train_pipeline))
val_dataloader = dict(dataset=dict(pipeline=val_pipeline))
test_dataloader = dict(dataset=dict(pipeline=test_pipeline))

optim_wrapper = dict(optimizer=dict(lr=0.001, weight_decay=0.0005))  # C3D's UCF101 optimizer

default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=2, max_keep_ckpts=1))
randomness = dict(seed=0)

# An 8-class "source" checkpoint of this model (docs/model_zoo.md, "Demos", shows how to train
# one on the 8 source motions; tests/tools/test_model_zoo_demo.py writes a random one).
load_from = 'work_dirs/c3d_demo_source/source_model.pth'
