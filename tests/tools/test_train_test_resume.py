"""tools/train.py, tools/test.py and --resume end to end on a tiny synthetic dataset (CPU)."""

import re
import shutil

import pytest
import torch
from conftest import REPO, run_tool

pytestmark = pytest.mark.slow


def _val_top1(log: str) -> list:
    return [
        float(v) for v in re.findall(r'Epoch\(val\) \[\d+\]\[\d+/\d+\]\s+acc/top1: ([0-9.]+)', log)
    ]


@pytest.fixture(scope='module')
def trained(tiny_trained):
    return tiny_trained


def test_train_writes_checkpoints_config_and_best(trained, tiny_demo):
    work_dir, log = trained
    names = {p.name for p in work_dir.iterdir()}
    assert {'epoch_1.pth', 'epoch_3.pth', 'last_checkpoint', 'tiny_tsn.py'} <= names
    assert len([n for n in names if n.startswith('best_acc_top1_epoch_')]) == 1
    assert len(_val_top1(log)) == 3  # validation ran after each epoch


def test_test_tool_reproduces_logged_val_accuracy(trained, tiny_demo):
    work_dir, log = trained
    best = next(work_dir.glob('best_acc_top1_epoch_*.pth'))
    epoch = int(best.stem.rsplit('_', 1)[1])
    result = run_tool(
        'tools/test.py',
        str(tiny_demo['config']),
        str(best),
        '--work-dir',
        str(work_dir / 'test'),
        '--dump',
        str(work_dir / 'preds.pkl'),
        cwd=REPO,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    top1 = float(re.search(r'acc/top1: ([0-9.]+)', result.stdout).group(1))
    assert top1 == pytest.approx(_val_top1(log)[epoch - 1], abs=1e-4)
    assert (work_dir / 'preds.pkl').is_file()


def test_test_tool_refuses_checkpoint_with_other_class_count(trained, tiny_demo):
    work_dir, _ = trained
    result = run_tool(
        'tools/test.py',
        str(tiny_demo['config']),
        str(work_dir / 'epoch_3.pth'),
        '--work-dir',
        str(work_dir / 'test_bad'),
        '--cfg-options',
        'model.cls_head.num_classes=5',
        cwd=REPO,
        fresh=True,  # tools/test.py as a user starts it
    )
    assert result.returncode != 0
    assert '8 classes' in result.stderr and 'num_classes=8' in result.stderr


def test_resume_continues_epoch_optimizer_and_lr(trained, tiny_demo, tmp_path):
    work_dir = tmp_path / 'work'
    shutil.copytree(trained[0], work_dir)  # the shared run stays as it is
    # Pretend the 3-epoch run died during epoch 3: its last checkpoint is epoch_2.pth.
    (work_dir / 'epoch_3.pth').unlink()
    (work_dir / 'last_checkpoint').write_text(str(work_dir / 'epoch_2.pth'))
    result = run_tool(
        'tools/train.py',
        str(tiny_demo['config']),
        '--work-dir',
        str(work_dir),
        '--resume',
        cwd=REPO,
    )
    log = result.stdout + result.stderr
    assert result.returncode == 0, log[-3000:]
    assert re.search(r'resumed epoch: 2, iter: \d+', log)
    assert re.search(r'Epoch\(train\)\s+\[3\]', log)
    assert not re.search(r'Epoch\(train\)\s+\[[12]\]', log)
    # MultiStepLR(milestones=[2]) divides the LR (0.001) by 10 for epoch 3: only a restored
    # scheduler knows that two epochs have passed.
    lrs = [
        float(v) for v in re.findall(r'Epoch\(train\)\s+\[3\]\[\d+/\d+\]\s+lr: ([0-9.e+-]+)', log)
    ]
    assert lrs and lrs == pytest.approx([1e-4] * len(lrs))
    checkpoint = torch.load(work_dir / 'epoch_3.pth', map_location='cpu', weights_only=False)
    assert checkpoint['meta']['epoch'] == 3
    assert checkpoint['optimizer']['state'], 'optimizer state (momentum buffers) must be saved'
