# TSN-R50 1x1x3 on 320x240 JPEG frames: the speed comparison of docs/benchmarks.md, MMAction2's
# TSN Kinetics-400 pipelines (the UCF101 recipe's), batch 8 = 24 frames, 250-view test. Written
# in MMAction2 1.x style so that MMAction2 1.2.0 runs the very same file. The data:
#   python tools/data/make_demo_dataset.py data/benchmark --videos-per-class 3 \
#       --num-frames 96 --size 240 320 --fps 30
# (8 classes, 16 training and 8 val videos of 96 frames). Then:
#   python tools/analysis/benchmark.py configs/benchmarks/tsn_r50_1x1x3_rawframes.py
# It also trains (tools/train.py) with the tutorial's finetuning schedule.
_base_ = [
    '../_base_/models/tsn_r50.py',
    '../_base_/datasets/ucf101_rawframes_tsn.py',
    '../_base_/schedules/sgd_50e_finetune.py',
    '../_base_/default_runtime.py',
]

# TSN-R50 as MMAction2 builds it, from random weights (pretraining does not change speed).
model = dict(backbone=dict(pretrained=None), cls_head=dict(num_classes=8))

data_root = 'data/benchmark'
train_dataloader = dict(
    batch_size=8,
    num_workers=2,
    dataset=dict(
        ann_file=f'{data_root}/source_train_list_rawframes.txt',
        data_prefix=dict(img=f'{data_root}/rawframes'),
    ),
)
val_dataloader = dict(
    batch_size=8,
    num_workers=2,
    dataset=dict(
        ann_file=f'{data_root}/source_val_list_rawframes.txt',
        data_prefix=dict(img=f'{data_root}/rawframes'),
    ),
)
test_dataloader = dict(
    batch_size=1,
    num_workers=2,
    dataset=dict(
        ann_file=f'{data_root}/source_val_list_rawframes.txt',
        data_prefix=dict(img=f'{data_root}/rawframes'),
    ),
)

# The benchmark uses the schedule's SGD (lr 0.005, momentum 0.9, weight decay 1e-4, gradient
# clipping at 40) as given here, for both MMAction2 and mmaction_ft.
optim_wrapper = dict(
    optimizer=dict(type='SGD', lr=0.005, momentum=0.9, weight_decay=0.0001),
    clip_grad=dict(max_norm=40, norm_type=2),
)
randomness = dict(seed=0)
