"""Mistakes ActionRunner reports before training: optimizer values, labels beyond the head."""

import pytest
from test_runner_resume import runner_kwargs

from mmaction_ft.datasets import VideoDataset
from mmaction_ft.datasets.annotation import AnnotationError
from mmaction_ft.engine import ActionRunner


@pytest.mark.parametrize('key, value', [('lr', '0.01'), ('momentum', '0.9'), ('lr', True)])
def test_non_numeric_optimizer_value_names_the_key(tmp_path, key, value):
    kwargs = runner_kwargs(tmp_path, max_epochs=1)
    kwargs['optim_wrapper']['optimizer'][key] = value
    with pytest.raises(TypeError, match=rf'optim_wrapper\.optimizer\.{key} must be a number'):
        ActionRunner(**kwargs)


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
