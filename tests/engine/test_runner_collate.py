"""The runners give a dataloader without ``collate_fn`` mmaction_ft's ``action_collate``."""

import pytest
import torch

from mmaction_ft.engine.flexible_runner import ActionFlexibleRunner
from mmaction_ft.engine.runner import ActionRunner, with_default_collate
from mmaction_ft.structures import ActionDataSample


class Clips(torch.utils.data.Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        inputs = torch.full((3, 3, 8, 8), i, dtype=torch.uint8)
        return dict(inputs=inputs, data_samples=ActionDataSample().set_gt_label(i))


def test_a_dataloader_without_collate_fn_gets_action_collate():
    assert with_default_collate(dict(batch_size=2))['collate_fn'] == dict(type='action_collate')
    assert with_default_collate(dict(collate_fn=None))['collate_fn'] == dict(type='action_collate')
    explicit = dict(batch_size=2, collate_fn=dict(type='pseudo_collate'))
    assert with_default_collate(explicit) == explicit


@pytest.mark.parametrize('runner', [ActionRunner, ActionFlexibleRunner])
@pytest.mark.parametrize('collate', [None, 'pseudo_collate'])
def test_the_runners_build_loaders_with_it(runner, collate):
    cfg = dict(dataset=Clips(), batch_size=4, sampler=dict(type='DefaultSampler', shuffle=False))
    if collate:
        cfg['collate_fn'] = dict(type=collate)
    batch = next(iter(runner.build_dataloader(cfg)))
    assert isinstance(batch['inputs'], list if collate else torch.Tensor)
