import uuid

import pytest
import torch
import torch.nn.functional as F
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.registry import DefaultScope
from mmengine.runner import Runner
from mmengine.utils import digit_version
from torch import nn
from torch.utils.data import Dataset

from mmaction_ft.engine import ActionRunner, CheckpointMismatchError
from mmaction_ft.registry import MODELS, RUNNERS


class TinyDataset(Dataset):
    metainfo = dict(classes=('a', 'b', 'c'))

    def __len__(self) -> int:
        return 8

    def __getitem__(self, index: int) -> dict:
        generator = torch.Generator().manual_seed(index)
        return dict(inputs=torch.randn(4, generator=generator), label=index % 3)


class TinyModel(BaseModel):
    def __init__(self, num_classes: int = 3) -> None:
        super().__init__()
        self.backbone = nn.Sequential(nn.Linear(4, 8), nn.BatchNorm1d(8))
        self.cls_head = nn.Module()
        self.cls_head.fc_cls = nn.Linear(8, num_classes)

    def forward(self, inputs, label=None, mode='tensor'):
        scores = self.cls_head.fc_cls(self.backbone(inputs))
        if mode == 'loss':
            return dict(loss=F.cross_entropy(scores, label))
        return scores


class SnapshotBeforeTrain(Hook):
    """Records the state a resumed run starts from (before_train runs after resuming)."""

    def before_train(self, runner) -> None:
        optimizer = runner.optim_wrapper.optimizer
        self.epoch, self.iter = runner.epoch, runner.iter
        self.momentum = [
            optimizer.state[p]['momentum_buffer'].clone() for p in runner.model.parameters()
        ]
        self.lr = optimizer.param_groups[0]['lr']
        self.scheduler = runner.param_schedulers[0].state_dict()


def runner_kwargs(work_dir, max_epochs: int, num_classes: int = 3, **extra) -> dict:
    return dict(
        model=TinyModel(num_classes),
        work_dir=str(work_dir),
        experiment_name=f'resume-{uuid.uuid4().hex}',
        train_dataloader=dict(
            dataset=TinyDataset(),
            batch_size=4,
            sampler=dict(type='DefaultSampler', shuffle=True),
            collate_fn=dict(type='default_collate'),
        ),
        train_cfg=dict(by_epoch=True, max_epochs=max_epochs),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1, momentum=0.9)),
        param_scheduler=dict(type='MultiStepLR', milestones=[1], gamma=0.1, by_epoch=True),
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1)),
        randomness=dict(seed=0),
        **extra,
    )


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    """An ActionRunner trained 2 epochs (SGD + MultiStepLR, CPU) and its epoch_2.pth."""
    work_dir = tmp_path_factory.mktemp('train')
    runner = ActionRunner(**runner_kwargs(work_dir, max_epochs=2))
    runner.train()
    optimizer = runner.optim_wrapper.optimizer
    final = dict(
        momentum=[optimizer.state[p]['momentum_buffer'].clone() for p in runner.model.parameters()],
        weights={k: v.clone() for k, v in runner.model.state_dict().items()},
        scheduler=runner.param_schedulers[0].state_dict(),
    )
    return work_dir / 'epoch_2.pth', final


def test_resume_restores_epoch_optimizer_and_scheduler(trained, tmp_path):
    checkpoint, final = trained
    snapshot = SnapshotBeforeTrain()
    runner = ActionRunner(
        **runner_kwargs(
            tmp_path, max_epochs=3, load_from=str(checkpoint), resume=True, custom_hooks=[snapshot]
        )
    )
    runner.train()

    assert (snapshot.epoch, snapshot.iter) == (2, 4)
    for resumed, saved in zip(snapshot.momentum, final['momentum']):
        assert torch.equal(resumed, saved)
    assert snapshot.lr == pytest.approx(0.01)  # 0.1 * gamma after the epoch-1 milestone
    assert snapshot.scheduler['last_step'] == final['scheduler']['last_step'] > 0  # fresh: 0
    assert snapshot.scheduler['_last_value'] == pytest.approx([0.01])
    assert runner.last_load_report.loaded == list(final['weights'])  # strict: everything
    assert runner.epoch == 3  # and training went on for the one remaining epoch


