# Model-zoo demo: a shallow X3D (X3D-S widths, depth factor 1 instead of 2.2) finetuned on the 5
# target motions of the synthetic demo data from an 8-class checkpoint of the same model.
# configs/recognition/x3d/ at toy size.
_base_ = [
    '../_base_/models/x3d_m.py',
    '../_base_/datasets/demo_motion_videos_3d.py',
    '../_base_/schedules/demo_finetune_10e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(gamma_d=1),  # 1, 2, 5, 3 blocks per stage instead of 3, 5, 11, 7
    cls_head=dict(num_classes=5),  # fc2 is the classifier; fc1 (432 -> 2048) is kept
)

default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=2, max_keep_ckpts=1))
randomness = dict(seed=0)

# An 8-class "source" checkpoint of this model (docs/model_zoo.md, "Demos", shows how to train
# one on the 8 source motions; tests/tools/test_model_zoo_demo.py writes a random one).
load_from = 'work_dirs/x3d_demo_source/source_model.pth'
