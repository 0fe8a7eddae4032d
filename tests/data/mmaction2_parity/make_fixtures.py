"""Write the MMAction2 1.2.0 reference outputs that ``tests/models/test_mmaction2_parity.py``
compares against. Run with the real MMAction2 (``../shared/peer/`` builds it)::

    TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD=1 /tmp/venv_peer/bin/python \\
        tests/data/mmaction2_parity/make_fixtures.py [FAMILY ...]

For each family it builds the recognizer from the ``model`` dict of MMAction2's standard config
(backbone pretrained weights off), fills it with :func:`parity_weights.fill_deterministic`, runs
the backbone and the head on a fixed input in eval mode, and writes ``<family>.json``: the model
dict itself, the state dict's key count, parameter count and digest of its sorted keys and
shapes, and the outputs.
"""

import copy
import hashlib
import json
import os.path as osp
import sys
import types

import torch

HERE = osp.dirname(osp.abspath(__file__))
sys.path.insert(0, HERE)
from parity_weights import fill_deterministic, make_input, sample_values  # noqa: E402

# family: (MMAction2 config under mmaction/.mim/configs, input [N, views, C, (T,) H, W])
FAMILIES = {
    'tsn': (
        'recognition/tsn/tsn_imagenet-pretrained-r50_8xb32-1x1x3-100e_kinetics400-rgb.py',
        [1, 3, 3, 64, 64],
    ),
    'tsm': (
        'recognition/tsm/tsm_imagenet-pretrained-r50_8xb16-1x1x8-50e_kinetics400-rgb.py',
        [1, 8, 3, 64, 64],
    ),
    'tsm_nl': (
        'recognition/tsm/'
        'tsm_imagenet-pretrained-r50-nl-embedded-gaussian_8xb16-1x1x8-50e_kinetics400-rgb.py',
        [1, 8, 3, 64, 64],
    ),
    'i3d': (
        'recognition/i3d/i3d_imagenet-pretrained-r50_8xb8-32x2x1-100e_kinetics400-rgb.py',
        [1, 1, 3, 8, 64, 64],
    ),
    'i3d_nl': (
        'recognition/i3d/'
        'i3d_imagenet-pretrained-r50-nl-embedded-gaussian_8xb8-32x2x1-100e_kinetics400-rgb.py',
        [1, 1, 3, 8, 64, 64],
    ),
    'slowonly': (
        'recognition/slowonly/slowonly_r50_8xb16-4x16x1-256e_kinetics400-rgb.py',
        [1, 1, 3, 4, 64, 64],
    ),
    'slowfast': (
        'recognition/slowfast/slowfast_r50_8xb8-4x16x1-256e_kinetics400-rgb.py',
        [1, 1, 3, 32, 64, 64],
    ),
    'x3d': ('recognition/x3d/x3d_m_16x5x1_facebook-kinetics400-rgb.py', [1, 1, 3, 8, 64, 64]),
    'c3d': (
        'recognition/c3d/c3d_sports1m-pretrained_8xb30-16x1x1-45e_ucf101-rgb.py',
        [1, 1, 3, 16, 112, 112],
    ),
    'r2plus1d': (
        'recognition/r2plus1d/r2plus1d_r34_8xb8-8x8x1-180e_kinetics400-rgb.py',
        [1, 1, 3, 8, 64, 64],
    ),
    'ircsn': (
        'recognition/csn/ircsn_ig65m-pretrained-r152_8xb12-32x2x1-58e_kinetics400-rgb.py',
        [1, 1, 3, 8, 64, 64],
    ),
    'ipcsn': ('recognition/csn/ipcsn_r152_32x2x1-180e_kinetics400-rgb.py', [1, 1, 3, 8, 64, 64]),
    'uniformerv2_b': (
        'recognition/uniformerv2/'
        'uniformerv2-base-p16-res224_clip-kinetics710-pre_8xb32-u8_kinetics400-rgb.py',
        [1, 1, 3, 4, 32, 32],
    ),
    'mvit_s': (
        'recognition/mvit/mvit-small-p244_32xb16-16x4x1-200e_kinetics400-rgb.py',
        [1, 1, 3, 4, 48, 48],
    ),
    'mvit_b': (
        'recognition/mvit/mvit-base-p244_32x3x1_kinetics400-rgb.py',
        [1, 1, 3, 4, 48, 48],
    ),
    # 18 frames -> 9 temporal tokens, more than the 8 of a window: the temporal shift and its
    # mask are exercised; 32 px -> 8 tokens, padded to 14 for the 7-token windows.
    'swin_t': (
        'recognition/swin/swin-tiny-p244-w877_in1k-pre_8xb8-amp-32x2x1-30e_kinetics400-rgb.py',
        [1, 1, 3, 18, 32, 32],
    ),
    'timesformer_divst': (
        'recognition/timesformer/timesformer_divST_8xb8-8x32x1-15e_kinetics400-rgb.py',
        [1, 1, 3, 4, 32, 32],
    ),
    'timesformer_jointst': (
        'recognition/timesformer/timesformer_jointST_8xb8-8x32x1-15e_kinetics400-rgb.py',
        [1, 1, 3, 4, 32, 32],
    ),
    'timesformer_spaceonly': (
        'recognition/timesformer/timesformer_spaceOnly_8xb8-8x32x1-15e_kinetics400-rgb.py',
        [1, 1, 3, 4, 32, 32],
    ),
    # 48 px frames on a 32 px model: the position embedding is resized bicubically.
    'videomae_vit_b': (
        'recognition/videomae/vit-base-p16_videomae-k400-pre_16x4x1_kinetics-400.py',
        [1, 1, 3, 4, 48, 48],
    ),
}
# Backbone arguments changed for the output check only, where the standard input (224 px, 8-32
# frames) would make a transformer's forward take many seconds on a CPU: position-embedding
# sizes follow them, no key name does. Key count, parameter count and digest are recorded for
# both the standard and the reduced model.
OVERRIDES = {
    # 2 x 2 patches of 16 px, 4 frames: 20 tokens per clip instead of 8 x 196.
    'uniformerv2_b': dict(input_resolution=32, t_size=4),
    # 2 x 12 x 12 tokens instead of 8 x 56 x 56; relative position tables follow. The last
    # scale is 2 x 2 where the tables expect 12 // 8 = 1: their interpolation is checked too.
    'mvit_s': dict(spatial_size=48, temporal_size=4),
    'mvit_b': dict(spatial_size=48, temporal_size=4),
    # 4 frames of 2 x 2 patches: 1 + 16 tokens per clip instead of 1 + 8 x 196. Even then a
    # forward reads all ~0.5 GB of ViT-B weights, so the output check also keeps 2 of the 12
    # layers (the keys of layers 2-11 go; every layer index runs the same code).
    'timesformer_divst': dict(img_size=32, num_frames=4, num_transformer_layers=2),
    'timesformer_jointst': dict(img_size=32, num_frames=4, num_transformer_layers=2),
    'timesformer_spaceonly': dict(img_size=32, num_frames=4, num_transformer_layers=2),
    # 2 tubelets of 2 x 2 patches (3 x 3 from the input, through the resized table), 2 blocks.
    'videomae_vit_b': dict(img_size=32, num_frames=4, depth=2),
}


