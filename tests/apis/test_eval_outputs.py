"""Per-class outputs of a test run: a hand-made 3-class case, exact file contents."""

import csv
import json

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from mmengine.config import Config
from mmengine.fileio import dump

from mmaction_ft.apis import eval_outputs_dump, write_eval_outputs, write_test_outputs

#            scores            label  argmax
SCORES = np.array(
    [
        [0.7, 0.2, 0.1],  #       0      0
        [0.1, 0.6, 0.3],  #       0      1   wrong
        [0.2, 0.5, 0.3],  #       1      1
        [0.1, 0.1, 0.8],  #       1      2   wrong, the more confident mistake
        [0.3, 0.3, 0.4],  #       2      2
    ],
    dtype=np.float32,
)
LABELS = [0, 0, 1, 1, 2]
PATHS = [f'videos/v{i}.mp4' for i in range(5)]
NAMES = ['jump', 'run', 'walk']


def _csv(path) -> list:
    with open(path, newline='') as f:
        return list(csv.reader(f))


def test_single_label_outputs_hand_computed(tmp_path):
    written = write_eval_outputs(
        SCORES, LABELS, PATHS, str(tmp_path), NAMES, metrics={'acc/top1': 0.6, 'note': 'x'}
    )
    assert sorted(p.rsplit('/', 1)[1] for p in written) == [
        'confused_pairs.csv',
        'confusion_matrix.csv',
        'confusion_matrix.png',
        'confusion_matrix_normalized.png',
        'metrics.json',
        'misclassified.csv',
        'per_class.csv',
    ]
    # Rows true, columns predicted: [[1, 1, 0], [0, 1, 1], [0, 0, 1]].
    assert _csv(tmp_path / 'confusion_matrix.csv') == [
        ['true \\ predicted', 'jump', 'run', 'walk'],
        ['jump', '1', '1', '0'],
        ['run', '0', '1', '1'],
        ['walk', '0', '0', '1'],
    ]
    assert _csv(tmp_path / 'per_class.csv') == [
        ['index', 'class', 'support', 'predicted', 'correct', 'accuracy', 'precision', 'recall'],
        ['0', 'jump', '2', '1', '1', '0.5', '1.0', '0.5'],
        ['1', 'run', '2', '2', '1', '0.5', '0.5', '0.5'],
        ['2', 'walk', '1', '2', '1', '1.0', '0.5', '1.0'],
    ]
    assert _csv(tmp_path / 'confused_pairs.csv') == [
        ['true', 'predicted', 'count', 'share'],
        ['jump', 'run', '1', '0.5'],
        ['run', 'walk', '1', '0.5'],
    ]
    assert _csv(tmp_path / 'misclassified.csv') == [
        ['index', 'path', 'true', 'predicted', 'predicted_score', 'true_score'],
        ['3', 'videos/v3.mp4', 'run', 'walk', '0.8', '0.1'],
        ['1', 'videos/v1.mp4', 'jump', 'run', '0.6', '0.1'],
    ]
    metrics = json.loads((tmp_path / 'metrics.json').read_text())
    assert metrics == {
        'num_videos': 5,
        'num_classes': 3,
        'top1': pytest.approx(3 / 5),
        'mean1': pytest.approx((0.5 + 0.5 + 1) / 3),
        'num_misclassified': 2,
        'test_metrics': {'acc/top1': 0.6},
    }
    for name in ('confusion_matrix.png', 'confusion_matrix_normalized.png'):
        image = plt.imread(str(tmp_path / name))[..., :3]
        assert min(image.shape[:2]) >= 400 and image.std() > 0.1


def test_class_names_default_to_indices(tmp_path):
    write_eval_outputs(SCORES, LABELS, PATHS, str(tmp_path))
    assert _csv(tmp_path / 'confusion_matrix.csv')[0] == [
        'true \\ predicted',
        'class 0',
        'class 1',
        'class 2',
    ]


def test_multi_label_writes_per_class_ap_instead(tmp_path):
    onehot = np.array([[1, 0, 0], [0, 1, 0], [1, 1, 0], [0, 1, 0], [1, 0, 0]], dtype=np.float32)
    written = write_eval_outputs(SCORES, list(onehot), PATHS, str(tmp_path), NAMES)
    assert sorted(p.rsplit('/', 1)[1] for p in written) == ['metrics.json', 'per_class_ap.csv']
    # jump ranked 0.7 (+) 0.3 (+) 0.2 (+) 0.1 0.1: AP 1. run ranked 0.6 (+) 0.5 (+) 0.3 0.2
    # 0.1 (+): AP = 1/3 * 1 + 1/3 * 1 + 1/3 * 3/5. walk has no positive: empty, not averaged.
    assert _csv(tmp_path / 'per_class_ap.csv') == [
        ['index', 'class', 'positives', 'ap'],
        ['0', 'jump', '3', '1.0'],
        ['1', 'run', '3', str(round(2 / 3 + 1 / 5, 6))],
        ['2', 'walk', '0', ''],
    ]
    metrics = json.loads((tmp_path / 'metrics.json').read_text())
    assert metrics['mean_average_precision'] == pytest.approx((1 + 2 / 3 + 1 / 5) / 2)


