"""The model-zoo demo configs (configs/demo/<family>_demo.py) on 5 tiny target videos.

Every family, in this process: the config's train and test pipelines feed its model (a training
step that finetunes from an 8-class checkpoint, reporting exactly the head's declared classifier
re-initialised, X3D's ``fc2`` included, then a multi-view test step). Two families, one per
recognizer (a 2D TSM, the two-pathway 3D SlowFast), through the tools as a user runs them:
tools/train.py finetunes from the 8-class checkpoint in a process of its own, and tools/test.py's
multi-view test runs on its checkpoint. The other families share Recognizer3D with SlowFast's
tool path (their heads' swaps are checked against MMAction2's checkpoints in
tests/models/test_mmaction2_parity.py). This checks the wiring, not accuracy.
"""

import re
import time

import pytest
import torch
from conftest import REPO, run_tool
from mmengine.dataset import pseudo_collate
from mmengine.optim import build_optim_wrapper
from mmengine.registry import DefaultScope

from mmaction_ft.config import load_config
from mmaction_ft.demo.data import make_demo_dataset
from mmaction_ft.engine.checkpoint_loading import classifier_prefixes
from mmaction_ft.engine.weight_loading import load_weights
from mmaction_ft.registry import DATASETS, MODELS

pytestmark = pytest.mark.slow

# family -> the classifier its head declares (the only tensors load_from may re-initialise).
DEMOS = {
    'tsm': 'cls_head.fc_cls',
    'i3d': 'cls_head.fc_cls',
    'slowonly': 'cls_head.fc_cls',
    'slowfast': 'cls_head.fc_cls',
    'x3d': 'cls_head.fc2',
    'c3d': 'cls_head.fc_cls',
    'r2plus1d': 'cls_head.fc_cls',
    'ircsn': 'cls_head.fc_cls',
}
TOOL_RUNS = ('tsm', 'slowfast')
SOURCE_CLASSES = 8
REINIT = re.compile(r'(\S+): checkpoint has (\d+) classes, model has (\d+) -> re-initialised')


@pytest.fixture(scope='module')
def tiny_target(tmp_path_factory) -> dict:
    """1 train + 1 val video of each of the 5 target motions, 16 frames of 64 px."""
    root = tmp_path_factory.mktemp('tiny_target')
    return make_demo_dataset(
        str(root / 'data'),
        class_set='target',
        videos_per_class=2,
        val_per_class=1,
        num_frames=16,
        size=64,
        formats=('videos',),
    )


def _tiny_config(family: str, data: dict, path) -> None:
    """The demo config on the tiny data: small batches, no worker processes, one epoch."""
    path.write_text(f"""
_base_ = [{str(REPO / f'configs/demo/{family}_demo.py')!r}]
loader = dict(num_workers=0, persistent_workers=False)
dataset = dict(data_prefix=dict(video={data['videos_prefix']!r}), label_map={data['label_map']!r})
train_dataloader = dict(batch_size=5, **loader, dataset=dict(ann_file={data['train_list_videos']!r},
                        **dataset))
val_dataloader = dict(batch_size=5, **loader, dataset=dict(ann_file={data['val_list_videos']!r},
                      **dataset))
test_dataloader = dict(batch_size=1, **loader, dataset=dict(ann_file={data['val_list_videos']!r},
                       **dataset))
train_cfg = dict(max_epochs=1, val_interval=1)
param_scheduler = []
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=1))
""")


def _source_state_dict(config) -> dict:
    """The weights of an 8-class model of the config's architecture."""
    cfg, _ = load_config(str(config))
    cfg.model.cls_head.num_classes = SOURCE_CLASSES
    with DefaultScope.overwrite_default_scope('mmaction_ft'):
        return MODELS.build(cfg.model).state_dict()


def _source_checkpoint(config, path) -> None:
    """An 8-class checkpoint of the config's model, as a model zoo would publish it."""
    torch.save({'state_dict': _source_state_dict(config), 'meta': {}}, path)


@pytest.mark.parametrize('family', sorted(DEMOS))
def test_demo_pipelines_feed_the_model(family, tiny_target, tmp_path):
    config = tmp_path / f'tiny_{family}_demo.py'
    _tiny_config(family, tiny_target, config)
    state_dict = _source_state_dict(config)  # no file round trip: the tool runs below do that
    cfg, _ = load_config(str(config))
    with DefaultScope.overwrite_default_scope('mmaction_ft'):
        model = MODELS.build(cfg.model)
        report = load_weights(model, state_dict, head_prefixes=classifier_prefixes(model))
        train_set = DATASETS.build(cfg.train_dataloader.dataset)
        test_set = DATASETS.build(cfg.test_dataloader.dataset)
        optim_wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    assert report.reinitialised == [f'{DEMOS[family]}.weight', f'{DEMOS[family]}.bias']
    assert not report.skipped

    torch.manual_seed(0)
    model.train()
    losses = model.train_step(pseudo_collate([train_set[i] for i in range(2)]), optim_wrapper)
    assert torch.isfinite(losses['loss'])

    model.eval()
    sample = test_set[0]
    views = sample['inputs'].shape[0]
    assert views > 1  # multi-clip / multi-crop testing
    (result,) = model.test_step(pseudo_collate([sample]))
    assert result.pred_score.shape == (5,)
    assert torch.allclose(result.pred_score.sum(), torch.tensor(1.0), atol=1e-4)


@pytest.mark.parametrize('family', TOOL_RUNS)
def test_demo_finetunes_and_tests(family, tiny_target, tmp_path):
    start = time.perf_counter()
    config = tmp_path / f'tiny_{family}_demo.py'
    _tiny_config(family, tiny_target, config)
    source = tmp_path / 'source.pth'
    _source_checkpoint(config, source)

    work_dir = tmp_path / 'work'
    args = ('--work-dir', str(work_dir), '--seed', '0')
    result = run_tool(
        'tools/train.py', str(config), *args, '--cfg-options', f'load_from={source}', cwd=REPO
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-3000:]
    # Exactly the classifier is swapped, and nothing else is skipped.
    assert REINIT.findall(log) == [(DEMOS[family], str(SOURCE_CLASSES), '5')]
    assert 'skipped' not in log
    assert re.search(r'Epoch\(val\) \[1\]\[\d+/\d+\]\s+acc/top1', log)

    trained = time.perf_counter()
    result = run_tool(
        'tools/test.py',
        str(config),
        str(work_dir / 'epoch_1.pth'),
        '--work-dir',
        str(work_dir / 'test'),
        cwd=REPO,
    )
    assert result.returncode == 0, (result.stdout + result.stderr)[-3000:]
    top1 = float(re.search(r'acc/top1: ([0-9.]+)', result.stdout).group(1))
    assert 0 <= top1 <= 1
    end = time.perf_counter()
    print(
        f'{family}: {end - start:.1f} s (train {trained - start:.1f} s, test {end - trained:.1f} s)'
    )