def key_digest(state_dict) -> str:
    lines = sorted(f'{key}:{list(value.shape)}' for key, value in state_dict.items())
    return hashlib.sha256('\n'.join(lines).encode()).hexdigest()


def state_dict_summary(model) -> dict:
    state_dict = model.state_dict()
    return dict(
        num_keys=len(state_dict),
        num_params=sum(p.numel() for p in model.parameters()),
        keys_sha256=key_digest(state_dict),
    )


def outputs(model, inputs) -> dict:
    with torch.no_grad():
        feats, _ = model.extract_feat(inputs, stage='backbone')
        scores, _ = model.extract_feat(inputs, stage='head')
    feats = feats if isinstance(feats, tuple) else (feats,)
    # MViT gives [patch_tokens, cls_token] per scale.
    feats = [f for feat in feats for f in (feat if isinstance(feat, list) else [feat])]
    return dict(
        backbone=[
            dict(shape=list(f.shape), norm=float(f.double().norm()), values=sample_values(f))
            for f in feats
        ],
        scores=dict(shape=list(scores.shape), values=scores.double().flatten().tolist()),
    )


def main(names) -> None:
    # Workaround W1 of ../shared/peer/README.md: the 1.2.0 wheel lacks this subpackage.
    for name in ('mmaction.models.localizers.drn', 'mmaction.models.localizers.drn.drn'):
        sys.modules[name] = types.SimpleNamespace(DRN=None)
    import mmaction
    from mmaction.registry import MODELS
    from mmaction.utils import register_all_modules
    from mmengine.config import Config

    register_all_modules()
    config_root = osp.join(osp.dirname(mmaction.__file__), '.mim', 'configs')
    for family in names or FAMILIES:
        config, input_shape = FAMILIES[family]
        model_cfg = Config.fromfile(osp.join(config_root, config)).model.to_dict()
        model_cfg['backbone']['pretrained'] = None
        # No downloads: UniFormerV2's K710-finetuning configs load backbone and head through
        # init_cfg=dict(type='Pretrained', checkpoint=URL) (and clip_pretrained is already
        # False there). Only init_weights reads them, which is not called here; dropping them
        # restores the parts' default init_cfg so the recorded dict never points at a download.
        for part in ('backbone', 'cls_head'):
            init_cfg = model_cfg[part].get('init_cfg')
            if isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained':
                del model_cfg[part]['init_cfg']
        if family.startswith('mvit'):
            # MixUp / CutMix blending only acts in training; the parity check never uses it.
            model_cfg['data_preprocessor'].pop('blending', None)
        record = dict(config=config)
        if family in OVERRIDES:
            standard = MODELS.build(model_cfg)
            record['standard'] = dict(
                model=copy.deepcopy(model_cfg), **state_dict_summary(standard)
            )
            model_cfg['backbone'].update(OVERRIDES[family])
        torch.manual_seed(0)
        model = MODELS.build(model_cfg)
        fill_deterministic(model)
        model.eval()
        record.update(
            model=model_cfg,
            input_shape=input_shape,
            **state_dict_summary(model),
            **outputs(model, make_input(input_shape)),
        )
        with open(osp.join(HERE, f'{family}.json'), 'w') as f:
            json.dump(record, f, indent=1)
        print(f'{family}: {record["num_keys"]} keys, {record["num_params"]} params')


if __name__ == '__main__':
    main(sys.argv[1:])
