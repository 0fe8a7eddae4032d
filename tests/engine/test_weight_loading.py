import uuid

import pytest
import torch
from mmengine.logging import MMLogger
from torch import nn

from mmaction_ft.engine.weight_loading import CheckpointMismatchError, LoadReport, load_weights


class TinyRecognizer(nn.Module):
    """backbone (conv + BN) and cls_head.fc_cls, like a TSN recognizer in miniature."""

    def __init__(self, num_classes: int) -> None:
        super().__init__()
        self.backbone = nn.Sequential()
        self.backbone.add_module('conv', nn.Conv2d(3, 8, 3))
        self.backbone.add_module('bn', nn.BatchNorm2d(8))
        self.cls_head = nn.Module()
        self.cls_head.fc_cls = nn.Linear(8, num_classes)
        # Like ActionDataPreprocessor's mean/std: never part of a checkpoint.
        self.register_buffer('mean', torch.zeros(3), persistent=False)


def kinetics_checkpoint() -> dict:
    """A trained-looking 400-class state dict: every tensor differs from a fresh init."""
    torch.manual_seed(1)
    state = TinyRecognizer(400).state_dict()
    return {
        key: value + 1 if value.is_floating_point() else value + 7 for key, value in state.items()
    }


@pytest.fixture
def logger(tmp_path):
    log_file = tmp_path / 'run.log'
    mm_logger = MMLogger.get_instance(f'wl-{uuid.uuid4().hex}', log_file=str(log_file))
    yield mm_logger, log_file
    # This logger stays mmengine's "current" one: leave it without a closed file handler, or
    # the next model's init_weights (which writes to the current logger's files) fails.
    for handler in list(mm_logger.handlers):
        handler.close()
        mm_logger.removeHandler(handler)


def test_finetune_swaps_head_loads_everything_else_and_logs_to_file(logger):
    mm_logger, log_file = logger
    ckpt = kinetics_checkpoint()
    torch.manual_seed(0)
    model = TinyRecognizer(101)
    fresh_head = model.cls_head.fc_cls.weight.detach().clone()

    report = load_weights(model, ckpt, logger=mm_logger, source='k400.pth')

    state = model.state_dict()
    for key in ckpt:
        if key.startswith('cls_head.fc_cls'):
            continue
        assert torch.equal(state[key], ckpt[key]), key
    assert state['backbone.bn.num_batches_tracked'].item() == 7
    assert torch.equal(model.cls_head.fc_cls.weight, fresh_head)
    assert model.cls_head.fc_cls.weight.shape == (101, 8)
    assert report.reinitialised == ['cls_head.fc_cls.weight', 'cls_head.fc_cls.bias']
    assert len(report.loaded) == 7 and 'mean' not in report.loaded
    assert not report.skipped

    text = log_file.read_text()
    assert 'cls_head.fc_cls: checkpoint has 400 classes, model has 101 -> re-initialised' in text
    assert text.count('re-initialised') == 1
    assert 'loaded 7/9 tensors from k400.pth' in text


def test_finetune_refuses_a_reshaped_backbone_tensor_and_loads_nothing(logger):
    mm_logger, _ = logger
    ckpt = kinetics_checkpoint()
    ckpt['backbone.conv.weight'] = torch.zeros(8, 3, 5, 5)
    model = TinyRecognizer(101)
    before = {key: value.clone() for key, value in model.state_dict().items()}

    with pytest.raises(CheckpointMismatchError) as err:
        load_weights(model, ckpt, logger=mm_logger, source='k400.pth')

    message = str(err.value)
    assert 'backbone.conv.weight: checkpoint [8, 3, 5, 5], model [8, 3, 3, 3]' in message
    assert 'load_cfg = dict(allow_partial=True)' in message
    assert 'cls_head.fc_cls' not in message  # the class-count change alone is fine
    for key, value in model.state_dict().items():
        assert torch.equal(value, before[key]), f'{key} changed although loading failed'


@pytest.mark.parametrize(
    'edit, expected',
    [
        (lambda ckpt: ckpt.pop('backbone.bn.num_batches_tracked'), 'missing from checkpoint'),
        (lambda ckpt: ckpt.update(extra=torch.zeros(1)), 'unexpected in checkpoint extra'),
    ],
)
def test_finetune_refuses_missing_and_unexpected_keys(logger, edit, expected):
    ckpt = kinetics_checkpoint()
    edit(ckpt)
    with pytest.raises(CheckpointMismatchError, match=expected):
        load_weights(TinyRecognizer(101), ckpt, logger=logger[0])


