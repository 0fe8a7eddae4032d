import uuid

import pytest
import torch
from mmengine.logging import MMLogger
from torch import nn

from mmaction_ft.engine.weight_loading import (
    CheckpointMismatchError,
    LoadReport,
    check_revise_keys,
    load_pretrained,
    load_weights,
)


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


# ------------------------------------------------------------------ revise_keys


def test_revise_keys_rename_the_file_keys_before_matching(logger):
    mm_logger, _ = logger
    ckpt = kinetics_checkpoint()
    # Another codebase's layout: everything under 'model.', the classifier named 'head'.
    foreign = {'model.' + key.replace('cls_head.fc_cls', 'head'): v for key, v in ckpt.items()}
    model = TinyRecognizer(400)

    with pytest.raises(CheckpointMismatchError, match='no tensor of checkpoint'):
        load_weights(model, foreign, mode='partial', logger=mm_logger)
    rules = [(r'^model\.', ''), (r'^head\.', 'cls_head.fc_cls.')]
    report = load_weights(model, foreign, mode='strict', logger=mm_logger, revise_keys=rules)

    assert len(report.loaded) == 9
    assert torch.equal(model.cls_head.fc_cls.weight, ckpt['cls_head.fc_cls.weight'])


def test_default_revise_keys_drop_the_ddp_prefix_and_an_empty_list_keeps_it(logger):
    mm_logger, _ = logger
    wrapped = {'module.' + key: value for key, value in kinetics_checkpoint().items()}
    assert len(load_weights(TinyRecognizer(400), wrapped, mode='strict').loaded) == 9
    with pytest.raises(CheckpointMismatchError, match='unexpected in checkpoint module.'):
        load_weights(TinyRecognizer(400), wrapped, mode='strict', revise_keys=[])


def test_revise_keys_that_merge_two_keys_are_an_error():
    ckpt = kinetics_checkpoint()
    with pytest.raises(
        CheckpointMismatchError,
        match=r'renames both backbone\.conv\.weight and backbone\.conv\.bias to',
    ):
        load_weights(TinyRecognizer(400), ckpt, revise_keys=[(r'\.(weight|bias)$', '.w')])


@pytest.mark.parametrize(
    'rules, error, message',
    [
        ('^module', TypeError, r'load_cfg\.revise_keys must be a list'),
        ([('^module',)], TypeError, r'load_cfg\.revise_keys\[0\] must be a \(pattern'),
        ([('a', 'b'), ('(', '')], ValueError, r"load_cfg\.revise_keys\[1\]: '\(' is not a"),
    ],
)
def test_bad_revise_keys_name_the_entry(rules, error, message):
    with pytest.raises(error, match=message):
        check_revise_keys(rules, 'load_cfg.revise_keys')
    # Lists (a config read back from a file) are accepted like tuples.
    assert check_revise_keys([['^a', 'b']]) == (('^a', 'b'),)


# ------------------------------------------------------------------ 'pretrained' mode


def test_pretrained_mode_ignores_and_reports_unused_file_tensors(logger):
    mm_logger, log_file = logger
    backbone = TinyRecognizer(400).backbone
    ckpt = {k[len('backbone.') :]: v for k, v in kinetics_checkpoint().items() if 'backbone' in k}
    ckpt['fc.weight'] = torch.zeros(1000, 8)  # an ImageNet classifier the backbone has no use for
    del ckpt['bn.num_batches_tracked']  # older files lack BN step counters

    report = load_weights(
        backbone, ckpt, mode='pretrained', logger=mm_logger, source='imagenet.pth'
    )

    assert torch.equal(backbone.conv.weight, ckpt['conv.weight'])
    assert report.unexpected == ['fc.weight'] and report.kept == ['bn.num_batches_tracked']
    assert not report.missing and len(report.loaded) == 6
    text = log_file.read_text()
    assert 'skipped fc.weight: in the checkpoint but not in the model (not used)' in text
    assert (
        'Sequential: loaded 6/7 tensors from imagenet.pth (1 BN step counters not in the file '
        'kept)' in text
    )


def test_pretrained_mode_refuses_a_missing_or_reshaped_model_tensor():
    backbone = TinyRecognizer(400).backbone
    ckpt = {k[len('backbone.') :]: v for k, v in kinetics_checkpoint().items() if 'backbone' in k}
    before = backbone.conv.weight.detach().clone()
    del ckpt['bn.running_mean']
    ckpt['conv.weight'] = torch.zeros(8, 3, 5, 5)

    with pytest.raises(CheckpointMismatchError) as error:
        load_weights(
            backbone,
            ckpt,
            mode='pretrained',
            source='r.pth',
            file_key=lambda key: 'file.' + key,
            hint='try the other layout',
        )
    message = str(error.value)
    assert message.startswith('pretrained weights r.pth do not fit Sequential:')
    assert 'shape mismatch conv.weight: checkpoint [8, 3, 5, 5], model [8, 3, 3, 3]' in message
    assert 'missing from checkpoint file.bn.running_mean (for bn.running_mean)' in message
    assert 'most tensors are missing' not in message  # 1 of 7: the layout is right
    assert torch.equal(backbone.conv.weight, before)  # nothing was copied

    with pytest.raises(CheckpointMismatchError, match='most tensors are missing: try the other'):
        load_weights(backbone, {'x': torch.zeros(1)}, mode='pretrained', hint='try the other')


def test_load_pretrained_reads_the_file_and_loads_in_pretrained_mode(tmp_path, logger):
    mm_logger, log_file = logger
    recognizer = kinetics_checkpoint()  # backbone.* and cls_head.* keys, DDP-wrapped below
    path = tmp_path / 'tsn.pth'
    torch.save({'state_dict': {'module.' + k: v for k, v in recognizer.items()}}, path)
    backbone = TinyRecognizer(400).backbone

    report = load_pretrained(backbone, str(path), logger=mm_logger)

    assert torch.equal(backbone.bn.running_var, recognizer['backbone.bn.running_var'])
    assert report.unexpected == ['cls_head.fc_cls.weight', 'cls_head.fc_cls.bias']
    assert f'Sequential: loaded 7/7 tensors from {path}' in log_file.read_text()

    # revise_keys apply to the file's keys before the 'backbone.' prefix is dropped.
    renamed = {'encoder.' + k[len('backbone.') :]: v for k, v in recognizer.items() if 'bone' in k}
    torch.save(renamed, tmp_path / 'encoder.pth')
    with pytest.raises(CheckpointMismatchError, match='missing from checkpoint conv.weight'):
        load_pretrained(backbone, str(tmp_path / 'encoder.pth'))
    report = load_pretrained(
        backbone, str(tmp_path / 'encoder.pth'), revise_keys=[(r'^encoder\.', 'backbone.')]
    )
    assert len(report.loaded) == 7 and not report.unexpected
