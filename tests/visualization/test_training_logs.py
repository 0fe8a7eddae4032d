import json

import cv2
import numpy as np
import pytest

from mmaction_ft.visualization.training_logs import (
    find_log_files,
    load_training_log,
    plot_curves,
    train_time_stats,
)

ITERS_PER_EPOCH = 4


def train_record(it, loss, time=0.5):
    epoch = (it - 1) // ITERS_PER_EPOCH + 1
    return dict(lr=0.01, data_time=0.1, loss=loss, time=time, epoch=epoch, iter=it, step=it)


def val_record(epoch, top1):
    return {'acc/top1': top1, 'acc/top5': 1.0, 'data_time': 0.1, 'time': 0.2, 'step': epoch}


def write_run(work_dir, stamp, records, tail=''):
    vis = work_dir / stamp / 'vis_data'
    vis.mkdir(parents=True)
    text = ''.join(json.dumps(r) + '\n' for r in records) + tail
    (vis / 'scalars.json').write_text(text)
    return vis / 'scalars.json'


@pytest.fixture
def resumed_run(tmp_path):
    """Epochs 1-2 logged, a crash during epoch 3 (its first two iterations and a half-written
    line logged), then a resume from the epoch-2 checkpoint that logs epoch 3 again and epoch 4."""
    first = [train_record(i, loss=10.0 - i) for i in range(1, 9)]
    first[4:4] = [val_record(1, 0.2)]
    first.append(val_record(2, 0.4))
    first += [train_record(9, loss=99.0), train_record(10, loss=99.0)]  # lost with the crash
    write_run(tmp_path, '20261206_100000', first, tail='{"lr": 0.01, "loss"')
    second = [train_record(i, loss=10.0 - i, time=0.25) for i in range(9, 17)]
    second[4:4] = [val_record(3, 0.6)]
    second.append(val_record(4, 0.7))
    write_run(tmp_path, '20261206_110000', second)
    return tmp_path


def test_a_resumed_run_reads_as_one_continuous_run(resumed_run):
    log = load_training_log(str(resumed_run))
    assert len(log.files) == 2 and log.files[0] < log.files[1]
    assert [r['iter'] for r in log.train] == list(range(1, 17))
    # The resumed start re-ran iterations 9 and 10: its records replace the crashed ones.
    assert [r['loss'] for r in log.train] == [10.0 - i for i in range(1, 17)]
    assert [(r['step'], r['acc/top1']) for r in log.val] == [(1, 0.2), (2, 0.4), (3, 0.6), (4, 0.7)]
    # Validation after epoch e sits at the last iteration of epoch e.
    assert [r['iter'] for r in log.val] == [4, 8, 12, 16]
    iters, values, mode = log.series('acc/top1')
    assert mode == 'val' and iters.tolist() == [4, 8, 12, 16]
    assert 'loss' in log.keys() and 'acc/top1' in log.keys() and 'step' not in log.keys()


def test_one_run_dir_or_file_is_read_alone(resumed_run):
    run = resumed_run / '20261206_110000'
    assert find_log_files(str(run)) == [str(run / 'vis_data' / 'scalars.json')]
    log = load_training_log(str(run / 'vis_data' / 'scalars.json'))
    assert [r['iter'] for r in log.train] == list(range(9, 17))


def test_unknown_key_and_missing_logs_name_what_exists(resumed_run, tmp_path):
    log = load_training_log(str(resumed_run))
    with pytest.raises(KeyError, match=r"no 'acc/top3' records; keys there: lr, data_time, loss"):
        log.series('acc/top3')
    (tmp_path / 'empty').mkdir()
    with pytest.raises(FileNotFoundError, match=r'empty holds no training log'):
        load_training_log(str(tmp_path / 'empty'))
    with pytest.raises(FileNotFoundError, match=r'no such work dir or log file: .*missing'):
        load_training_log(str(tmp_path / 'missing'))


def test_broken_record_and_mmaction2_0x_log_name_file_and_line(tmp_path):
    path = write_run(tmp_path, 'a', [train_record(1, 1.0)], tail='not json\n')
    with pytest.raises(ValueError, match=r'scalars.json:2: not a JSON record'):
        load_training_log(str(path))
    old = tmp_path / '20200101.log.json'
    old.write_text('{"env_info": "x"}\n{"mode": "train", "epoch": 1, "iter": 10, "loss": 1}\n')
    with pytest.raises(ValueError, match=r'20200101.log.json:1: an MMAction2 0.x log record'):
        load_training_log(str(old))


def test_plot_curves_draws_each_key_of_each_log(resumed_run, tmp_path):
    log = load_training_log(str(resumed_run))
    out = plot_curves(
        [log, log], ['loss', 'acc/top1', 'lr'], str(tmp_path / 'c.png'), legend=['a', 'b']
    )
    image = cv2.imread(out)
    assert image.shape[0] > 600 and image.shape[1] > 800  # three panels, 8 inches at 120 dpi
    assert image.std() > 20  # lines and text, not a blank canvas
    with pytest.raises(ValueError, match='1 legend entries for 2 logs'):
        plot_curves([log, log], ['loss'], str(tmp_path / 'd.png'), legend=['a'])


def test_train_time_leaves_out_the_first_interval_of_each_start(resumed_run):
    log = load_training_log(str(resumed_run))
    stats = train_time_stats(log)
    # Iterations 1 and 9 open a start; what is left: 2-8 at 0.5 s and 10-16 at 0.25 s.
    expected = [0.5] * 7 + [0.25] * 7
    assert stats['mean'] == pytest.approx(np.mean(expected))
    assert stats['std'] == pytest.approx(np.std(expected))
    assert stats['iters'] == 16
    assert stats['slowest_epoch'] in (1, 2) and stats['fastest_epoch'] in (3, 4)
    everything = train_time_stats(log, include_outliers=True)
    assert everything['mean'] == pytest.approx((8 * 0.5 + 8 * 0.25) / 16)
