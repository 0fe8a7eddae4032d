"""MMAction2 1.2.0's own config files of each model family load and build here unchanged.

The files come from an MMAction2 installation (``../shared/peer/`` makes one in /tmp/venv_peer);
point ``MMACTION2_CONFIGS`` at its ``mmaction/.mim/configs`` folder elsewhere. Without one the
tests skip: the files are MMAction2's, not ours to ship.
"""

import os
from pathlib import Path

import pytest
from mmengine.dataset import Compose
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope

from mmaction_ft.config import load_config
from mmaction_ft.registry import MODELS

DEFAULT = '/tmp/venv_peer/lib/python3.11/site-packages/mmaction/.mim/configs'
CONFIG_ROOT = Path(os.environ.get('MMACTION2_CONFIGS', DEFAULT))
CONFIGS = [
    'recognition/tsn/tsn_imagenet-pretrained-r50_8xb32-1x1x3-100e_kinetics400-rgb.py',
    'recognition/tsm/tsm_imagenet-pretrained-r50_8xb16-1x1x8-50e_kinetics400-rgb.py',
    'recognition/tsm/tsm_imagenet-pretrained-r50_8xb16-dense-1x1x8-50e_kinetics400-rgb.py',
    'recognition/i3d/i3d_imagenet-pretrained-r50_8xb8-32x2x1-100e_kinetics400-rgb.py',
    'recognition/i3d/i3d_imagenet-pretrained-r50_8xb8-dense-32x2x1-100e_kinetics400-rgb.py',
    'recognition/slowonly/slowonly_r50_8xb16-4x16x1-256e_kinetics400-rgb.py',
    'recognition/slowfast/slowfast_r50_8xb8-4x16x1-256e_kinetics400-rgb.py',
    'recognition/x3d/x3d_m_16x5x1_facebook-kinetics400-rgb.py',
    'recognition/c3d/c3d_sports1m-pretrained_8xb30-16x1x1-45e_ucf101-rgb.py',
    'recognition/r2plus1d/r2plus1d_r34_8xb8-8x8x1-180e_kinetics400-rgb.py',
    'recognition/csn/ircsn_ig65m-pretrained-r152_8xb12-32x2x1-58e_kinetics400-rgb.py',
]

pytestmark = pytest.mark.skipif(
    not CONFIG_ROOT.is_dir(), reason=f'no MMAction2 configs at {CONFIG_ROOT} (MMACTION2_CONFIGS)'
)


@pytest.mark.parametrize('name', CONFIGS, ids=lambda n: Path(n).stem.split('_')[0])
def test_mmaction2_config_builds_model_pipelines_and_optimizer(name):
    cfg, report = load_config(str(CONFIG_ROOT / name))
    assert cfg.default_scope == 'mmaction_ft'
    with DefaultScope.overwrite_default_scope('mmaction_ft'):
        model_cfg = cfg.model
        model_cfg.backbone.pretrained = None  # no download in tests
        model = MODELS.build(model_cfg)
        # X3D's files are test-only (converted checkpoints): no train or val dataloader.
        splits = [s for s in ('train', 'val', 'test') if f'{s}_dataloader' in cfg]
        assert 'test' in splits
        for split in splits:
            pipeline = cfg[f'{split}_dataloader'].dataset.pipeline
            assert len(Compose(pipeline).transforms) == len(pipeline)
        if 'optim_wrapper' in cfg:
            optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
            assert len(optim_wrapper.optimizer.param_groups) >= 1
