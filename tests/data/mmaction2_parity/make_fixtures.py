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
}
# Backbone arguments changed for the output check only, where the standard input (224 px, 8-32
# frames) would make a transformer's forward take many seconds on a CPU: position-embedding
# sizes follow them, no key name does. Key count, parameter count and digest are recorded for
# both the standard and the reduced model.
OVERRIDES = {}


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
