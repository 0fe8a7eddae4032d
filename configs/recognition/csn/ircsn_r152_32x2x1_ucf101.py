# ir-CSN-152 32x2x1 finetuned on UCF101 split 1 from MMAction2's Kinetics-400 ir-CSN-152
# (IG-65M-pretrained, 58 epochs, 82.87 top-1 on Kinetics-400 with 10 clips x 3 crops).
_base_ = [
    '../../_base_/models/ircsn_r152.py',
    '../../_base_/datasets/ucf101_videos_32x2x1.py',
    '../../_base_/schedules/sgd_30e_finetune.py',
    '../../_base_/default_runtime.py',
]

model = dict(
    # As the Kinetics-400 model was trained: BN statistics and affine parameters stay those of
    # the IG-65M model (its config inherits MMAction2's "bnfrozen" recipe).
    backbone=dict(norm_eval=True, bn_frozen=True),
    cls_head=dict(num_classes=101),  # UCF101; the 400-class fc_cls is re-initialised
)

# The Kinetics-400 recipe is itself a finetuning one (from IG-65M): its lr, 5e-4 for 8 GPUs x
# 12 clips, is kept rather than divided again.
train_dataloader = dict(batch_size=12)
optim_wrapper = dict(optimizer=dict(lr=0.0005))
auto_scale_lr = dict(base_batch_size=96)  # 8 x 12

default_hooks = dict(checkpoint=dict(interval=5, max_keep_ckpts=3))

load_from = (
    'https://download.openmmlab.com/mmaction/v1.0/recognition/csn/'
    'ircsn_ig65m-pretrained-r152_8xb12-32x2x1-58e_kinetics400-rgb/'
    'ircsn_ig65m-pretrained-r152_8xb12-32x2x1-58e_kinetics400-rgb_20220811-c7a3cc5b.pth'
)
