"""The ``optim_wrapper`` settings of MMAction2's transformer configs (mmengine features) build
and train with our runner: gradient accumulation with clipping, and the MViT configs' norm / bias
decay multipliers of mmengine's default constructor."""

import uuid

import torch
import torch.nn.functional as F
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.optim import build_optim_wrapper
from torch import nn
from torch.utils.data import Dataset

from mmaction_ft.engine import ActionRunner


class TinyDataset(Dataset):
    def __len__(self) -> int:
        return 8

    def __getitem__(self, index: int) -> dict:
        generator = torch.Generator().manual_seed(index)
        return dict(inputs=torch.randn(4, generator=generator), label=index % 3)


class TinyModel(BaseModel):
    def __init__(self) -> None:
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(4, 8), nn.LayerNorm(8))
        self.cls_head = nn.Module()
        self.cls_head.fc_cls = nn.Linear(8, 3)

    def forward(self, inputs, label=None, mode='tensor'):
        scores = self.cls_head.fc_cls(self.backbone(inputs))
        if mode == 'loss':
            return dict(loss=F.cross_entropy(scores, label))
        return scores


class RecordWeights(Hook):
    def __init__(self) -> None:
        self.weights = []

    def before_train(self, runner) -> None:
        self.weights.append(runner.model.cls_head.fc_cls.weight.detach().clone())

    def after_train_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        self.weights.append(runner.model.cls_head.fc_cls.weight.detach().clone())


def test_accumulative_counts_steps_every_second_iteration(tmp_path):
    record = RecordWeights()
    runner = ActionRunner(
        model=TinyModel(),
        work_dir=str(tmp_path),
        experiment_name=f'accumulate-{uuid.uuid4().hex}',
        train_dataloader=dict(
            dataset=TinyDataset(),
            batch_size=4,
            sampler=dict(type='DefaultSampler', shuffle=False),
            collate_fn=dict(type='default_collate'),
        ),
        train_cfg=dict(by_epoch=False, max_iters=2),
        optim_wrapper=dict(
            optimizer=dict(type='SGD', lr=0.1),
            accumulative_counts=2,
            clip_grad=dict(max_norm=1, norm_type=2),
        ),
        default_hooks=dict(checkpoint=None),
        custom_hooks=[record],
        randomness=dict(seed=0),
        # Configs set it; without it the runner makes 'mmengine' the scope of later builds.
        default_scope='mmaction_ft',
    )
    runner.train()
    before, after_iter1, after_iter2 = record.weights
    assert torch.equal(before, after_iter1)  # gradients accumulated, no step yet
    assert not torch.equal(after_iter1, after_iter2)
    assert runner.optim_wrapper._accumulative_counts == 2
    assert runner.optim_wrapper.clip_grad_kwargs == dict(max_norm=1, norm_type=2)


def test_mvit_norm_and_bias_decay_multipliers_use_mmengines_default_constructor():
    model = TinyModel()
    optim_wrapper = build_optim_wrapper(
        model,
        dict(
            optimizer=dict(type='AdamW', lr=1e-3, betas=(0.9, 0.999), weight_decay=0.05),
            paramwise_cfg=dict(norm_decay_mult=0.0, bias_decay_mult=0.0),
        ),
    )
    names = {id(p): n for n, p in model.named_parameters()}
    decay = {
        names[id(g['params'][0])]: g['weight_decay'] for g in optim_wrapper.optimizer.param_groups
    }
    assert decay == {
        'backbone.0.weight': 0.05,
        'backbone.0.bias': 0.0,
        'backbone.1.weight': 0.0,  # LayerNorm
        'backbone.1.bias': 0.0,
        'cls_head.fc_cls.weight': 0.05,
        'cls_head.fc_cls.bias': 0.0,
    }
