"""The ``finetune`` config key: freezing presets, the head's lr multiplier, what the log shows."""

import pytest
import torch
import torch.nn.functional as F
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from test_runner_resume import TinyModel, runner_kwargs
from torch import nn
from torch.utils.data import Dataset

from mmaction_ft.engine import ActionRunner
from mmaction_ft.engine.finetune_presets import check_finetune_cfg, merge_head_lr_mult
from mmaction_ft.models.backbones.resnet import ResNet


def _runner(work_dir, finetune, max_epochs=2, **extra) -> ActionRunner:
    kwargs = runner_kwargs(work_dir, max_epochs=max_epochs, **extra)
    kwargs['optim_wrapper'] = dict(
        optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=0.1)
    )
    kwargs['cfg'] = dict(finetune=finetune)
    return ActionRunner(**kwargs)


def _log(runner) -> str:
    with open(runner.logger.log_file) as f:
        return f.read()


def _optimized(runner) -> set:
    groups = runner.optim_wrapper.optimizer.param_groups
    return {id(p) for group in groups for p in group['params']}


@pytest.fixture()
def source(tmp_path):
    """A whole-model checkpoint with non-trivial BN statistics (as a model-zoo file has)."""
    model = TinyModel()
    model.backbone[1].running_mean.uniform_(-1, 1)
    model.backbone[1].running_var.uniform_(0.5, 2)
    model.backbone[1].num_batches_tracked.fill_(7)
    path = tmp_path / 'source.pth'
    torch.save({'state_dict': model.state_dict()}, path)
    return path, {k: v.clone() for k, v in model.state_dict().items()}


def test_linear_probe_leaves_every_backbone_tensor_bit_identical(tmp_path, source):
    path, weights = source
    runner = _runner(
        tmp_path / 'probe', dict(preset='linear_probe'), load_from=str(path), max_epochs=2
    )
    runner.train()

    trained = torch.load(tmp_path / 'probe' / 'epoch_2.pth', weights_only=False)['state_dict']
    backbone = [k for k in weights if k.startswith('backbone.')]
    assert len(backbone) == 7  # Linear weight, bias; BN weight, bias, mean, var, count
    for key in backbone:
        assert torch.equal(trained[key], weights[key]), key
    for key in ('cls_head.fc_cls.weight', 'cls_head.fc_cls.bias'):
        assert not torch.equal(trained[key], weights[key]), key
    # Left out of the optimizer: neither weight decay nor momentum can reach them.
    model = runner.model
    assert _optimized(runner) == {id(p) for p in model.cls_head.parameters()}
    assert all(not p.requires_grad for p in model.backbone.parameters())

    log = _log(runner)
    assert "finetune preset 'linear_probe': backbone (Sequential) frozen" in log
    assert '4 frozen tensors left out of the optimizer' in log
    assert (
        'backbone: trainable 0 parameters (0 tensors), frozen 56 parameters (4 tensors), '
        'norm layers in eval mode 1/1'
    ) in log
    assert 'cls_head: trainable 27 parameters (2 tensors), frozen 0 parameters' in log
    assert 'lr 0.1, weight_decay 0.1: 1 group, 2 tensors, 27 parameters (cls_head)' in log


def test_without_a_preset_the_same_run_changes_the_backbone(tmp_path, source):
    # The control for the test above: the backbone would move (weights and BN statistics).
    path, weights = source
    kwargs = runner_kwargs(tmp_path / 'plain', max_epochs=2, load_from=str(path))
    ActionRunner(**kwargs).train()
    trained = torch.load(tmp_path / 'plain' / 'epoch_2.pth', weights_only=False)['state_dict']
    for key in ('backbone.0.weight', 'backbone.1.running_mean', 'backbone.1.num_batches_tracked'):
        assert not torch.equal(trained[key], weights[key]), key


class ImageDataset(Dataset):
    def __len__(self) -> int:
        return 4

    def __getitem__(self, index: int) -> dict:
        generator = torch.Generator().manual_seed(index)
        return dict(inputs=torch.randn(3, 32, 32, generator=generator), label=index % 3)


class ResNetModel(BaseModel):
    def __init__(self, frozen_stages: int = -1) -> None:
        super().__init__()
        self.backbone = ResNet(depth=18, frozen_stages=frozen_stages)
        self.cls_head = nn.Module()
        self.cls_head.fc_cls = nn.Linear(512, 3)

    def forward(self, inputs, label=None, mode='tensor'):
        scores = self.cls_head.fc_cls(self.backbone(inputs).mean(dim=(2, 3)))  # [N, 3]
        if mode == 'loss':
            return dict(loss=F.cross_entropy(scores, label))
        return scores


class WeightsBeforeTrain(Hook):
    """The model's tensors once initialised and loaded (before_train runs after both)."""

    def before_train(self, runner) -> None:
        self.weights = {k: v.clone() for k, v in runner.model.state_dict().items()}


def _resnet_runner(work_dir, finetune, frozen_stages=-1, hooks=(), **optim) -> ActionRunner:
    kwargs = runner_kwargs(work_dir, max_epochs=1, custom_hooks=list(hooks))
    kwargs['model'] = ResNetModel(frozen_stages)
    kwargs['train_dataloader']['dataset'] = ImageDataset()
    kwargs['optim_wrapper'] = dict(
        optimizer=dict(type='SGD', lr=0.1, momentum=0.9, weight_decay=1e-4), **optim
    )
    kwargs['cfg'] = dict(finetune=finetune)
    return ActionRunner(**kwargs)


