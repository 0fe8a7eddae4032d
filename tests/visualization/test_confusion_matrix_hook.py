import glob
from types import SimpleNamespace

import cv2
import pytest
import torch
from mmengine.registry import DefaultScope
from mmengine.visualization import Visualizer

from mmaction_ft.registry import HOOKS
from mmaction_ft.structures import ActionDataSample


def sample(scores, label):
    return ActionDataSample().set_pred_score(torch.tensor(scores)).set_gt_label(label)


def test_each_validation_draws_its_confusion_matrix_into_the_visualizer(tmp_path):
    visualizer = Visualizer(
        name=f'cm-{tmp_path.name}',
        vis_backends=[dict(type='LocalVisBackend')],
        save_dir=str(tmp_path),
    )
    dataset = SimpleNamespace(metainfo={'classes': ('walk', 'run', 'sit')})
    runner = SimpleNamespace(
        visualizer=visualizer, val_dataloader=SimpleNamespace(dataset=dataset), epoch=3
    )
    with DefaultScope.overwrite_default_scope('mmaction_ft'):
        hook = HOOKS.build(dict(type='ConfusionMatrixHook'))
    hook.before_val_epoch(runner)
    hook.after_val_iter(runner, 0, outputs=[sample([0.7, 0.2, 0.1], 0), sample([0.6, 0.3, 0.1], 1)])
    hook.after_val_iter(runner, 1, outputs=[sample([0.1, 0.2, 0.7], 2)])
    assert hook._labels == [0, 1, 2]
    hook.after_val_epoch(runner)

    written = glob.glob(str(tmp_path / 'vis_data' / 'vis_image' / 'val_confusion_matrix_3.png'))
    assert written, list(tmp_path.rglob('*'))
    image = cv2.imread(written[0])
    assert image.shape[0] > 300 and image.shape[1] > 300 and image.std() > 20


def test_interval_must_be_positive():
    from mmaction_ft.visualization import ConfusionMatrixHook

    with pytest.raises(ValueError, match='interval must be an int >= 1, got 0'):
        ConfusionMatrixHook(interval=0)
