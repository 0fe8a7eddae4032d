"""Every model part registered in MODELS builds and trains on a tiny clip."""

import copy

import pytest
import torch

import mmaction_ft.models  # noqa: F401  (registers every model part)
from mmaction_ft.engine.runner import classifier_prefixes
from mmaction_ft.registry import MODELS
from mmaction_ft.structures import ActionDataSample

NUM_CLASSES = 5
MEAN_STD = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375])
PRE_2D = dict(type='ActionDataPreprocessor', format_shape='NCHW', **MEAN_STD)
PRE_3D = dict(type='ActionDataPreprocessor', format_shape='NCTHW', **MEAN_STD)
# One view of a video: [C, H, W] for 2D recognizers, [C, T, H, W] for 3D ones.
VIEW_2D, VIEW_3D = (3, 32, 32), (3, 4, 32, 32)


def _head(kind, in_channels, **kwargs):
    return dict(
        type=kind, num_classes=NUM_CLASSES, in_channels=in_channels, average_clips='prob', **kwargs
    )


def _3d(backbone, head, view=VIEW_3D, num_views=2):
    cfg = dict(type='Recognizer3D', backbone=backbone, cls_head=head, data_preprocessor=PRE_3D)
    return cfg, (num_views,) + view


# name: (recognizer config, per-video input shape [num_views, C, (T,) H, W])
RECOGNIZERS = {
    'tsn_r18': (
        dict(
            type='Recognizer2D',
            backbone=dict(type='ResNet', depth=18),
            cls_head=_head('TSNHead', 512, consensus=dict(type='AvgConsensus', dim=1)),
            data_preprocessor=PRE_2D,
        ),
        (3,) + VIEW_2D,
    ),
    'tsn_torchvision_resnet18': (
        dict(
            type='Recognizer2D',
            backbone=dict(type='TorchvisionBackbone', model_name='resnet18'),
            cls_head=_head('TSNHead', 512, consensus=dict(type='AvgConsensus', dim=1)),
            data_preprocessor=PRE_2D,
        ),
        (3,) + VIEW_2D,
    ),
    'tsn_r50': (
        dict(
            type='Recognizer2D',
            backbone=dict(type='ResNet', depth=50, partial_bn=True),
            cls_head=dict(
                type='TSNHead',
                num_classes=NUM_CLASSES,
                in_channels=2048,
                loss_cls=dict(type='CrossEntropyLoss', class_weight=[1.0] * NUM_CLASSES),
                label_smooth_eps=0.1,
                average_clips='score',
            ),
            data_preprocessor=PRE_2D,
        ),
        (3,) + VIEW_2D,
    ),
    'tsn_r18_multilabel': (
        dict(
            type='Recognizer2D',
            backbone=dict(type='ResNet', depth=18, num_stages=2, out_indices=(1,), strides=(1, 2)),
            cls_head=_head(
                'TSNHead', 128, multi_class=True, loss_cls=dict(type='BCELossWithLogits')
            ),
            data_preprocessor=PRE_2D,
        ),
        (3,) + VIEW_2D,
    ),
    # MMAction2's MViT recipe: MixUp or CutMix on each training batch (soft targets).
    'tsn_r18_blending': (
        dict(
            type='Recognizer2D',
            backbone=dict(type='ResNet', depth=18, num_stages=2, out_indices=(1,), strides=(1, 2)),
            cls_head=_head('TSNHead', 128),
            data_preprocessor=dict(
                PRE_2D,
                blending=dict(
                    type='RandomBatchAugment',
                    augments=[
                        dict(type='MixupBlending', alpha=0.8, num_classes=NUM_CLASSES),
                        dict(type='CutmixBlending', alpha=1, num_classes=NUM_CLASSES),
                    ],
                ),
            ),
        ),
        (3,) + VIEW_2D,
    ),
    'tsm_r18': (
        dict(
            type='Recognizer2D',
            backbone=dict(type='ResNetTSM', depth=18, num_segments=4),
            cls_head=_head('TSMHead', 512, num_segments=4),
            data_preprocessor=PRE_2D,
        ),
        (4,) + VIEW_2D,
    ),
    'i3d_r18': _3d(dict(type='ResNet3d', depth=18, pretrained2d=False), _head('I3DHead', 512)),
    'slowonly_r18': _3d(
        dict(type='ResNet3dSlowOnly', depth=18, pretrained2d=False), _head('I3DHead', 512)
    ),
    'slowfast_r18': _3d(
        dict(
            type='ResNet3dSlowFast',
            resample_rate=4,  # tau: the slow pathway sees 8 / 4 = 2 frames
            speed_ratio=4,  # alpha: the fast one 4x more, all 8
            channel_ratio=8,
            slow_pathway=dict(
                type='resnet3d',
                depth=18,
                lateral=True,
                conv1_kernel=(1, 7, 7),
                conv1_stride_t=1,
                pool1_stride_t=1,
                inflate=(0, 0, 1, 1),
            ),
            fast_pathway=dict(
                type='resnet3d',
                depth=18,
                lateral=False,
                base_channels=8,
                conv1_kernel=(5, 7, 7),
                conv1_stride_t=1,
                pool1_stride_t=1,
            ),
        ),
        _head('SlowFastHead', 512 + 64),  # slow 512 + fast 8 * 8 channels
        view=(3, 8, 32, 32),
    ),
    'x3d_tiny': _3d(
        dict(type='X3D', gamma_w=1, gamma_b=1, gamma_d=1), _head('X3DHead', 192, mid_channels=64)
    ),
    'r2plus1d_r18': _3d(
        dict(
            type='ResNet2Plus1d',
            depth=18,
            pretrained2d=False,
            conv_cfg=dict(type='Conv2plus1d'),
            norm_cfg=dict(type='BN3d', requires_grad=True, eps=1e-3),
            conv1_kernel=(3, 7, 7),
            conv1_stride_t=1,
            pool1_stride_t=1,
            inflate=(1, 1, 1, 1),
            spatial_strides=(1, 2, 2, 2),
            temporal_strides=(1, 2, 2, 2),
            zero_init_residual=False,
        ),
        _head('I3DHead', 512),
    ),
    'ircsn_r50': _3d(
        dict(type='ResNet3dCSN', depth=50, bottleneck_mode='ir', pretrained2d=False),
        _head('I3DHead', 2048),
    ),
    # Both local MHRA on (the published configs leave them out) so the sweep trains them too.
    'uniformerv2_tiny': _3d(
        dict(
            type='UniFormerV2',
            input_resolution=32,
            patch_size=16,
            width=32,
            layers=2,
            heads=2,
            t_size=4,
            no_lmhra=False,
            double_lmhra=True,
            return_list=(0, 1),
            n_layers=2,
            n_dim=32,
            n_head=2,
            mlp_dropout=(0.5, 0.5),
            clip_pretrained=False,
        ),
        _head('UniFormerHead', 32, dropout_ratio=0.5),
    ),
    # 2 MViT blocks, the second starts scale 1 (16 -> 32 channels); sized for 4 x 32 x 32 clips.
    'mvit_tiny': _3d(
        dict(
            type='MViT',
            arch=dict(embed_dims=16, num_layers=2, num_heads=1, downscale_indices=[1]),
            spatial_size=32,
            temporal_size=4,
        ),
        _head('MViTHead', 32),
    ),
    # Windows (2, 3, 3) over 2 x 8 x 8 tokens: shifted windows and their masks are exercised.
    'swin_tiny': _3d(
        dict(
            type='SwinTransformer3D',
            arch=dict(embed_dims=8, depths=[2, 2], num_heads=[1, 2]),
            window_size=(2, 3, 3),
            out_indices=(1,),
        ),
        _head('I3DHead', 16),
    ),
    # torchvision's S3D; unpooled features (its 2x7x7 pool needs 13 x 193 x 193 clips).
    # Time / 8 and space / 32: 8 frames of 32 px leave one position.
    's3d': _3d(
        dict(type='S3D', avg_pool_kernel=None),
        _head('I3DHead', 1024),
        view=(3, 8, 32, 32),
        num_views=1,
    ),
    # C3D's fc6 fixes the clip to 16 x 112 x 112.
    'c3d': _3d(
        dict(type='C3D', dropout_ratio=0.5),
        _head('I3DHead', 4096, spatial_type=None),
        view=(3, 16, 112, 112),
        num_views=1,
    ),
    # Tiny transformers: 4 frames of 2 x 2 patches of 16 px, 32 channels, 2 layers.
    **{
        f'timesformer_{kind}': _3d(
            dict(
                type='TimeSformer',
                num_frames=4,
                img_size=32,
                patch_size=16,
                embed_dims=32,
                num_heads=2,
                num_transformer_layers=2,
                attention_type=kind,
            ),
            _head('TimeSformerHead', 32),
        )
        for kind in ('divided_space_time', 'joint_space_time', 'space_only')
    },
    'videomae_vit': _3d(
        dict(
            type='VisionTransformer',
            img_size=32,
            embed_dims=32,
            depth=2,
            num_heads=2,
            num_frames=4,
            drop_path_rate=0.1,
            with_cp=True,
        ),
        _head('TimeSformerHead', 32),
    ),
}