def test_partial_freezes_exactly_the_stem_and_the_first_stages(tmp_path):
    snapshot = WeightsBeforeTrain()
    runner = _resnet_runner(tmp_path, dict(preset='partial', frozen_stages=2), hooks=[snapshot])
    runner.train()
    before = snapshot.weights

    frozen = ('backbone.conv1.', 'backbone.layer1.', 'backbone.layer2.')
    for name, param in runner.model.named_parameters():
        assert param.requires_grad == (not name.startswith(frozen)), name
    assert _optimized(runner) == {id(p) for p in runner.model.parameters() if p.requires_grad}
    after = runner.model.state_dict()
    for key in before:  # BN statistics of the frozen stages included
        assert torch.equal(after[key], before[key]) == key.startswith(frozen), key
    assert 'ResNet frozen_stages=2 (the stem and stages 1..2)' in _log(runner)


def test_head_lr_mult_shows_in_the_parameter_groups_and_the_log(tmp_path):
    runner = _resnet_runner(
        tmp_path,
        dict(preset='full', head_lr_mult=10.0),
        paramwise_cfg=dict(norm_decay_mult=0.0),  # the user's own paramwise_cfg is kept
    )
    runner.train()
    optimizer = runner.optim_wrapper.optimizer
    head = {id(p) for p in runner.model.cls_head.parameters()}
    for group in optimizer.param_groups:
        in_head = {id(p) for p in group['params']} <= head
        assert group['initial_lr'] == pytest.approx(1.0 if in_head else 0.1)
    norms = [m for m in runner.model.modules() if isinstance(m, nn.BatchNorm2d)]
    norm_params = {id(p) for m in norms for p in m.parameters()}
    for group in optimizer.param_groups:
        in_norm = id(group['params'][0]) in norm_params
        assert group['weight_decay'] == (0.0 if in_norm else 1e-4)
    log = _log(runner)
    assert 'lr 1, weight_decay 0.0001: 2 groups, 2 tensors, 1,539 parameters (cls_head)' in log
    assert "finetune preset 'full': every parameter trains" in log


@pytest.mark.parametrize(
    'finetune, frozen_stages, message',
    [
        (dict(preset='partial', frozen_stages=5), -1, 'finetune.frozen_stages must be 0 to 4'),
        (dict(preset='partial', frozen_stages=2), 1, 'model.backbone.frozen_stages=1 disagree'),
        (dict(preset='full'), 1, "finetune=dict(preset='partial', frozen_stages=1)"),
    ],
)
def test_preset_and_backbone_settings_that_conflict_fail(
    tmp_path, finetune, frozen_stages, message
):
    with pytest.raises(ValueError, match=message.replace('(', r'\(').replace(')', r'\)')):
        _resnet_runner(tmp_path, finetune, frozen_stages)


def test_partial_needs_a_backbone_with_frozen_stages(tmp_path):
    with pytest.raises(ValueError, match='which Sequential does not have'):
        _runner(tmp_path, dict(preset='partial', frozen_stages=1))


@pytest.mark.parametrize(
    'finetune, error, message',
    [
        (
            dict(preset='linear_probe', head_lr_mul=2),
            KeyError,
            "did you mean 'finetune.head_lr_mult'",
        ),
        (
            dict(preset='linearprobe'),
            ValueError,
            "got 'linearprobe' \\(did you mean 'linear_probe'",
        ),
        (dict(preset='partial'), ValueError, 'frozen_stages must be an int >= 0.*got None'),
        (dict(preset='full', frozen_stages=1), ValueError, 'only read with preset=.partial.'),
        (dict(preset='full', head_lr_mult=0), ValueError, 'head_lr_mult must be a number > 0'),
        (dict(preset='linear_probe', head_lr_mult=10), ValueError, 'optim_wrapper.optimizer.lr'),
        ('linear_probe', TypeError, "dict\\(preset='linear_probe'\\)"),
    ],
)
def test_finetune_values_are_checked_naming_key_and_value(finetune, error, message):
    with pytest.raises(error, match=message):
        check_finetune_cfg(finetune)


def test_head_lr_mult_merges_into_paramwise_cfg_without_clobbering():
    user = dict(
        optimizer=dict(type='SGD', lr=0.1),
        paramwise_cfg=dict(
            norm_decay_mult=0.0, custom_keys={'cls_head': dict(decay_mult=0.0), 'pos': {}}
        ),
    )
    merged = merge_head_lr_mult(user, 10.0)
    assert merged['paramwise_cfg'] == dict(
        norm_decay_mult=0.0,
        custom_keys={'cls_head': dict(decay_mult=0.0, lr_mult=10.0), 'pos': {}},
    )
    assert 'lr_mult' not in user['paramwise_cfg']['custom_keys']['cls_head']  # not mutated
    same = dict(paramwise_cfg=dict(custom_keys={'cls_head': dict(lr_mult=10.0)}))
    assert merge_head_lr_mult(same, 10.0) == same
    with pytest.raises(ValueError, match=r"custom_keys\['cls_head'\].lr_mult=5.0 disagree"):
        merge_head_lr_mult(
            dict(paramwise_cfg=dict(custom_keys={'cls_head': dict(lr_mult=5.0)})), 10.0
        )
    with pytest.raises(ValueError, match="constructor='TSMOptimWrapperConstructor'"):
        merge_head_lr_mult(dict(constructor='TSMOptimWrapperConstructor'), 10.0)
