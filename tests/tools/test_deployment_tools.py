"""tools/deployment/export.py, tools/deployment/publish_model.py and tools/analysis/get_flops.py
on a tiny TSN checkpoint that carries its config and class names, as training writes them."""

import hashlib
import importlib.util
import re
import shutil

import pytest
import torch
from conftest import REPO
from mmengine.config import Config

from mmaction_ft.engine.checkpoint import (
    ChecksumMismatchError,
    download_checkpoint,
    expected_hash_prefix,
    load_checkpoint_file,
)

CLASSES = ['left', 'right', 'up', 'down', 'still']
HAS_ORT = all(importlib.util.find_spec(m) for m in ('onnxruntime', 'onnxscript'))
needs_onnxruntime = pytest.mark.skipif(
    not HAS_ORT,
    reason="onnxruntime / onnxscript not installed (pip install 'mmaction_ft[onnx]')",
)
# 2 clips of 1 frame x ThreeCrop 32 px = 6 views of [3, 32, 32] per video.
TEST_PIPELINE = [
    dict(type='DecordInit'),
    dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=2, test_mode=True),
    dict(type='DecordDecode'),
    dict(type='Resize', scale=(-1, 32)),
    dict(type='ThreeCrop', crop_size=32),
    dict(type='FormatShape', input_format='NCHW'),
    dict(type='PackActionInputs'),
]
CFG = dict(
    default_scope='mmaction_ft',
    model=dict(
        type='Recognizer2D',
        backbone=dict(type='ResNet', depth=18, pretrained=None),
        cls_head=dict(type='TSNHead', num_classes=5, in_channels=512, average_clips='prob'),
        data_preprocessor=dict(
            type='ActionDataPreprocessor',
            mean=[123.675, 116.28, 103.53],
            std=[58.395, 57.12, 57.375],
            format_shape='NCHW',
        ),
    ),
    test_dataloader=dict(
        batch_size=1,
        dataset=dict(type='VideoDataset', ann_file='test.txt', pipeline=TEST_PIPELINE),
    ),
)


def _tool(path: str):
    spec = importlib.util.spec_from_file_location(path.replace('/', '_'), REPO / path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope='module')
def tiny_tsn(tmp_path_factory):
    """A training-style checkpoint (optimizer, message hub, schedulers) with config + classes."""
    from mmaction_ft.registry import MODELS
    from mmaction_ft.utils import register_all_modules

    register_all_modules()
    torch.manual_seed(0)
    model = MODELS.build(CFG['model'])
    root = tmp_path_factory.mktemp('deployment')
    path = root / 'epoch_3.pth'
    torch.save(
        {
            'meta': {'cfg': Config(CFG).pretty_text, 'dataset_meta': {'classes': CLASSES}},
            'state_dict': model.state_dict(),
            'optimizer': torch.optim.SGD(model.parameters(), lr=0.1).state_dict(),
            'message_hub': {'log_scalars': {}, 'runtime_info': {'epoch': 3}},
            'param_schedulers': [{'last_epoch': 3}],
        },
        path,
    )
    return dict(root=root, checkpoint=path, model=model)


