"""tools/test.py --out-dir on the tiny demo: the per-class files agree with the printed metrics."""

import csv
import json
import os.path as osp
import re

import matplotlib.pyplot as plt
import numpy as np
import pytest
from conftest import REPO, run_tool

pytestmark = pytest.mark.slow


def _csv(path) -> list:
    with open(path, newline='') as f:
        return list(csv.reader(f))


@pytest.fixture(scope='module')
def tested(tiny_demo, tmp_path_factory):
    root = tmp_path_factory.mktemp('out_dir')
    # One epoch at a higher LR: a model that gets some classes right and confuses others.
    train = run_tool(
        'tools/train.py',
        str(tiny_demo['config']),
        '--work-dir',
        str(root / 'train'),
        '--no-validate',
        '--seed',
        '0',
        '--cfg-options',
        'train_cfg.max_epochs=1',
        'optim_wrapper.optimizer.lr=0.01',
        cwd=REPO,
    )
    assert train.returncode == 0, train.stderr[-3000:]
    test = run_tool(
        'tools/test.py',
        str(tiny_demo['config']),
        str(root / 'train' / 'epoch_1.pth'),
        '--work-dir',
        str(root / 'test'),
        '--out-dir',
        str(root / 'out'),
        cwd=REPO,
    )
    assert test.returncode == 0, test.stderr[-3000:]
    printed = {
        key: float(value) for key, value in re.findall(r'(acc/\w+): ([0-9.]+)\n', test.stdout)
    }
    return root / 'out', printed


def test_confusion_matrix_counts_every_test_video(tested, tiny_demo):
    out, _ = tested
    rows = _csv(out / 'confusion_matrix.csv')
    assert rows[0][1:] == tiny_demo['classes'] and [row[0] for row in rows[1:]] == rows[0][1:]
    confusion = np.array([[int(v) for v in row[1:]] for row in rows[1:]])
    with open(tiny_demo['val_list_videos']) as f:
        lines = [line.split() for line in f if line.strip()]
    assert confusion.sum() == len(lines) == tiny_demo['num_val']
    # Each row sums to the videos of that class in the list.
    per_class = np.bincount([int(line[-1]) for line in lines], minlength=len(confusion))
    np.testing.assert_array_equal(confusion.sum(axis=1), per_class)


def test_per_class_accuracy_is_the_diagonal_over_the_row_sums(tested):
    out, printed = tested
    confusion = np.array(
        [[int(v) for v in row[1:]] for row in _csv(out / 'confusion_matrix.csv')[1:]]
    )
    table = _csv(out / 'per_class.csv')
    assert table[0] == [
        'index',
        'class',
        'support',
        'predicted',
        'correct',
        'accuracy',
        'precision',
        'recall',
    ]
    accuracy = np.array([float(row[5]) for row in table[1:]])  # every class has videos
    np.testing.assert_allclose(accuracy, np.diag(confusion) / confusion.sum(axis=1), atol=1e-6)
    # What acc/mean1 averages, and the trace what acc/top1 counts.
    assert accuracy.mean() == pytest.approx(printed['acc/mean1'], abs=1e-4)
    assert np.trace(confusion) / confusion.sum() == pytest.approx(printed['acc/top1'], abs=1e-4)
    assert 0 < np.trace(confusion) < confusion.sum()  # a case with hits and mistakes


def test_metrics_json_and_misclassified_videos(tested, tiny_demo):
    out, printed = tested
    metrics = json.loads((out / 'metrics.json').read_text())
    assert set(printed) == {'acc/top1', 'acc/top5', 'acc/mean1'}
    assert metrics['test_metrics'] == pytest.approx(printed, abs=1e-4)
    assert metrics['num_videos'] == tiny_demo['num_val']
    rows = _csv(out / 'misclassified.csv')[1:]
    assert len(rows) == metrics['num_misclassified'] > 0
    with open(tiny_demo['val_list_videos']) as f:
        listed = [line.split()[0] for line in f if line.strip()]
    for index, path, true, predicted, predicted_score, true_score in rows:
        # The video of that line of the list, stored as videos/<class>/<name>.mp4.
        assert path == osp.join(tiny_demo['videos_prefix'], listed[int(index)])
        assert osp.isfile(path) and osp.basename(osp.dirname(path)) == true
        assert true != predicted and float(predicted_score) >= float(true_score)
    assert (out / 'predictions.pkl').is_file()


def test_pngs_are_real_plots(tested):
    out, _ = tested
    for name in ('confusion_matrix.png', 'confusion_matrix_normalized.png'):
        image = plt.imread(str(out / name))[..., :3]
        assert min(image.shape[:2]) >= 400 and image.std() > 0.1
