# The TSN-R50 1x1x3 rawframes benchmark on full-size 1280x720 JPEG frames, as frames extracted
# from camera videos at their own resolution are (Kinetics-style): the training pipeline's
# Resize(-1, 256) shrinks them almost threefold, so mmaction_ft decodes them at half size
# (docs/benchmarks.md). The data (8 classes, 16 training and 8 val videos of 48 frames):
#   python tools/data/make_demo_dataset.py data/benchmark_720p --videos-per-class 3 \
#       --num-frames 48 --size 720 1280 --fps 30 --formats rawframes
#   python tools/analysis/benchmark.py configs/benchmarks/tsn_r50_1x1x3_rawframes_720p.py \
#       --what pipeline
_base_ = ['./tsn_r50_1x1x3_rawframes.py']

# The base's paths are f-strings of its own data_root: each loader names the new folder again.
data_root = 'data/benchmark_720p'
train_dataloader = dict(
    dataset=dict(
        ann_file=f'{data_root}/source_train_list_rawframes.txt',
        data_prefix=dict(img=f'{data_root}/rawframes'),
    )
)
val_dataloader = dict(
    dataset=dict(
        ann_file=f'{data_root}/source_val_list_rawframes.txt',
        data_prefix=dict(img=f'{data_root}/rawframes'),
    )
)
test_dataloader = dict(
    dataset=dict(
        ann_file=f'{data_root}/source_val_list_rawframes.txt',
        data_prefix=dict(img=f'{data_root}/rawframes'),
    )
)
