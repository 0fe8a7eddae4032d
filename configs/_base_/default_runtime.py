# Runtime shared by every recipe: registry scope, hooks, logging, checkpoint loading.
default_scope = 'mmaction_ft'

default_hooks = dict(
    runtime_info=dict(type='RuntimeInfoHook'),
    timer=dict(type='IterTimerHook'),
    logger=dict(type='LoggerHook', interval=20, ignore_last=False),
    param_scheduler=dict(type='ParamSchedulerHook'),
    # Keeps the newest checkpoints and the best one by top-1 (best_acc_top1_epoch_N.pth).
    checkpoint=dict(
        type='CheckpointHook', interval=1, save_best='acc/top1', rule='greater', max_keep_ckpts=3
    ),
    sampler_seed=dict(type='DistSamplerSeedHook'),
    sync_buffers=dict(type='SyncBuffersHook'),
)

env_cfg = dict(
    cudnn_benchmark=False,
    mp_cfg=dict(mp_start_method='fork', opencv_num_threads=0),
    # tools/train.py switches to 'gloo' when no GPU is present.
    dist_cfg=dict(backend='nccl'),
)

# Mixed precision where it is measured to pay and keep accuracy (docs/benchmarks.md): 'auto'
# trains and validates in bfloat16 autocast on a CPU that computes bfloat16 natively (AVX-512
# BF16 / AMX; about twice as fast as float32 where measured), in float32 on other CPUs and on
# GPUs (the log says which and why); 'amp' always mixed (float16 on a GPU, as
# `tools/train.py --amp`); 'fp32' never, the same arithmetic on every machine.
# tools/test.py tests in float32 unless --amp, so scores equal MMAction2's.
precision = 'auto'

log_processor = dict(type='LogProcessor', window_size=20, by_epoch=True)
vis_backends = [dict(type='LocalVisBackend')]
visualizer = dict(type='Visualizer', vis_backends=vis_backends)
log_level = 'INFO'

# Three keys, three intents:
# - `load_from`: weights of a whole recognizer (e.g. a Kinetics-400 model-zoo checkpoint) to start a
#   NEW schedule from. Every tensor must fit, except the classifier when `num_classes` changed:
#   it is re-initialised and the log says so. Optimizer, epoch and LR schedule start fresh.
# - `resume = True`: continue an interrupted run exactly (weights, optimizer, LR schedule, epoch):
#   from `load_from` when set, else from the latest checkpoint in the work dir.
# - `model.backbone.pretrained`: backbone-only weights (e.g. 'torchvision://resnet50'), applied
#   when the model is initialised; overridden by `load_from`.
load_from = None
resume = False
# How checkpoints are read. `weights_only=False` unpickles arbitrary objects: only for files you
# trust. `allow_partial=True` lets `load_from` skip tensors that do not fit (each one is logged).
load_cfg = dict(weights_only=True, allow_partial=False)
# What trains when finetuning (docs/finetuning.md, section 8); unset, everything trains:
# finetune = dict(preset='linear_probe')  # backbone frozen, its norm layers in eval mode
# finetune = dict(preset='partial', frozen_stages=2, head_lr_mult=10.0)  # + head LR x10