def test_finetune_refuses_a_head_whose_input_width_changed(logger):
    ckpt = kinetics_checkpoint()
    ckpt['cls_head.fc_cls.weight'] = torch.zeros(400, 16)
    with pytest.raises(CheckpointMismatchError, match=r'cls_head\.fc_cls\.weight'):
        load_weights(TinyRecognizer(101), ckpt, logger=logger[0])


def test_strict_class_count_mismatch_says_what_to_change(logger):
    model = TinyRecognizer(101)
    with pytest.raises(CheckpointMismatchError) as err:
        load_weights(model, kinetics_checkpoint(), mode='strict', logger=logger[0], source='k.pth')
    message = str(err.value)
    assert 'checkpoint k.pth has 400 classes but the model has 101' in message
    assert 'set model.cls_head.num_classes=400 to evaluate this checkpoint' in message


def test_strict_lists_other_mismatches_and_accepts_an_exact_match(logger):
    ckpt = kinetics_checkpoint()
    ckpt['backbone.bn.weight'] = torch.ones(4)
    with pytest.raises(CheckpointMismatchError, match=r'backbone\.bn\.weight: checkpoint \[4\]'):
        load_weights(TinyRecognizer(400), ckpt, mode='strict', logger=logger[0])

    ckpt = kinetics_checkpoint()
    model = TinyRecognizer(400)
    report = load_weights(model, ckpt, mode='strict', logger=logger[0])
    assert len(report.loaded) == 9 and not report.reinitialised
    assert torch.equal(model.cls_head.fc_cls.weight, ckpt['cls_head.fc_cls.weight'])


def test_partial_loads_what_fits_and_logs_each_skip(logger):
    mm_logger, log_file = logger
    ckpt = kinetics_checkpoint()
    ckpt['backbone.conv.weight'] = torch.zeros(8, 3, 5, 5)
    del ckpt['backbone.bn.running_var']
    ckpt['old_head.weight'] = torch.zeros(2)
    model = TinyRecognizer(101)
    fresh_conv = model.backbone.conv.weight.detach().clone()

    report = load_weights(model, ckpt, mode='partial', logger=mm_logger)

    assert isinstance(report, LoadReport)
    assert torch.equal(model.backbone.conv.weight, fresh_conv)
    assert torch.equal(model.backbone.bn.weight, ckpt['backbone.bn.weight'])
    assert torch.equal(model.backbone.bn.running_var, torch.ones(8))  # init kept
    assert set(report.mismatched) == {'backbone.conv.weight'}
    assert report.missing == ['backbone.bn.running_var']
    assert report.unexpected == ['old_head.weight']
    text = log_file.read_text()
    assert 'skipped backbone.conv.weight: shape in checkpoint [8, 3, 5, 5]' in text
    assert 'skipped backbone.bn.running_var: not in the checkpoint' in text
    assert 'skipped old_head.weight: in the checkpoint but not in the model' in text
    assert 'checkpoint has 400 classes, model has 101 -> re-initialised' in text
    assert 'loaded 5/9 tensors' in text


def test_unknown_mode_is_refused():
    with pytest.raises(ValueError, match="'finetune', 'partial', 'strict'|finetune, partial"):
        load_weights(TinyRecognizer(2), {}, mode='lenient')


def test_partial_mode_refuses_a_checkpoint_of_which_nothing_fits():
    model = nn.Sequential(nn.Linear(2, 2))
    with pytest.raises(CheckpointMismatchError, match='model.backbone.pretrained'):
        load_weights(model, {'conv1.weight': torch.zeros(3)}, mode='partial', source='r50.pth')


def test_2d_checkpoint_into_a_3d_model_says_to_inflate_it():
    model = TinyRecognizer(400)
    model.backbone.conv = nn.Conv3d(3, 8, 3)
    with pytest.raises(CheckpointMismatchError) as error:
        load_weights(model, kinetics_checkpoint(), mode='finetune', source='tsn_2d.pth')
    message = str(error.value)
    assert (
        'shape mismatch backbone.conv.weight: checkpoint [8, 3, 3, 3], model [8, 3, 3, 3, 3]'
        in (message)
    )
    assert 'the checkpoint holds 2D conv weights (backbone.conv.weight: [8, 3, 3, 3])' in message
    assert 'pretrained2d=True' in message


def test_no_inflation_advice_for_other_mismatches():
    model = TinyRecognizer(400)
    model.backbone.conv = nn.Conv2d(3, 8, 5)
    with pytest.raises(CheckpointMismatchError) as error:
        load_weights(model, kinetics_checkpoint(), mode='finetune')
    assert 'pretrained2d' not in str(error.value)
