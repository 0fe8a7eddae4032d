"""action_collate: one stacked inputs tensor per batch (the runners' default: tests/engine)."""

import torch
from mmengine.dataset import pseudo_collate
from torch.utils.data import DataLoader, Dataset

from mmaction_ft.datasets.collate import action_collate
from mmaction_ft.structures import ActionDataSample


class Clips(Dataset):
    """Packed samples as PackActionInputs gives them: [num_clips, C, H, W] uint8 and a label."""

    def __init__(self, sizes=(8, 8, 8, 8)):
        self.sizes = sizes

    def __len__(self):
        return len(self.sizes)

    def __getitem__(self, i):
        size = self.sizes[i]
        inputs = torch.full((3, 3, size, size), i, dtype=torch.uint8)
        sample = ActionDataSample(metainfo=dict(img_shape=(size, size))).set_gt_label(i % 2)
        return dict(inputs=inputs, data_samples=sample)


def test_inputs_of_one_shape_become_one_tensor():
    data = [Clips()[i] for i in range(4)]
    batch = action_collate(data)
    assert isinstance(batch['inputs'], torch.Tensor)
    assert torch.equal(batch['inputs'], torch.stack([d['inputs'] for d in data]))
    assert batch['data_samples'] == [d['data_samples'] for d in data]  # a list, as before
    # What pseudo_collate gives, apart from the stacking.
    assert torch.equal(torch.stack(pseudo_collate(data)['inputs']), batch['inputs'])


def test_the_main_process_stacks_without_torch_threads(monkeypatch):
    # num_workers=0: the copy runs on numpy (no OpenMP threads left spinning); a dtype numpy
    # lacks (bfloat16) goes through torch.stack.
    calls = []
    real_stack = torch.stack
    monkeypatch.setattr(torch, 'stack', lambda *a, **k: calls.append(1) or real_stack(*a, **k))
    data = [Clips()[i] for i in range(4)]
    batch = action_collate(data)
    assert not calls and batch['inputs'].dtype == torch.uint8
    assert torch.equal(batch['inputs'], real_stack([d['inputs'] for d in data]))
    low = [dict(d, inputs=d['inputs'].to(torch.bfloat16)) for d in data]
    assert action_collate(low)['inputs'].dtype == torch.bfloat16 and calls == [1]


def test_inputs_that_differ_stay_a_list():
    data = [Clips(sizes=(8, 6))[i] for i in range(2)]
    batch = action_collate(data)
    assert isinstance(batch['inputs'], list) and len(batch['inputs']) == 2
    mixed_dtype = [data[0], dict(data[1], inputs=torch.zeros(3, 3, 8, 8, dtype=torch.float32))]
    assert isinstance(action_collate(mixed_dtype)['inputs'], list)
    assert action_collate([(1, 2), (3, 4)]) == pseudo_collate([(1, 2), (3, 4)])  # not a dict


def test_a_worker_sends_one_shared_tensor_and_labels_by_value():
    loader = DataLoader(Clips(), batch_size=4, num_workers=1, collate_fn=action_collate)
    batch = next(iter(loader))
    assert isinstance(batch['inputs'], torch.Tensor) and batch['inputs'].is_shared()
    assert [int(x[0, 0, 0, 0]) for x in batch['inputs']] == [0, 1, 2, 3]
    labels = [s.gt_label for s in batch['data_samples']]
    assert [int(label) for label in labels] == [0, 1, 0, 1]
    assert not any(label.is_shared() for label in labels)  # inside the pickle, no segment each
    assert batch['data_samples'][2].img_shape == (8, 8)