@needs_onnxruntime
def test_export_onnx_from_the_checkpoint_alone(tiny_tsn, capsys):
    import onnxruntime

    out = tiny_tsn['root'] / 'tsn.onnx'
    args = [str(tiny_tsn['checkpoint']), '--format', 'onnx', '--out', str(out)]
    code = _tool('tools/deployment/export.py').main(
        args + ['--with-preprocessing', '--dynamic-batch']
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    # The default input is one video of the test pipeline: 2 clips x 3 crops.
    assert 'input [1, 6, 3, 32, 32]' in printed
    diffs = [float(d) for d in re.findall(r'batch of \d: max abs difference .* (\S+)', printed)]
    assert len(diffs) == 2 and max(diffs) <= 1e-4, printed
    (spec,) = onnxruntime.InferenceSession(
        str(out), providers=['CPUExecutionProvider']
    ).get_inputs()
    assert spec.shape == ['batch', 6, 3, 32, 32] and spec.type == 'tensor(uint8)'


def test_export_torchscript_with_config_and_shape(tiny_tsn, capsys, tmp_path):
    # An old-style checkpoint: weights only, the config comes from --config.
    bare = tmp_path / 'bare.pth'
    torch.save({'state_dict': tiny_tsn['model'].state_dict()}, bare)
    config = tmp_path / 'tsn.py'
    Config(CFG).dump(str(config))
    args = [str(bare), '--config', str(config), '--format', 'torchscript']
    code = _tool('tools/deployment/export.py').main(
        args + ['--input-shape', '2', '3', '3', '32', '32']
    )
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert (tmp_path / 'bare.pt').is_file()  # next to the checkpoint by default
    assert 'batch of 2: max abs difference' in printed


def test_export_fails_when_the_file_disagrees(tiny_tsn, capsys, monkeypatch, tmp_path):
    import mmaction_ft.apis.export as export

    run = export.run_exported
    monkeypatch.setattr(export, 'run_exported', lambda *a: run(*a) + 1e-3)
    args = [str(tiny_tsn['checkpoint']), '--format', 'torchscript', '--out', str(tmp_path / 'x.pt')]
    assert _tool('tools/deployment/export.py').main(args) == 1
    assert 'FAILED' in capsys.readouterr().err


def test_publish_model_hashes_the_name_and_reloads(tiny_tsn, capsys, tmp_path):
    from mmaction_ft.apis import init_recognizer

    code = _tool('tools/deployment/publish_model.py').main(
        [str(tiny_tsn['checkpoint']), str(tmp_path / 'tsn_tiny.pth')]
    )
    assert code == 0
    printed = capsys.readouterr().out
    assert 'dropped: message_hub, optimizer, param_schedulers' in printed
    (published,) = tmp_path.glob('tsn_tiny-*.pth')
    sha256 = hashlib.sha256(published.read_bytes()).hexdigest()
    assert published.name == f'tsn_tiny-{sha256[:8]}.pth'
    assert expected_hash_prefix(published.name) == sha256[:8]
    assert sorted(load_checkpoint_file(str(published))) == ['meta', 'state_dict']
    # The loader's download path verifies the hash in the name (file:// stands in for https).
    cached = download_checkpoint(published.as_uri(), cache_dir=str(tmp_path / 'cache'))
    model = init_recognizer(cached)
    assert model.dataset_meta['classes'] == CLASSES
    # A file whose bytes do not match its name is refused.
    forged = tmp_path / 'tsn_tiny-0000000a.pth'
    shutil.copy(published, forged)
    with pytest.raises(ChecksumMismatchError):
        download_checkpoint(forged.as_uri(), cache_dir=str(tmp_path / 'cache2'))


def test_publish_refuses_a_name_with_a_hash(tiny_tsn, tmp_path):
    from mmaction_ft.apis.publish import publish_checkpoint

    with pytest.raises(ValueError, match='hash suffix'):
        publish_checkpoint(str(tiny_tsn['checkpoint']), str(tmp_path / 'x-1234abcd.pth'))


@pytest.mark.parametrize('config', ['configs/demo/i3d_demo.py', 'configs/demo/tsm_demo.py'])
def test_get_flops_params_are_the_models(config, capsys):
    from mmaction_ft.config import load_config
    from mmaction_ft.registry import MODELS
    from mmaction_ft.utils import register_all_modules

    register_all_modules()
    cfg, _ = load_config(str(REPO / config))
    cfg.model.backbone.pretrained = None
    expected = sum(p.numel() for p in MODELS.build(cfg.model).parameters())
    assert _tool('tools/analysis/get_flops.py').main([str(REPO / config)]) == 0
    printed = capsys.readouterr().out
    assert f'params: {expected:,} ' in printed
    flops = int(re.search(r'FLOPs: ([\d,]+)', printed).group(1).replace(',', ''))
    assert flops > 0
