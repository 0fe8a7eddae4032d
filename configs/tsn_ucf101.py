# TSN-R50 1x1x3 finetuned on UCF101 split 1 from the Kinetics-400 TSN model (MMAction2 tutorial).
_base_ = [
    '_base_/models/tsn_r50.py',
    '_base_/datasets/ucf101_rawframes_tsn.py',
    '_base_/schedules/sgd_50e_finetune.py',
    '_base_/default_runtime.py',
]

model = dict(
    # load_from replaces every backbone tensor, so the ImageNet weights need not be fetched first.
    backbone=dict(pretrained=None),
    cls_head=dict(num_classes=101),  # UCF101 classes; the 400-class classifier is re-initialised
)

# Tutorial schedule: SGD lr 0.005 (sgd_50e_finetune), clip 40, LR / 10 at 20 and 40, 50 epochs.
train_cfg = dict(max_epochs=50, val_interval=5)
default_hooks = dict(checkpoint=dict(interval=5))

load_from = (
    'https://open-mmlab.s3.ap-northeast-2.amazonaws.com/mmaction/mmaction-v1/recognition/'
    'tsn_r50_1x1x3_100e_kinetics400_rgb/tsn_r50_1x1x3_100e_kinetics400_rgb_20200614-e508be42.pth'
)