@pytest.mark.skipif(
    digit_version(torch.__version__) < digit_version('2.6.0'),
    reason='torch < 2.6 unpickles everything by default',
)
def test_plain_mmengine_runner_resumes_through_our_registered_loader(trained, tmp_path):
    # mmengine 0.10.7 calls torch.load without weights_only, and torch >= 2.6 then refuses the
    # HistoryBuffers in its own message_hub. mmaction_ft.engine registers its allow-listed
    # loader as mmengine's local scheme, so even a plain Runner resumes.
    checkpoint, _ = trained
    runner = Runner(**runner_kwargs(tmp_path, max_epochs=3, load_from=str(checkpoint), resume=True))
    runner.train()
    assert runner.epoch == 3


def test_resume_is_strict(trained, tmp_path):
    checkpoint, _ = trained
    runner = ActionRunner(
        **runner_kwargs(
            tmp_path, max_epochs=3, num_classes=5, load_from=str(checkpoint), resume=True
        )
    )
    with pytest.raises(CheckpointMismatchError, match='has 3 classes but the model has 5'):
        runner.train()


def test_load_from_finetunes_a_new_class_count(trained, tmp_path):
    checkpoint, final = trained
    runner = ActionRunner(**runner_kwargs(tmp_path, max_epochs=1, num_classes=5))
    returned = runner.load_checkpoint(str(checkpoint))

    assert returned['meta']['epoch'] == 2  # the whole checkpoint dict comes back
    report = runner.last_load_report
    assert report.reinitialised == ['cls_head.fc_cls.weight', 'cls_head.fc_cls.bias']
    state = runner.model.state_dict()
    for key in report.loaded:
        assert torch.equal(state[key], final['weights'][key])
    assert len(report.loaded) == len(final['weights']) - 2

    with pytest.raises(CheckpointMismatchError, match='set model.cls_head.num_classes=3'):
        runner.load_checkpoint(str(checkpoint), strict=True)


def test_load_cfg_is_read_from_the_config_and_checked(tmp_path):
    with pytest.raises(KeyError, match="unknown key 'weight_only' in load_cfg.*'weights_only'"):
        ActionRunner(
            **runner_kwargs(tmp_path, max_epochs=1), cfg=dict(load_cfg=dict(weight_only=False))
        )

    runner = ActionRunner(
        **runner_kwargs(tmp_path, max_epochs=1), cfg=dict(load_cfg=dict(allow_partial=True))
    )
    assert runner.load_cfg['allow_partial'] is True
    assert runner.load_cfg['weights_only'] is True


@pytest.fixture
def tiny_model_type():
    """TinyModel registered under a throwaway name for this test only (configs dump to text)."""
    name = f'TinyModel{uuid.uuid4().hex}'
    MODELS.register_module(name=name, module=TinyModel)
    yield name
    MODELS._module_dict.pop(name)


def test_from_cfg_builds_an_action_runner(tmp_path, tiny_model_type):
    cfg = Config(
        dict(
            runner_type='ActionRunner',
            default_scope='mmaction_ft',
            model=dict(type=tiny_model_type),
            work_dir=str(tmp_path),
            experiment_name=f'from-cfg-{uuid.uuid4().hex}',
            load_cfg=dict(allow_partial=True),
        )
    )
    with DefaultScope.overwrite_default_scope('mmaction_ft'):
        runner = RUNNERS.build(cfg)
    assert type(runner) is ActionRunner
    assert runner.load_cfg['allow_partial'] is True
    cfg.experiment_name = f'from-cfg-{uuid.uuid4().hex}'
    assert type(ActionRunner.from_cfg(cfg)) is ActionRunner
