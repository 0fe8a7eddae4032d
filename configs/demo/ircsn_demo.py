# Model-zoo demo: ir-CSN (ResNet-50 layout, 16 base channels) finetuned on the 5 target motions of
# the synthetic demo data from an 8-class checkpoint of the same model.
# configs/recognition/csn/ at toy size.
_base_ = [
    '../_base_/models/ircsn_r152.py',
    '../_base_/datasets/demo_motion_videos_3d.py',
    '../_base_/schedules/demo_finetune_10e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(
        depth=50,  # CSN's smallest; 152 in the model zoo
        base_channels=16,  # quarter width: stage 4 gives 16 x 8 x 4 (bottleneck) = 512 channels
    ),
    cls_head=dict(num_classes=5, in_channels=512),
    test_cfg=None,  # 6 small views fit at once
)

default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=2, max_keep_ckpts=1))
randomness = dict(seed=0)

# An 8-class "source" checkpoint of this model (docs/model_zoo.md, "Demos", shows how to train
# one on the 8 source motions; tests/tools/test_model_zoo_demo.py writes a random one).
load_from = 'work_dirs/ircsn_demo_source/source_model.pth'
