"""ActionRunner does not fetch backbone ``pretrained`` files that ``load_from`` replaces."""

import pytest
import torch
from test_runner_resume import TinyModel, runner_kwargs

from mmaction_ft.engine import ActionRunner


class PretrainedBackbone(torch.nn.Sequential):
    """A backbone whose init_weights would fetch ``pretrained`` (and records that it did)."""

    def __init__(self, pretrained):
        super().__init__(torch.nn.Linear(4, 8), torch.nn.BatchNorm1d(8))
        self.pretrained = pretrained
        self.fetched = []

    def init_weights(self):
        if self.pretrained:
            self.fetched.append(self.pretrained)


def _model(pretrained):
    model = TinyModel()
    model.backbone = PretrainedBackbone(pretrained)
    return model


def _runner(tmp_path, **extra):
    kwargs = runner_kwargs(tmp_path, max_epochs=1, **extra)
    kwargs['model'] = _model('torchvision://resnet50')
    return ActionRunner(**kwargs)


def test_pretrained_is_skipped_when_load_from_replaces_the_model(tmp_path):
    checkpoint = tmp_path / 'whole_model.pth'
    torch.save({'state_dict': _model(None).state_dict()}, checkpoint)
    runner = _runner(tmp_path / 'work', load_from=str(checkpoint))
    runner._init_model_weights()
    backbone = runner.model.backbone
    assert backbone.fetched == []
    assert backbone.pretrained == 'torchvision://resnet50'  # the config value is restored
    log = open(runner.logger.log_file).read()
    assert "backbone.pretrained='torchvision://resnet50' not loaded" in log


def test_pretrained_is_loaded_without_load_from_or_with_partial_loading(tmp_path):
    runner = _runner(tmp_path / 'plain')
    runner._init_model_weights()
    assert runner.model.backbone.fetched == ['torchvision://resnet50']

    checkpoint = tmp_path / 'whole_model.pth'
    torch.save({'state_dict': _model(None).state_dict()}, checkpoint)
    runner = _runner(
        tmp_path / 'partial', load_from=str(checkpoint), cfg=dict(load_cfg=dict(allow_partial=True))
    )
    runner._init_model_weights()
    assert runner.model.backbone.fetched == ['torchvision://resnet50']


def test_load_cfg_values_are_checked_and_a_single_head_prefix_accepted():
    from mmaction_ft.engine.checkpoint_loading import check_load_cfg

    assert check_load_cfg(dict(head_prefixes='cls_head.fc'))['head_prefixes'] == ('cls_head.fc',)
    with pytest.raises(TypeError, match='load_cfg.weights_only'):
        check_load_cfg(dict(weights_only='no'))
