# X3D-M 16x5x1 finetuned on UCF101 split 1 from the Kinetics-400 X3D-M in MMAction2's zoo
# (PySlowFast's weights converted, 76.4 top-1 on Kinetics-400 with 10 clips x 3 crops).
_base_ = [
    '../../_base_/models/x3d_m.py',
    '../../_base_/datasets/ucf101_videos_x3d_16x5x1.py',
    '../../_base_/schedules/sgd_30e_finetune.py',
    '../../_base_/default_runtime.py',
]

# UCF101; the 400-class fc2 is re-initialised, fc1 (432 -> 2048) keeps its Kinetics weights.
model = dict(cls_head=dict(num_classes=101))

# MMAction2 has no X3D training recipe (the weights are PySlowFast's): the SlowFast finetuning
# LR (0.01 for 8 x 8 clips) and X3D's weight decay 5e-5 (PySlowFast's Kinetics/X3D_M.yaml).
optim_wrapper = dict(optimizer=dict(lr=0.01, weight_decay=5e-5))
auto_scale_lr = dict(base_batch_size=64)  # 8 x 8

default_hooks = dict(checkpoint=dict(interval=5, max_keep_ckpts=3))

load_from = (
    'https://download.openmmlab.com/mmaction/v1.0/recognition/x3d/facebook/'
    'x3d_m_16x5x1_facebook-kinetics400-rgb_20201027-3f42382a.pth'
)