@pytest.mark.parametrize(
    'kwargs, error',
    [
        (dict(labels=[0, 1]), '5 score rows, 2 labels and 5 paths'),
        (dict(class_names=['a', 'b']), '2 class names for 3 scores'),
        (dict(labels=[0, 0, 1, 3, 2]), r'class indices in \[0, 3\), got 0 .. 3'),
    ],
)
def test_writer_refuses_inconsistent_inputs(tmp_path, kwargs, error):
    args = dict(scores=SCORES, labels=LABELS, paths=PATHS, out_dir=str(tmp_path))
    with pytest.raises(ValueError, match=error):
        write_eval_outputs(**{**args, **kwargs})


# ----------------------------------------------------------------- from a test run's dump
def _test_cfg(tmp_path, label_map=True, shuffle=False) -> Config:
    ann_file = tmp_path / 'test_list.txt'
    ann_file.write_text(''.join(f'v{i}.mp4 {label}\n' for i, label in enumerate(LABELS)))
    dataset = dict(
        type='VideoDataset',
        ann_file=str(ann_file),
        data_prefix=dict(video=str(tmp_path / 'videos')),
        pipeline=[],
        test_mode=True,
    )
    if label_map:
        (tmp_path / 'classes.txt').write_text('\n'.join(NAMES) + '\n')
        dataset['label_map'] = str(tmp_path / 'classes.txt')
    sampler = dict(type='DefaultSampler', shuffle=shuffle)
    return Config(dict(test_dataloader=dict(dataset=dataset, sampler=sampler)))


def _dump(path, order=range(5)) -> str:
    rows = [
        dict(pred_score=torch.from_numpy(SCORES[i]), gt_label=torch.tensor([LABELS[i]]))
        for i in order
    ]
    dump(rows, str(path))
    return str(path)


def test_test_outputs_name_each_video_by_its_line_of_the_list(tmp_path):
    cfg = _test_cfg(tmp_path)
    out_dir = tmp_path / 'out'
    pkl = eval_outputs_dump(cfg, str(out_dir))
    assert pkl == str(out_dir / 'predictions.pkl') and out_dir.is_dir()
    write_test_outputs(cfg, _dump(pkl), str(out_dir), {'acc/top1': 0.6})
    rows = _csv(out_dir / 'misclassified.csv')
    assert [row[1:4] for row in rows[1:]] == [
        [str(tmp_path / 'videos' / 'v3.mp4'), 'run', 'walk'],
        [str(tmp_path / 'videos' / 'v1.mp4'), 'jump', 'run'],
    ]
    assert _csv(out_dir / 'per_class.csv')[1][1] == 'jump'  # from the label_map


def test_dump_flag_is_reused(tmp_path):
    pkl = str(tmp_path / 'mine.pkl')
    assert eval_outputs_dump(_test_cfg(tmp_path), str(tmp_path / 'out'), pkl) == pkl


def test_class_names_from_the_checkpoint_when_the_dataset_has_none(tmp_path):
    cfg = _test_cfg(tmp_path, label_map=False)
    checkpoint = tmp_path / 'ckpt.pth'
    torch.save(
        dict(state_dict={}, meta=dict(dataset_meta=dict(classes=['x', 'y', 'z']))), checkpoint
    )
    out_dir = tmp_path / 'out'
    write_test_outputs(cfg, _dump(tmp_path / 'p.pkl'), str(out_dir), checkpoint=str(checkpoint))
    assert [row[1] for row in _csv(out_dir / 'per_class.csv')[1:]] == ['x', 'y', 'z']
    write_test_outputs(cfg, _dump(tmp_path / 'p.pkl'), str(out_dir))
    assert [row[1] for row in _csv(out_dir / 'per_class.csv')[1:]] == [
        'class 0',
        'class 1',
        'class 2',
    ]


def test_predictions_out_of_list_order_are_refused(tmp_path):
    cfg = _test_cfg(tmp_path)
    pkl = _dump(tmp_path / 'p.pkl', order=[1, 2, 0, 3, 4])  # labels 0 1 0 1 2 vs 0 0 1 1 2
    with pytest.raises(ValueError, match=r'prediction 1 has label 1 but video 1 of .*test_list'):
        write_test_outputs(cfg, pkl, str(tmp_path / 'out'))
    with pytest.raises(ValueError, match=r'predicted 4 videos but .*test_list.txt .* has 5'):
        write_test_outputs(cfg, _dump(tmp_path / 'p.pkl', order=range(4)), str(tmp_path))


def test_shuffling_test_sampler_is_refused(tmp_path):
    with pytest.raises(ValueError, match='set test_dataloader.sampler.shuffle=False'):
        eval_outputs_dump(_test_cfg(tmp_path, shuffle=True), str(tmp_path / 'out'))
