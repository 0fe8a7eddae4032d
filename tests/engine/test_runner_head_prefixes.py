"""``load_from`` re-initialises exactly the classifier that the model's head declares."""

import pytest
import torch
from mmengine.registry import DefaultScope
from test_runner_resume import runner_kwargs
from torch import nn

from mmaction_ft.engine import ActionRunner, CheckpointMismatchError
from mmaction_ft.engine.runner import classifier_prefixes
from mmaction_ft.models.recognizers import Recognizer2D, Recognizer3D

HEADS = {
    'TSNHead': (Recognizer2D, dict(in_channels=8), ['fc_cls.weight', 'fc_cls.bias']),
    'TSMHead': (Recognizer2D, dict(in_channels=8), ['fc_cls.weight', 'fc_cls.bias']),
    'I3DHead': (Recognizer3D, dict(in_channels=8), ['fc_cls.weight', 'fc_cls.bias']),
    'SlowFastHead': (Recognizer3D, dict(in_channels=8), ['fc_cls.weight', 'fc_cls.bias']),
    'X3DHead': (Recognizer3D, dict(in_channels=8, mid_channels=16), ['fc2.weight', 'fc2.bias']),
}


def _model(head_type, num_classes, **changes):
    recognizer, head_args, _ = HEADS[head_type]
    head = dict(type=head_type, num_classes=num_classes, **head_args)
    head.update(changes)
    # A runner built earlier in the session may have left another default scope current.
    with DefaultScope.overwrite_default_scope('mmaction_ft'):
        return recognizer(backbone=nn.Conv3d(3, 8, 1), cls_head=head)


def _runner(tmp_path, model, checkpoint):
    kwargs = runner_kwargs(
        tmp_path / 'work', max_epochs=1, load_from=str(checkpoint), default_scope='mmaction_ft'
    )
    kwargs['model'] = model
    return ActionRunner(**kwargs)


@pytest.mark.parametrize('head_type', list(HEADS))
def test_400_to_101_classes_reinitialises_exactly_the_classifier(tmp_path, head_type):
    checkpoint = tmp_path / 'k400.pth'
    torch.save({'state_dict': _model(head_type, 400).state_dict()}, checkpoint)
    runner = _runner(tmp_path, _model(head_type, 101), checkpoint)
    runner.load_checkpoint(str(checkpoint))
    report = runner.last_load_report
    classifier = [f'cls_head.{key}' for key in HEADS[head_type][2]]
    assert report.reinitialised == classifier
    assert not report.skipped
    assert set(report.loaded) == set(runner.model.state_dict()) - set(classifier)
    log = open(runner.logger.log_file).read()
    prefix = classifier[0].rpartition('.')[0]
    assert f'{prefix}: checkpoint has 400 classes, model has 101 -> re-initialised' in log


def test_a_mismatch_outside_the_classifier_is_an_error_naming_the_key(tmp_path):
    checkpoint = tmp_path / 'x3d.pth'
    torch.save({'state_dict': _model('X3DHead', 400, mid_channels=32).state_dict()}, checkpoint)
    runner = _runner(tmp_path, _model('X3DHead', 101), checkpoint)
    with pytest.raises(CheckpointMismatchError, match=r'shape mismatch cls_head.fc1.weight'):
        runner.load_checkpoint(str(checkpoint))


def test_classifier_prefixes_come_from_the_head():
    assert classifier_prefixes(_model('X3DHead', 3)) == ('cls_head.fc2',)
    assert classifier_prefixes(_model('I3DHead', 3)) == ('cls_head.fc_cls',)
    assert classifier_prefixes(Recognizer3D(backbone=nn.Conv3d(3, 8, 1))) == ()
    foreign = nn.Module()  # a head that declares nothing: MMAction2's fc_cls convention
    foreign.cls_head = nn.Module()
    foreign.cls_head.fc_cls = nn.Linear(2, 2)
    assert classifier_prefixes(foreign) == ('cls_head.fc_cls',)
    foreign.cls_head.classifier_names = ('fc',)
    with pytest.raises(AttributeError, match="names 'fc'"):
        classifier_prefixes(foreign)


def test_load_cfg_head_prefixes_overrides_the_declaration(tmp_path):
    checkpoint = tmp_path / 'x3d.pth'
    torch.save({'state_dict': _model('X3DHead', 400).state_dict()}, checkpoint)
    runner = _runner(tmp_path, _model('X3DHead', 101), checkpoint)
    runner.cfg['load_cfg'] = dict(head_prefixes='cls_head.fc_cls')
    with pytest.raises(CheckpointMismatchError, match='cls_head.fc2.weight'):
        runner.load_checkpoint(str(checkpoint))
