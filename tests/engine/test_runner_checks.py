"""Mistakes ActionRunner reports before training: labels beyond the head.

Config values (``lr='0.01'`` ...) are checked when the config is loaded:
tests/config/test_value_checks.py.
"""

import pytest
from test_runner_resume import runner_kwargs

from mmaction_ft.datasets import VideoDataset
from mmaction_ft.datasets.annotation import AnnotationError
from mmaction_ft.engine import ActionRunner


def test_label_beyond_head_fails_before_training(tmp_path):
    ann = tmp_path / 'train.txt'
    ann.write_text('a.mp4 0\nb.mp4 3\n')  # the tiny model's head has 3 classes
    kwargs = runner_kwargs(tmp_path, max_epochs=1)
    kwargs['train_dataloader']['dataset'] = VideoDataset(ann_file=str(ann), pipeline=[])
    kwargs['model'].cls_head.num_classes = 3  # as mmaction_ft's heads declare it
    runner = ActionRunner(**kwargs)
    with pytest.raises(AnnotationError, match=r'train\.txt:2: label 3 is out of range.*cls_head'):
        runner.train()
    assert runner.iter == 0  # not a single step was taken
