"""dataset_labels / label_counts: labels read from annotations, single- and multi-label."""

import numpy as np
import pytest
import torch
from mmengine.dataset import ConcatDataset

from mmaction_ft.datasets import VideoDataset
from mmaction_ft.engine.dataset_labels import class_names, dataset_labels, label_counts


def test_single_and_multi_label_lists_through_a_wrapper(tmp_path):
    single = tmp_path / 'single.txt'
    single.write_text('a.mp4 2\nb.mp4 0\n')
    multi = tmp_path / 'multi.txt'
    multi.write_text('c.mp4 0 1\nd.mp4 2\n')
    datasets = [
        VideoDataset(ann_file=str(single), pipeline=[]),
        # get_data_info gives a multi-label sample as a float one-hot tensor.
        VideoDataset(ann_file=str(multi), pipeline=[], multi_class=True, num_classes=3),
    ]
    labels = dataset_labels(ConcatDataset(datasets))
    assert labels == [(2,), (0,), (0, 1), (2,)]
    assert label_counts(labels, 4).tolist() == [2, 1, 2, 0]
    with pytest.raises(ValueError, match='label 2 is out of range for num_classes=2'):
        label_counts(labels, 2)


def test_labels_of_other_forms_and_refusals():
    class Infos:
        metainfo = dict(classes=('x', 'y'))

        def __init__(self, labels):
            self.labels = labels

        def __len__(self):
            return len(self.labels)

        def get_data_info(self, idx):
            return dict(label=self.labels[idx])

    labels = [np.int64(1), torch.tensor(0), [0, 1], torch.tensor([1])]
    assert dataset_labels(Infos(labels)) == [(1,), (0,), (0, 1), (1,)]
    assert class_names(Infos([]), 2) == ['x', 'y']
    assert class_names(Infos([]), 3) == ['class 0', 'class 1', 'class 2']
    with pytest.raises(ValueError, match=r'sample 1 of Infos has label -1'):
        dataset_labels(Infos([0, -1]))
    with pytest.raises(TypeError, match='list.*no get_data_info'):
        dataset_labels([1, 2])
