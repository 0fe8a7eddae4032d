# Model-zoo demo: SlowFast (ResNet-18 pathways) finetuned on the 5 target motions of the
# synthetic demo data from an 8-class checkpoint of the same model.
# configs/recognition/slowfast/ at toy size.
_base_ = [
    '../_base_/models/slowfast_r50.py',
    '../_base_/datasets/demo_motion_videos_3d.py',
    '../_base_/schedules/demo_finetune_10e.py',
    '../_base_/default_runtime.py',
]

model = dict(
    backbone=dict(
        # 8-frame clips: the slow pathway sees 8 / 4 = 2 frames, the fast one all 8.
        resample_rate=4,
        speed_ratio=4,
        slow_pathway=dict(depth=18, base_channels=32),  # laterals follow speed_ratio
        fast_pathway=dict(depth=18, base_channels=4),  # 32 / channel_ratio 8
    ),
    cls_head=dict(num_classes=5, in_channels=288),  # slow 32 x 8 = 256 + fast 4 x 8 = 32
)

default_hooks = dict(logger=dict(interval=10), checkpoint=dict(interval=2, max_keep_ckpts=1))
randomness = dict(seed=0)

# An 8-class "source" checkpoint of this model (docs/model_zoo.md, "Demos", shows how to train
# one on the 8 source motions; tests/tools/test_model_zoo_demo.py writes a random one).
load_from = 'work_dirs/slowfast_demo_source/source_model.pth'
