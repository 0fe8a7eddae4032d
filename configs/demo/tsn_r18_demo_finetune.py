# Demo, step 2: finetune the source model on 5 new motions (rotate either way, grow, shrink,
# zig-zag) with few videos per class. The 8-class classifier is swapped for a 5-class one.
_base_ = ['./tsn_r18_demo_pretrain.py']

model = dict(cls_head=dict(num_classes=5))  # the target classes

ann_file_train = 'data/demo/target_train_list_videos.txt'
ann_file_val = 'data/demo/target_val_list_videos.txt'
label_map = 'data/demo/target_classes.txt'
train_dataloader = dict(dataset=dict(ann_file=ann_file_train, label_map=label_map))
val_dataloader = dict(dataset=dict(ann_file=ann_file_val, label_map=label_map))
test_dataloader = dict(dataset=dict(ann_file=ann_file_val, label_map=label_map))

# Finetuning: the pretraining LR, decayed to 0 over 15 short epochs (5 iterations each).
train_cfg = dict(max_epochs=15, val_interval=1)
param_scheduler = [dict(type='CosineAnnealingLR', T_max=15, eta_min=0, by_epoch=True)]
default_hooks = dict(checkpoint=dict(interval=1))

# Written by step 1 (tools/demo_finetune.py runs it first when missing).
load_from = 'work_dirs/tsn_r18_demo_pretrain/demo_source_model.pth'
