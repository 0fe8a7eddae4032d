"""Every TSN config of MMAction2 v0.24.1 loads with the overrides a 0.x user passes and trains one
iteration on tiny generated data (issue 12).

The files are MMAction2's, not ours to ship: ``pip download mmaction2==0.24.1 --no-deps`` and
unzip the wheel, then point ``MMACTION2_V024_CONFIGS`` at its ``mmaction/.mim/configs`` folder.
Without that variable the tests skip: the 55 configs take about 15 minutes on 2 CPU cores, more
than the whole suite may.
"""

import os
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.dataset import pseudo_collate
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope

from mmaction_ft.config import ConfigError, load_config
from mmaction_ft.registry import DATASETS, MODELS

CONFIG_ROOT = Path(os.environ.get('MMACTION2_V024_CONFIGS', '/nonexistent'))
TSN = CONFIG_ROOT / 'recognition' / 'tsn'
CONFIGS = sorted(str(p.relative_to(TSN)) for p in TSN.rglob('*.py')) if TSN.is_dir() else []
NUM_CLASSES = 5
NUM_FRAMES = 16
# The model runs on the first views of a sample only: the pipelines run in full (25 clips x 10
# crops for some test pipelines), but a ResNet-50 on all of them takes minutes on a CPU.
MAX_VIEWS = 2

# Configs that must fail at load time, with the reason in the message.
FAILS = {
    # MMAction2 0.24.1's own bug: FormatShape without its required input_format (train, val and
    # test), and a test pipeline that decodes before DecordInit opened the video.
    'tsn_r50_1x1x6_100e_mit_rgb.py': 'FormatShape without input_format',
    # MMClassification backbones are not supported (the message names what to use).
    'custom_backbones/tsn_rn101_32x4d_320p_1x1x3_100e_kinetics400_rgb.py': 'mmcls',
}
NEEDS_TIMM = {'custom_backbones/tsn_swin_transformer_video_320p_1x1x3_100e_kinetics400_rgb.py'}

pytestmark = [
    pytest.mark.skipif(
        not CONFIGS, reason=f'no MMAction2 v0.24.1 configs at {TSN} (set MMACTION2_V024_CONFIGS)'
    ),
    pytest.mark.slow,
]


def _write_frame(path: Path, shape) -> None:
    cv2.imwrite(str(path), np.random.randint(0, 256, shape, dtype=np.uint8))


def tiny_data(root: Path, split: str, dataset: dict) -> dict:
    """One tiny video for ``dataset`` (a 0.x dataset config); the 0.x keys that point to it."""
    labels = '0 2' if dataset.get('multi_class') else '1'
    folder = root / split
    folder.mkdir()
    if dataset['type'] == 'VideoDataset':
        writer = cv2.VideoWriter(
            str(folder / 'v.mp4'), cv2.VideoWriter_fourcc(*'mp4v'), 25, (64, 48)
        )
        for _ in range(NUM_FRAMES):
            writer.write(np.random.randint(0, 256, (48, 64, 3), dtype=np.uint8))
        writer.release()
        line = f'v.mp4 {labels}'
    else:
        tmpl = dataset.get('filename_tmpl', 'img_{:05}.jpg')
        (folder / 'f').mkdir()
        for i in range(NUM_FRAMES + 2):  # start_index 0 or 1
            if dataset.get('modality') == 'Flow':
                for axis in 'xy':
                    _write_frame(folder / 'f' / tmpl.format(axis, i), (48, 64))
            else:
                _write_frame(folder / 'f' / tmpl.format(i), (48, 64, 3))
        offset = '0 ' if dataset.get('with_offset') else ''
        line = f'f {offset}{NUM_FRAMES} {labels}'
    (folder / 'ann.txt').write_text(line + '\n')
    options = {f'data.{split}.ann_file': str(folder / 'ann.txt')}
    options[f'data.{split}.data_prefix'] = str(folder)
    if 'num_classes' in dataset:
        options[f'data.{split}.num_classes'] = NUM_CLASSES
    return options


def user_options(raw: Config, root: Path) -> dict:
    """What a 0.x user passes: data paths, class counts, one epoch, one video a batch, no
    download of ImageNet weights (the test has no network)."""
    options = {'total_epochs': 1, 'data.videos_per_gpu': 1, 'data.workers_per_gpu': 0}
    for split in ('train', 'val', 'test'):
        if split in raw.data:
            options.update(tiny_data(root, split, raw.data[split]))
    if 'cls_head' in raw.model:
        options['model.cls_head.num_classes'] = NUM_CLASSES
    if 'blending' in (raw.model.get('train_cfg') or {}):
        options['model.train_cfg.blending.num_classes'] = NUM_CLASSES
    options['model.backbone.pretrained'] = None
    return options


@pytest.mark.parametrize('name', CONFIGS)
def test_v024_tsn_config_trains_one_iteration(name, tmp_path):
    if name in NEEDS_TIMM:
        pytest.importorskip('timm', reason='timm is optional (TimmBackbone)')
    raw = Config.fromfile(str(TSN / name))
    options = user_options(raw, tmp_path)
    if name in FAILS:
        with pytest.raises(ConfigError, match=FAILS[name]):
            load_config(str(TSN / name), options)
        return
    cfg, _ = load_config(str(TSN / name), options)
    assert cfg.default_scope == 'mmaction_ft'
    torch.manual_seed(0)
    with DefaultScope.overwrite_default_scope('mmaction_ft'):
        model = MODELS.build(cfg.model)
        model.init_weights()
        splits = [s for s in ('train', 'val', 'test') if f'{s}_dataloader' in cfg]
        samples = {s: DATASETS.build(cfg[f'{s}_dataloader'].dataset)[0] for s in splits}
        for sample in samples.values():
            # flow: 5 x/y frame pairs stacked on the channels, as in_channels=10 expects
            assert sample['inputs'].shape[1] == (10 if name.endswith('_flow.py') else 3)
            sample['inputs'] = sample['inputs'][:MAX_VIEWS]  # [views, C, H, W]
        if 'train' not in samples:  # inference / feature-extraction files: test data only
            with torch.no_grad():
                data = model.data_preprocessor(pseudo_collate([samples['test']]))
                outputs = model(**data, mode='tensor')
            assert torch.isfinite(outputs).all()
            return
        assert cfg.train_cfg.max_epochs == 1
        optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
        before = model.cls_head.fc_cls.weight.detach().clone()
        model.train()
        losses = model.train_step(pseudo_collate([samples['train']]), optim_wrapper)
    assert torch.isfinite(losses['loss']), losses
    assert model.cls_head.fc_cls.weight.shape[0] == NUM_CLASSES
    assert not torch.equal(model.cls_head.fc_cls.weight, before)
