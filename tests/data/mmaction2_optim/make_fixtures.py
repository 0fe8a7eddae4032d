"""Write the parameter groups MMAction2 1.2.0's optimizer wrapper constructors give, which
``tests/engine/test_layer_decay_optim_wrapper_constructor.py`` and
``tests/engine/test_swin_optim_wrapper_constructor.py`` compare against. Run with the real
MMAction2::

    TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 /tmp/venv_peer/bin/python \\
        tests/data/mmaction2_optim/make_fixtures.py

For each case it builds the tiny recognizer of ``CASES`` with MMAction2, builds the case's
``optim_wrapper`` and writes ``groups.json``: per case the model and optim_wrapper dicts and,
per parameter group in order, its ``lr``, ``weight_decay`` (absent: the optimizer default) and
the names of its parameters.
"""

import json
import os.path as osp
import sys
import types

HERE = osp.dirname(osp.abspath(__file__))

PRE_3D = dict(type='ActionDataPreprocessor', format_shape='NCTHW')
ADAMW = dict(type='AdamW', lr=1e-3, betas=(0.9, 0.999), weight_decay=0.05)

CASES = {
    # VideoMAE finetuning: layer-wise decay over a 2-block ViT (learned position embedding, so
    # it is a parameter of layer 0).
    'vit_layer_decay': (
        dict(
            type='Recognizer3D',
            backbone=dict(
                type='VisionTransformer',
                img_size=32,
                patch_size=16,
                embed_dims=32,
                depth=2,
                num_heads=2,
                num_frames=4,
                use_learnable_pos_emb=True,
            ),
            cls_head=dict(type='TimeSformerHead', num_classes=5, in_channels=32),
            data_preprocessor=PRE_3D,
        ),
        dict(
            optimizer=ADAMW,
            constructor='LearningRateDecayOptimizerConstructor',
            paramwise_cfg=dict(decay_rate=0.75, decay_type='layer_wise', num_layers=2),
        ),
    ),
    # MaskFeat MViT finetuning (mvit-small-p244_k400-maskfeat-pre...): 3 blocks, one pooling
    # stage, absolute and relative position embeddings, the class token.
    'mvit_layer_decay': (
        dict(
            type='Recognizer3D',
            backbone=dict(
                type='MViT',
                arch=dict(
                    embed_dims=16,
                    num_layers=3,
                    num_heads=1,
                    downscale_indices=[1],
                    dim_mul_indices=[1],
                ),
                spatial_size=32,
                temporal_size=4,
                use_abs_pos_embed=True,
            ),
            cls_head=dict(type='MViTHead', num_classes=5, in_channels=32),
            data_preprocessor=PRE_3D,
        ),
        dict(
            optimizer=ADAMW,
            constructor='LearningRateDecayOptimizerConstructor',
            paramwise_cfg=dict(decay_rate=0.75, decay_type='layer_wise', num_layers=3),
        ),
    ),
    # The Video Swin recipe (swin-*_8xb8-amp-32x2x1-30e_kinetics400-rgb.py), with the patch
    # embedding frozen (frozen_stages=0) so frozen parameters are covered too.
    'swin': (
        dict(
            type='Recognizer3D',
            backbone=dict(
                type='SwinTransformer3D',
                arch=dict(embed_dims=16, depths=[1, 1], num_heads=[1, 2]),
                pretrained2d=False,
                window_size=(2, 2, 2),
                frozen_stages=0,
                out_indices=(1,),
            ),
            cls_head=dict(type='I3DHead', num_classes=5, in_channels=32),
            data_preprocessor=PRE_3D,
        ),
        dict(
            optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.999), weight_decay=0.02),
            constructor='SwinOptimWrapperConstructor',
            paramwise_cfg=dict(
                absolute_pos_embed=dict(decay_mult=0.0),
                relative_position_bias_table=dict(decay_mult=0.0),
                norm=dict(decay_mult=0.0),
                backbone=dict(lr_mult=0.1),
            ),
        ),
    ),
}


def param_groups(optim_wrapper, model) -> list:
    """``[{'lr', 'weight_decay', 'params': [names]}]`` of the optimizer, in order."""
    names = {id(p): n for n, p in model.named_parameters()}
    groups = []
    for group in optim_wrapper.optimizer.param_groups:
        record = dict(lr=group['lr'], params=[names[id(p)] for p in group['params']])
        record['weight_decay'] = group['weight_decay']
        groups.append(record)
    return groups


def main() -> None:
    for name in ('mmaction.models.localizers.drn', 'mmaction.models.localizers.drn.drn'):
        sys.modules[name] = types.SimpleNamespace(DRN=None)
    import copy

    from mmaction.registry import MODELS
    from mmaction.utils import register_all_modules
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import DefaultScope

    register_all_modules()
    out = {}
    with DefaultScope.overwrite_default_scope('mmaction'):
        for case, (model_cfg, optim_cfg) in CASES.items():
            model = MODELS.build(copy.deepcopy(model_cfg))
            optim_wrapper = build_optim_wrapper(model, copy.deepcopy(optim_cfg))
            out[case] = dict(
                model=model_cfg, optim_wrapper=optim_cfg, groups=param_groups(optim_wrapper, model)
            )
    with open(osp.join(HERE, 'groups.json'), 'w') as f:
        json.dump(out, f, indent=1)
        f.write('\n')
    print(f'wrote {", ".join(out)} to {HERE}/groups.json')


if __name__ == '__main__':
    main()