def _types(cfg):
    if isinstance(cfg, dict):
        found = {cfg['type']} if 'type' in cfg else set()
        for value in cfg.values():
            found |= _types(value)
        return found
    if isinstance(cfg, (list, tuple)):  # e.g. RandomBatchAugment's augments
        return set().union(*map(_types, cfg))
    return set()


# timm is an optional dependency; tests/models/backbones/test_timm_backbone.py covers the adapter.
NOT_SWEPT = {'TimmBackbone'}


def test_sweep_covers_every_registered_model():
    swept = set().union(*(_types(cfg) for cfg, _ in RECOGNIZERS.values())) | NOT_SWEPT
    assert set(MODELS.module_dict) <= swept, set(MODELS.module_dict) - swept


# Forward + backward of these takes several seconds on a shared CPU.
SLOW = {'tsn_r50', 'c3d'}


@pytest.mark.parametrize(
    'name',
    [pytest.param(n, marks=pytest.mark.slow) if n in SLOW else n for n in sorted(RECOGNIZERS)],
)
def test_recognizer_trains_and_predicts_on_a_tiny_clip(name):
    torch.manual_seed(0)
    cfg, video_shape = copy.deepcopy(RECOGNIZERS[name])
    model = MODELS.build(cfg)
    model.init_weights()
    multi_label = cfg['cls_head'].get('multi_class', False)

    def batch():
        labels = (
            [torch.tensor([1.0, 0, 0, 1, 0]), torch.tensor([0.0, 1, 0, 0, 0])]
            if multi_label
            else [2, 4]
        )
        return {
            'inputs': [torch.randint(0, 256, video_shape, dtype=torch.uint8) for _ in labels],
            'data_samples': [ActionDataSample().set_gt_label(lb) for lb in labels],
        }

    model.train()
    losses = model(**model.data_preprocessor(batch(), True), mode='loss')
    assert torch.isfinite(losses['loss_cls'])
    losses['loss_cls'].backward()
    grads = [p.grad for p in model.parameters() if p.requires_grad]
    assert all(g is not None for g in grads)
    (classifier,) = [p for p in classifier_prefixes(model) if p.endswith(('fc_cls', 'fc2'))]
    assert model.get_submodule(classifier).weight.grad.abs().sum() > 0

    model.eval()
    with torch.no_grad():
        samples = model(**model.data_preprocessor(batch()), mode='predict')
    assert [s.pred_score.shape for s in samples] == [(NUM_CLASSES,)] * 2
    if cfg['cls_head']['average_clips'] == 'prob':
        assert torch.allclose(torch.stack([s.pred_score.sum() for s in samples]), torch.ones(2))
