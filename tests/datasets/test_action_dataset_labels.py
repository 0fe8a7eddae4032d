"""Labels checked against the head's class count, and empty lists, name the file and line."""

import pytest

from mmaction_ft.datasets import VideoDataset
from mmaction_ft.datasets.annotation import AnnotationError


def _dataset(tmp_path, text: str, **kwargs) -> VideoDataset:
    ann = tmp_path / 'train.txt'
    ann.write_text(text)
    return VideoDataset(ann_file=str(ann), pipeline=[], **kwargs)


def test_check_labels_names_file_line_and_source(tmp_path):
    dataset = _dataset(tmp_path, 'a.mp4 0\nb.mp4 7\n\nc.mp4 8\n')  # no num_classes: parses
    assert dataset.num_classes is None
    with pytest.raises(AnnotationError) as info:
        dataset.check_labels(8, 'model.cls_head.num_classes')
    message = str(info.value)
    assert message.startswith(f'{tmp_path / "train.txt"}:4: label 8 is out of range')
    assert 'num_classes=8 (from model.cls_head.num_classes)' in message


def test_check_labels_learns_num_classes(tmp_path):
    dataset = _dataset(tmp_path, 'a.mp4 0\nb.mp4 7\n')
    dataset.check_labels(8, 'model.cls_head.num_classes')
    assert dataset.num_classes == 8


def test_minus_one_in_a_training_list_is_an_error(tmp_path):
    with pytest.raises(AnnotationError, match=r'train.txt:2: labels are 0-based.*got -1'):
        _dataset(tmp_path, 'a.mp4 0\nb.mp4 -1\n')
    assert _dataset(tmp_path, 'a.mp4 -1\n', test_mode=True).get_data_info(0)['label'] == -1


@pytest.mark.parametrize('text', ['', '\n\n'])
def test_empty_list_names_the_file(tmp_path, text):
    with pytest.raises(ValueError, match=f'annotation list {tmp_path / "train.txt"} holds no'):
        _dataset(tmp_path, text)
