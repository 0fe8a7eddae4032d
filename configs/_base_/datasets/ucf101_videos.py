# UCF101 split 1 as videos (Decord), MMAction2's video lists: what every model-zoo recipe shares.
# The pipelines come from the file that inherits this one (ucf101_videos_<sampling>.py), which
# sets `pipeline` in each loader below. Prepare the data with docs/data_preparation.md
# ("Training from the videos instead").
dataset_type = 'VideoDataset'
data_root = 'data/ucf101/videos'
split = 1  # UCF101 has three official train/test splits
ann_file_train = f'data/ucf101/ucf101_train_split_{split}_videos.txt'
ann_file_val = f'data/ucf101/ucf101_val_split_{split}_videos.txt'
ann_file_test = f'data/ucf101/ucf101_val_split_{split}_videos.txt'

train_dataloader = dict(
    batch_size=8,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=True),
    dataset=dict(type=dataset_type, ann_file=ann_file_train, data_prefix=dict(video=data_root)),
)
val_dataloader = dict(
    batch_size=8,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file_val,
        data_prefix=dict(video=data_root),
        test_mode=True,
    ),
)
test_dataloader = dict(
    batch_size=1,
    num_workers=8,
    persistent_workers=True,
    sampler=dict(type='DefaultSampler', shuffle=False),
    dataset=dict(
        type=dataset_type,
        ann_file=ann_file_test,
        data_prefix=dict(video=data_root),
        test_mode=True,
    ),
)

val_evaluator = dict(type='AccMetric')
test_evaluator = val_evaluator
