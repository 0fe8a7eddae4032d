"""tools/predict.py end to end: predictions from the checkpoint alone of a tiny trained TSN."""

import json
import pickle

import cv2
import numpy as np
import pytest
import torch
from conftest import REPO, run_tool

from mmaction_ft.datasets.video_io import import_decord

pytestmark = pytest.mark.slow


@pytest.fixture(scope='module')
def best(tiny_trained):
    return next(tiny_trained[0].glob('best_acc_top1_epoch_*.pth'))


def _val_videos(tiny_demo) -> list:
    with open(tiny_demo['val_list_videos']) as f:
        return [f'{tiny_demo["videos_prefix"]}/{line.split()[0]}' for line in f if line.strip()]


def _predict(*args: str, cwd=REPO):
    return run_tool('tools/predict.py', *args, cwd=cwd)


@pytest.fixture(scope='module')
def listed(best, tiny_demo, tmp_path_factory):
    """Predictions for the val list (all 8 classes' scores per video), from the checkpoint."""
    out = tmp_path_factory.mktemp('predict_list') / 'preds.json'
    result = _predict(
        tiny_demo['val_list_videos'], '--data-prefix', tiny_demo['videos_prefix'],
        '--checkpoint', str(best), '--topk', '8', '--out', str(out),
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(out.read_text())


def test_checkpoint_carries_class_names_and_config(best, tiny_demo):
    meta = torch.load(best, map_location='cpu', weights_only=False)['meta']
    assert list(meta['dataset_meta']['classes']) == tiny_demo['classes']
    assert 'test_dataloader' in meta['cfg']


def test_one_video_prints_its_class_name_without_config(best, tiny_demo, tmp_path):
    video = _val_videos(tiny_demo)[0]
    out = tmp_path / 'one.json'
    result = run_tool(
        'tools/predict.py', video, '--checkpoint', str(best), '--topk', '3', '--out', str(out),
        cwd=REPO, fresh=True,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    row = json.loads(out.read_text())[0]
    top_name = row['topk'][0][0]
    assert top_name in tiny_demo['classes']
    assert top_name in result.stdout.split('top classes', 1)[1]


def test_list_predictions_equal_test_tool(best, listed, tiny_demo, tmp_path):
    dump = tmp_path / 'test_preds.pkl'
    tested = run_tool(
        'tools/test.py', str(tiny_demo['config']), str(best), '--work-dir', str(tmp_path / 't'),
        '--dump', str(dump), cwd=REPO,
    )  # fmt: skip
    assert tested.returncode == 0, tested.stderr[-3000:]
    rows = listed
    with open(dump, 'rb') as f:
        dumped = pickle.load(f)
    assert [r['path'] for r in rows] == _val_videos(tiny_demo)
    classes = tiny_demo['classes']
    for row, sample in zip(rows, dumped):
        scores = dict(row['topk'])
        predicted = torch.tensor([scores[name] for name in classes])
        torch.testing.assert_close(predicted, sample['pred_score'].float(), atol=2e-5, rtol=0)


def test_timeline_follows_the_class_change(best, listed, tiny_demo, tmp_path):
    videos = _val_videos(tiny_demo)
    predicted = {row['path']: row['topk'][0][0] for row in listed}
    first = videos[0]
    second = next(v for v in videos if predicted[v] != predicted[first])  # another class
    # Lossless (FFV1) so each window holds exactly the frames of its source video.
    decord = import_decord()
    frames = [decord.VideoReader(v).get_batch(list(range(12))).asnumpy() for v in (first, second)]
    long_video = str(tmp_path / 'long.avi')
    writer = cv2.VideoWriter(long_video, cv2.VideoWriter_fourcc(*'FFV1'), 12, (64, 64))
    for frame in np.concatenate([frames[0], frames[0], frames[1], frames[1]]):
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()

    out = tmp_path / 'timeline.csv'
    result = _predict(long_video, '--checkpoint', str(best), '--window', '1', '--stride', '1',
                      '--out', str(out))  # fmt: skip
    assert result.returncode == 0, result.stderr[-3000:]
    lines = out.read_text().splitlines()
    assert lines[0] == 'start,end,top_class,score'
    tops = [line.split(',')[2] for line in lines[1:]]
    assert tops == [predicted[first]] * 2 + [predicted[second]] * 2
    assert cv2.imread(str(out.with_suffix('.png'))) is not None


def test_bad_videos_are_listed_and_the_rest_predicted(best, tiny_demo, tmp_path):
    folder = tmp_path / 'mixed'
    folder.mkdir()
    good = _val_videos(tiny_demo)[:2]
    for i, video in enumerate(good):
        (folder / f'good{i}.mp4').write_bytes(open(video, 'rb').read())
    (folder / 'broken.mp4').write_bytes(b'garbage' * 200)
    (folder / 'empty.avi').write_bytes(b'')
    out = tmp_path / 'mixed.csv'
    result = _predict(str(folder), '--checkpoint', str(best), '--out', str(out))
    assert result.returncode == 1
    assert '2 video(s) failed' in result.stderr
    assert 'broken.mp4' in result.stderr and 'empty (0 bytes)' in result.stderr
    rows = out.read_text().splitlines()
    assert rows[0].startswith('path,class_1,score_1')
    assert sorted(r.split(',')[0].rsplit('/', 1)[1] for r in rows[1:]) == ['good0.mp4', 'good1.mp4']


def test_checkpoint_without_config_asks_for_one(best, tiny_demo, tmp_path):
    bare = tmp_path / 'bare.pth'
    state = torch.load(best, map_location='cpu', weights_only=False)['state_dict']
    torch.save({'state_dict': state}, bare)
    video = _val_videos(tiny_demo)[0]
    result = _predict(video, '--checkpoint', str(bare))
    assert result.returncode != 0
    assert 'class names nor a config' in result.stderr and '--config' in result.stderr
    result = _predict(video, '--checkpoint', str(bare), '--config', str(tiny_demo['config']))
    assert result.returncode == 0, result.stderr[-3000:]
