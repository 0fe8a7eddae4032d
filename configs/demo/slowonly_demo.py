# Model-zoo demo: SlowOnly (3D ResNet-18, 32 base channels) finetuned on the 5 target motions of
# the synthetic demo data from an 8-class checkpoint of the same model.
# configs/recognition/slowonly/ at toy size.
_base_ = [
    '../_base_/models/slowonly_r50.py',
    '../_base_/datasets/demo_motion_videos_3d.py',
    '../_base_/schedules/demo_finetune_10e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(
        depth=18,
        base_channels=32,  # half width: stage 4 gives 32 x 8 = 256 channels
        pretrained=None,  # random init: everything comes from load_from
    ),
    cls_head=dict(num_classes=5, in_channels=256),
)

default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=2, max_keep_ckpts=1))
randomness = dict(seed=0)

# An 8-class "source" checkpoint of this model (docs/model_zoo.md, "Demos", shows how to train
# one on the 8 source motions; tests/tools/test_model_zoo_demo.py writes a random one).
load_from = 'work_dirs/slowonly_demo_source/source_model.pth'
