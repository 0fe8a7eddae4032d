"""class_weight='auto' filled by ClassWeightHook, which ActionRunner adds by itself; trained with
ClassBalancedSampler."""

import uuid

import pytest
import torch
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from torch import nn
from torch.utils.data import Dataset

from mmaction_ft.engine import ActionRunner
from mmaction_ft.engine.class_weight_hook import ClassWeightHook, auto_class_weight_losses
from mmaction_ft.models.losses import CrossEntropyLoss

LABELS = [0] * 6 + [1] * 2  # class 'c' has no sample


class LabelledDataset(Dataset):
    metainfo = dict(classes=('a', 'b', 'c'))

    def __len__(self) -> int:
        return len(LABELS)

    def get_data_info(self, idx: int) -> dict:
        return dict(label=LABELS[idx])

    def __getitem__(self, idx: int) -> dict:
        generator = torch.Generator().manual_seed(idx)
        return dict(inputs=torch.randn(4, generator=generator), label=LABELS[idx])


class Head(nn.Module):
    def __init__(self, loss_cls: nn.Module) -> None:
        super().__init__()
        self.num_classes = 3
        self.fc_cls = nn.Linear(4, 3)
        self.loss_cls = loss_cls


class TinyModel(BaseModel):
    def __init__(self, loss_cls: nn.Module) -> None:
        super().__init__()
        self.cls_head = Head(loss_cls)

    def forward(self, inputs, label=None, mode='tensor'):
        scores = self.cls_head.fc_cls(inputs)
        if mode == 'loss':
            return dict(loss=self.cls_head.loss_cls(scores, label))
        return scores


class WeightsAtFirstStep(Hook):
    priority = 'LOWEST'

    def before_train_iter(self, runner, batch_idx, data_batch=None) -> None:
        if batch_idx == 0 and runner.epoch == 0:
            self.weights = runner.model.cls_head.loss_cls.class_weight.clone()


def make_runner(work_dir, loss_cls, **extra) -> ActionRunner:
    return ActionRunner(
        model=TinyModel(loss_cls),
        work_dir=str(work_dir),
        experiment_name=f'class-weight-{uuid.uuid4().hex}',
        train_dataloader=dict(
            dataset=LabelledDataset(),
            batch_size=4,
            sampler=dict(type='ClassBalancedSampler'),
            collate_fn=dict(type='default_collate'),
        ),
        train_cfg=dict(by_epoch=True, max_epochs=2),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=10)),
        randomness=dict(seed=0),
        default_scope='mmaction_ft',  # as every config sets it: finds ClassBalancedSampler
        **extra,
    )


def test_runner_fills_auto_weights_before_the_first_step_and_warns_about_empty_classes(tmp_path):
    probe = WeightsAtFirstStep()
    runner = make_runner(tmp_path, CrossEntropyLoss(class_weight='auto'), custom_hooks=[probe])
    runner.train()
    # N=8, C=3, n=(6, 2, 0): 8/18, 8/6, 0.
    expected = torch.tensor([8 / 18, 8 / 6, 0.0])
    assert torch.allclose(probe.weights, expected)
    assert sum(isinstance(h, ClassWeightHook) for h in runner.hooks) == 1
    log = open(runner.logger.log_file).read()
    assert 'found no training sample of 1 class(es) in the LabelledDataset: c;' in log
    assert 'a: n=6 w=0.4444; b: n=2 w=1.333; c: n=0 w=0' in log
    # The balanced sampler was reshuffled each epoch by mmengine's DistSamplerSeedHook.
    assert runner.train_dataloader.sampler.epoch == 1


def test_no_hook_without_auto_and_the_hook_alone_fills_a_plain_runner(tmp_path):
    runner = make_runner(tmp_path / 'fixed', CrossEntropyLoss(class_weight=[1.0, 2.0, 3.0]))
    runner.train()
    assert not any(isinstance(h, ClassWeightHook) for h in runner.hooks)
    assert list(auto_class_weight_losses(runner.model)) == []

    # The hook on its own, as a custom hook of another runner: it reads the runner's model and
    # train_dataloader only.
    model = TinyModel(CrossEntropyLoss(class_weight='auto'))
    assert [name for name, _, _ in auto_class_weight_losses(model)] == ['cls_head.loss_cls']

    class Loader:
        dataset = LabelledDataset()

    class FakeRunner:
        pass

    fake = FakeRunner()
    fake.model, fake.train_dataloader = model, Loader()
    ClassWeightHook().before_train(fake)
    assert torch.allclose(model.cls_head.loss_cls.class_weight, torch.tensor([8 / 18, 8 / 6, 0]))


def test_a_label_beyond_the_head_names_the_loss(tmp_path):
    model = TinyModel(CrossEntropyLoss(class_weight='auto'))
    model.cls_head.num_classes = 1

    class Loader:
        dataset = LabelledDataset()

    class FakeRunner:
        pass

    fake = FakeRunner()
    fake.model, fake.train_dataloader = model, Loader()
    with pytest.raises(ValueError, match=r'cls_head\.loss_cls: label 1 is out of range'):
        ClassWeightHook().before_train(fake)
