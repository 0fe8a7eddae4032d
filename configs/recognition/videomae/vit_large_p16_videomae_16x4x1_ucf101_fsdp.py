# VideoMAE ViT-L/16 16x4x1 finetuned on UCF101 split 1 from MMAction2's Kinetics-400 VideoMAE
# ViT-L (85.3 top-1 with 5 clips x 3 crops): the ViT-B recipe at ViT-L size, sharded across GPUs
# with FSDP (mmengine's FlexibleRunner). 304 M parameters: with AdamW's two moments, fp32 weights
# and gradients are 16 bytes a parameter, 4.9 GB per GPU unsharded before any activation; FSDP
# splits them over the 8 GPUs. Train with
#   torchrun --nproc_per_node 8 tools/train.py CONFIG --launcher pytorch
# (docs/model_zoo.md, "Large models").
_base_ = ['./vit_base_p16_videomae_16x4x1_ucf101.py']

model = dict(
    backbone=dict(
        embed_dims=1024,
        depth=24,
        num_heads=16,
        drop_path_rate=0.2,  # deeper model, more stochastic depth (VideoMAE's ViT-L choice)
        with_cp=True,  # recompute each block's activations in the backward pass
    ),
    cls_head=dict(in_channels=1024),
)

runner_type = 'FlexibleRunner'  # tools/train.py builds mmaction_ft's ActionFlexibleRunner
strategy = dict(
    type='FSDPStrategy',
    # One full checkpoint file written by rank 0, which tools/test.py, load_from and
    # --resume read like any other; 'local' would write one shard per rank instead.
    state_dict_cfg='full',
    model_wrapper=dict(
        # Every module of >= 10 M parameters (each ViT-L block has 12.6 M) is its own FSDP
        # unit, so only one block's full weights are gathered at a time.
        auto_wrap_policy=dict(
            type='torch.distributed.fsdp.wrap.size_based_auto_wrap_policy',
            min_num_params=int(1e7),
        ),
    ),
)

optim_wrapper = dict(
    # Layer decay over 24 blocks, milder (0.8) for the deeper model as in MAE / VideoMAE ViT-L.
    paramwise_cfg=dict(decay_rate=0.8, decay_type='layer_wise', num_layers=24),
    # No clipping: mmengine 0.10.7's OptimWrapper clips with torch's clip_grad_norm_, which under
    # FSDP sees only this rank's shard, i.e. each rank would clip by a different norm.
    clip_grad=None,
)

load_from = (
    'https://download.openmmlab.com/mmaction/v1.0/recognition/videomae/'
    'vit-large-p16_videomae-k400-pre_16x4x1_kinetics-400_20221013-229dbb03.pth'
)
