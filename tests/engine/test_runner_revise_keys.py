"""``load_cfg.revise_keys``: mmengine's key renames for ``load_from``, checked when the runner is
built, and not applied to the run's own checkpoint when resuming."""

import pytest
import torch
from test_runner_resume import TinyModel, runner_kwargs

from mmaction_ft.engine import ActionRunner, CheckpointMismatchError


def _runner(tmp_path, **load_cfg) -> ActionRunner:
    kwargs = runner_kwargs(tmp_path / 'work', max_epochs=1, default_scope='mmaction_ft')
    return ActionRunner(**kwargs, cfg=dict(load_cfg=load_cfg))


def test_load_cfg_revise_keys_rename_a_foreign_checkpoint(tmp_path):
    torch.manual_seed(1)
    source = TinyModel().state_dict()
    foreign = tmp_path / 'foreign.pth'  # another codebase's prefix
    torch.save({'state_dict': {f'model.{k}': v for k, v in source.items()}}, foreign)

    with pytest.raises(CheckpointMismatchError, match='unexpected in checkpoint model.backbone'):
        _runner(tmp_path).load_checkpoint(str(foreign))
    # Lists, as a config read back from a file holds them.
    runner = _runner(tmp_path, revise_keys=[[r'^model\.', '']])
    runner.load_checkpoint(str(foreign), strict=True)

    assert len(runner.last_load_report.loaded) == len(source)
    assert torch.equal(runner.model.backbone[0].weight, source['backbone.0.weight'])


def test_bad_revise_keys_fail_when_the_runner_is_built(tmp_path):
    with pytest.raises(ValueError, match=r"load_cfg\.revise_keys\[0\]: '\[' is not a regular"):
        _runner(tmp_path, revise_keys=[('[', '')])
    with pytest.raises(TypeError, match=r'load_cfg\.revise_keys\[0\] must be a \(pattern'):
        _runner(tmp_path, revise_keys=[r'^module\.'])


def test_resuming_ignores_the_renames_meant_for_load_from(tmp_path):
    torch.manual_seed(2)
    own = TinyModel().state_dict()
    path = tmp_path / 'epoch_1.pth'
    meta = {'epoch': 1, 'iter': 2}
    hub = {'log_scalars': {}, 'runtime_info': {}, 'resumed_keys': {}}
    torch.save({'meta': meta, 'state_dict': own, 'message_hub': hub}, path)
    # Would turn every key of the run's own checkpoint into an unknown one.
    runner = _runner(tmp_path, revise_keys=[('^', 'pretrained_model.')])

    runner.resume(str(path), resume_optimizer=False, resume_param_scheduler=False)

    assert runner.last_load_report.loaded == list(own)
    assert torch.equal(runner.model.cls_head.fc_cls.bias, own['cls_head.fc_cls.bias'])
