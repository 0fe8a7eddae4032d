"""ActionDataSample between processes: small tensors inside the pickle, the rest as torch sends
tensors."""

import copy
import pickle
from multiprocessing.reduction import ForkingPickler

import torch

from mmaction_ft.structures import ActionDataSample


def _through_workers_pickler(sample):
    return pickle.loads(ForkingPickler.dumps(sample))


def test_small_tensors_travel_by_value_and_come_back_equal():
    sample = ActionDataSample(metainfo=dict(img_shape=(224, 224), num_clips=3))
    sample.set_gt_label(7).set_pred_score(torch.linspace(0, 1, 400))
    sample.set_field(torch.tensor([[True, False]]), 'mask')
    back = _through_workers_pickler(sample)
    assert type(back) is ActionDataSample
    assert back.metainfo == sample.metainfo and back.img_shape == (224, 224)
    for key in ('gt_label', 'pred_score', 'mask'):
        got, want = back.get(key), sample.get(key)
        assert got.dtype == want.dtype and torch.equal(got, want), key
        assert not got.is_shared(), key  # no shared-memory segment: it was inside the pickle
    back.gt_label[0] = 1  # writable, and its own memory
    assert int(sample.gt_label) == 7


def test_large_or_numpyless_tensors_are_left_to_torch():
    sample = ActionDataSample()
    sample.set_field(torch.zeros(5000), 'features')  # over the by-value size
    sample.set_field(torch.ones(3, dtype=torch.bfloat16), 'half')  # numpy has no bfloat16
    back = _through_workers_pickler(sample)
    assert back.features.is_shared() and back.half.is_shared()
    assert back.half.dtype == torch.bfloat16 and torch.equal(back.half, sample.half)


def test_other_picklers_and_copies_are_unchanged():
    sample = ActionDataSample(metainfo=dict(img_shape=(8, 8))).set_gt_label(3)
    for back in (pickle.loads(pickle.dumps(sample)), copy.deepcopy(sample)):
        assert torch.equal(back.gt_label, sample.gt_label) and back.img_shape == (8, 8)
    # The reducer is registered for the workers' pickler only.
    assert ActionDataSample not in pickle.dispatch_table
    assert ActionDataSample in ForkingPickler._extra_reducers
