# SlowOnly-R50 8x8x1 on 320x240 mp4 videos: the dense 3D clip sampling of the speed comparison
# (docs/benchmarks.md), MMAction2's Kinetics-400 pipelines (the UCF101 recipe's). Data as in
# tsn_r50_1x1x3_rawframes.py.
_base_ = [
    '../_base_/models/slowonly_r50.py',
    '../_base_/datasets/ucf101_videos_8x8x1.py',
    '../_base_/schedules/sgd_50e_finetune.py',
    '../_base_/default_runtime.py',
]

model = dict(backbone=dict(pretrained=None), cls_head=dict(num_classes=8))

data_root = 'data/benchmark'
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    dataset=dict(
        ann_file=f'{data_root}/source_train_list_videos.txt',
        data_prefix=dict(video=f'{data_root}/videos'),
    ),
)
val_dataloader = dict(
    batch_size=8,
    num_workers=2,
    dataset=dict(
        ann_file=f'{data_root}/source_val_list_videos.txt',
        data_prefix=dict(video=f'{data_root}/videos'),
    ),
)
test_dataloader = dict(
    num_workers=2,
    dataset=dict(
        ann_file=f'{data_root}/source_val_list_videos.txt',
        data_prefix=dict(video=f'{data_root}/videos'),
    ),
)

optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.005, momentum=0.9, weight_decay=0.0001),
    clip_grad=dict(max_norm=40, norm_type=2),
)
randomness = dict(seed=0)
