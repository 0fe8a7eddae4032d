"""A translated 0.x warmup runs in a real mmengine Runner: the scheduler is found in the registry,
converted with the real epoch length, and the LR of each iteration is 0.x's."""

import pytest
import torch
from mmengine.model import BaseModel
from mmengine.runner import Runner
from torch.utils.data import DataLoader

from mmaction_ft.config import translate_legacy

ITERS_PER_EPOCH = 3


class ToyModel(BaseModel):
    def __init__(self) -> None:
        super().__init__()
        self.weight = torch.nn.Parameter(torch.ones(1))

    def forward(self, inputs, data_samples=None, mode='loss'):
        return dict(loss=(self.weight * inputs).sum())


def test_warmup_by_epoch_in_a_runner(tmp_path):
    legacy = dict(
        optimizer=dict(type='SGD', lr=0.1),
        total_epochs=3,
        lr_config=dict(
            policy='step', step=[2], warmup='exp', warmup_iters=1, warmup_ratio=0.01,
            warmup_by_epoch=True,
        ),
    )  # fmt: skip
    cfg, _ = translate_legacy(legacy)
    runner = Runner(
        model=ToyModel(),
        work_dir=str(tmp_path),
        train_dataloader=DataLoader([dict(inputs=torch.ones(1))] * ITERS_PER_EPOCH, batch_size=1),
        optim_wrapper=cfg['optim_wrapper'],
        param_scheduler=cfg['param_scheduler'],
        train_cfg=cfg['train_cfg'],
        default_scope=cfg['default_scope'],
        default_hooks=dict(checkpoint=None, logger=None),
    )
    runner.train()
    lrs = [float(v) for v in runner.message_hub.get_scalar('train/lr').data[0]]
    # 0.x: 0.1 * 0.01 ** (1 - k / 3) during the first epoch (3 iterations), x0.1 from epoch 2
    warmup = [0.1 * 0.01 ** (1 - k / 3) for k in range(3)]
    assert lrs == pytest.approx(warmup + [0.1] * 3 + [0.01] * 3)
