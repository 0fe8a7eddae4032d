# UniFormerV2-L/14 u8 finetuned on UCF101 split 1 from MMAction2's Kinetics-400 UniFormerV2-L
# (CLIP, then Kinetics-710, then Kinetics-400: 88.7 top-1 with 4 clips x 3 crops): the
# UniFormerV2-B recipe at L/14 size, sharded across GPUs with FSDP (mmengine's FlexibleRunner).
# Train with
#   torchrun --nproc_per_node 8 tools/train.py CONFIG --launcher pytorch
# (docs/model_zoo.md, "Large models").
_base_ = ['./uniformerv2_base_p16_u8_ucf101.py']

model = dict(
    # MMAction2's UniFormerV2-L/14 Kinetics-400 model dict.
    backbone=dict(
        patch_size=14,
        width=1024,
        layers=24,
        heads=16,
        return_list=[20, 21, 22, 23],
        n_dim=1024,
        n_head=16,
    ),
    # MMAction2's UniFormerV2-L Kinetics-400 checkpoint has a TimeSformerHead (same fc_cls).
    cls_head=dict(
        _delete_=True,
        type='TimeSformerHead',
        dropout_ratio=0.5,
        num_classes=101,
        in_channels=1024,
        average_clips='prob',
        label_smooth_eps=0.1,
    ),
)

runner_type = 'FlexibleRunner'  # tools/train.py builds mmaction_ft's ActionFlexibleRunner
strategy = dict(
    type='FSDPStrategy',
    # One full checkpoint file written by rank 0, which tools/test.py, load_from and
    # --resume read like any other; 'local' would write one shard per rank instead.
    state_dict_cfg='full',
    model_wrapper=dict(
        # Every module of >= 10 M parameters (each CLIP-L block has 12.6 M) is its own FSDP unit.
        auto_wrap_policy=dict(
            type='torch.distributed.fsdp.wrap.size_based_auto_wrap_policy',
            min_num_params=int(1e7),
        ),
    ),
)

optim_wrapper = dict(
    # No clipping: mmengine 0.10.7's OptimWrapper clips with torch's clip_grad_norm_, which under
    # FSDP sees only this rank's shard, i.e. each rank would clip by a different norm.
    clip_grad=None,
)

load_from = (
    'https://download.openmmlab.com/mmaction/v1.0/recognition/uniformerv2/kinetics400/'
    'uniformerv2-large-p14-res224_clip-kinetics710-pre_u8_kinetics400-rgb_20221219-972ea063.pth'
)
