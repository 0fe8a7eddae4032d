import re
import uuid

import pytest
import torch
from mmengine.logging import MMLogger
from torch import nn

from mmaction_ft.engine.class_rows import (
    ClassNames,
    checkpoint_class_names,
    match_classes,
    normalise_class_name,
    read_class_map,
    read_class_names,
    reuse_classifier_rows,
)
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


# ------------------------------------------------------------------ classifier rows by class name

SOURCE_CLASSES = list('ABCDEFGH')


def eight_class_checkpoint() -> dict:
    """A trained-looking 8-class state dict (classes A..H), every tensor off its init."""
    torch.manual_seed(3)
    state = TinyRecognizer(8).state_dict()
    return {
        key: value + 1 if value.is_floating_point() else value + 7 for key, value in state.items()
    }


def test_rows_of_shared_classes_are_copied_and_the_others_keep_their_init(logger):
    mm_logger, log_file = logger
    ckpt = eight_class_checkpoint()
    torch.manual_seed(0)
    model = TinyRecognizer(3)
    fresh_weight = model.cls_head.fc_cls.weight.detach().clone()
    fresh_bias = model.cls_head.fc_cls.bias.detach().clone()
    classes = ClassNames(source=SOURCE_CLASSES, target=['C', 'F', 'X'])

    report = load_weights(model, ckpt, logger=mm_logger, source='src.pth', classes=classes)

    weight, bias = model.cls_head.fc_cls.weight, model.cls_head.fc_cls.bias
    for row, source_row in ((0, 2), (1, 5)):  # C and F: rows 2 and 5 of A..H
        assert torch.equal(weight[row], ckpt['cls_head.fc_cls.weight'][source_row])
        assert torch.equal(bias[row], ckpt['cls_head.fc_cls.bias'][source_row])
    assert torch.equal(weight[2], fresh_weight[2]) and torch.equal(bias[2], fresh_bias[2])
    assert torch.equal(model.backbone.conv.weight, ckpt['backbone.conv.weight'])
    assert report.mapped == ['cls_head.fc_cls.weight', 'cls_head.fc_cls.bias']
    assert not report.reinitialised and not report.skipped
    assert [str(m) for m in report.reused_rows['cls_head.fc_cls']] == ['C <- C', 'F <- F']
    assert report.new_rows == {'cls_head.fc_cls': ['X']}

    text = log_file.read_text()
    assert 'cls_head.fc_cls: reused 2 of 3 classifier rows from the checkpoint: C <- C, F <- F' in (
        text
    )
    assert (
        "cls_head.fc_cls: 1 of 3 classifier rows re-initialised (not among the checkpoint's 8 "
        'classes): X' in text
    )
    assert 'checkpoint has 8 classes, model has 3' not in text
    assert 'loaded 7/9 tensors from src.pth' in text


@pytest.mark.parametrize(
    'classes, why',
    [
        (ClassNames(), 'neither the checkpoint nor the dataset names its classes'),
        (ClassNames(target=['C', 'F', 'X']), 'the checkpoint names no classes; load_cfg.source_'),
        (ClassNames(source=SOURCE_CLASSES), 'the dataset names no classes (label_map or metainf'),
        (ClassNames(SOURCE_CLASSES, ['C', 'F', 'X'], reuse=False), 'load_cfg.reuse_classes=False'),
        (ClassNames(SOURCE_CLASSES, ['x', 'y', 'z']), "none of the dataset's 3 classes is among"),
        (ClassNames(SOURCE_CLASSES, ['C', 'F']), 'the dataset names 2 classes, not 3'),
        (None, 'no class names given to match rows by'),
    ],
)
def test_without_names_on_both_sides_the_classifier_is_reinitialised_and_the_log_says_why(
    logger, classes, why
):
    mm_logger, log_file = logger
    torch.manual_seed(0)
    model = TinyRecognizer(3)
    fresh = model.cls_head.fc_cls.weight.detach().clone()

    report = load_weights(model, eight_class_checkpoint(), logger=mm_logger, classes=classes)

    assert torch.equal(model.cls_head.fc_cls.weight, fresh)
    assert report.reinitialised == ['cls_head.fc_cls.weight', 'cls_head.fc_cls.bias']
    assert not report.mapped and not report.reused_rows
    line = next(line for line in log_file.read_text().splitlines() if 're-initialised' in line)
    assert f'cls_head.fc_cls: checkpoint has 8 classes, model has 3 -> re-initialised ({why}' in (
        line
    )


def test_same_class_count_with_other_names_follows_the_names(logger):
    mm_logger, log_file = logger
    ckpt = eight_class_checkpoint()
    shuffled = list('HGFEDCBA')

    model = TinyRecognizer(8)
    classes = ClassNames(source=SOURCE_CLASSES, target=shuffled)
    report = load_weights(model, ckpt, logger=mm_logger, classes=classes)
    assert torch.equal(model.cls_head.fc_cls.weight, ckpt['cls_head.fc_cls.weight'].flip(0))
    assert report.new_rows == {'cls_head.fc_cls': []}
    assert 'reused 8 of 8 classifier rows from the checkpoint: H <- H, G <- G' in (
        log_file.read_text()
    )

    # Switched off: loaded by position as before, with a warning that the classes differ.
    model = TinyRecognizer(8)
    classes = ClassNames(source=SOURCE_CLASSES, target=shuffled, reuse=False)
    report = load_weights(model, ckpt, logger=mm_logger, classes=classes)
    assert torch.equal(model.cls_head.fc_cls.weight, ckpt['cls_head.fc_cls.weight'])
    assert len(report.loaded) == 9
    assert (
        "cls_head.fc_cls: the checkpoint's classes differ from the dataset's; rows loaded by "
        'position (load_cfg.reuse_classes=False)' in log_file.read_text()
    )

    # The same names in the same order: a plain load, nothing to say.
    report = load_weights(
        TinyRecognizer(8), ckpt, classes=ClassNames(SOURCE_CLASSES, SOURCE_CLASSES)
    )
    assert len(report.loaded) == 9 and not report.mapped


def test_class_names_that_do_not_describe_the_checkpoint_are_refused():
    classes = ClassNames(source=list('ABC'), target=['C', 'F', 'X'], source_origin='labels.txt')
    with pytest.raises(CheckpointMismatchError, match='labels.txt names 3 classes, but cls_head'):
        load_weights(TinyRecognizer(3), eight_class_checkpoint(), classes=classes)


@pytest.mark.parametrize(
    'name', ['ApplyEyeMakeup', 'apply_eye_makeup', 'apply eye makeup', 'Apply-Eye-MakeUp']
)
def test_spellings_of_one_class_normalise_alike(name):
    assert normalise_class_name(name) == 'applyeyemakeup'


def test_match_classes_by_exact_then_normalised_name():
    source = ['apply eye makeup', 'ride_a_bike', 'Run', 'run']
    target = ['ApplyEyeMakeup', 'Ride-A-Bike', 'run', 'swim']
    matches = match_classes(source, target)
    assert [(m.target, m.source, m.source_index, m.how) for m in matches] == [
        ('ApplyEyeMakeup', 'apply eye makeup', 0, 'normalised'),
        ('Ride-A-Bike', 'ride_a_bike', 1, 'normalised'),
        ('run', 'run', 3, 'exact'),  # the exact name wins over 'Run'
    ]
    assert [m.target_index for m in matches] == [0, 1, 2]


def test_a_class_matching_two_checkpoint_classes_is_an_error_naming_both():
    with pytest.raises(ValueError) as error:
        match_classes(['push_up', 'jump', 'PushUp'], ['push up'])
    message = str(error.value)
    assert "'push_up' (label 0) and 'PushUp' (label 2)" in message
    assert "class 'push up'" in message and 'load_cfg.class_map' in message
    # A class map settles it.
    (match,) = match_classes(['push_up', 'jump', 'PushUp'], ['push up'], {'push up': 'PushUp'})
    assert (match.source_index, match.how) == (2, 'class_map')


def test_class_map_file_maps_other_names_and_beats_a_name_match(tmp_path, logger):
    path = tmp_path / 'map.txt'
    path.write_text('# dataset class, checkpoint class\n\nX\tB\nF,A\n')
    class_map = read_class_map(str(path), ['C', 'F', 'X'], SOURCE_CLASSES)
    assert class_map == {'X': 'B', 'F': 'A'}

    mm_logger, log_file = logger
    ckpt = eight_class_checkpoint()
    model = TinyRecognizer(3)
    classes = ClassNames(SOURCE_CLASSES, ['C', 'F', 'X'], class_map=str(path))
    report = load_weights(model, ckpt, logger=mm_logger, classes=classes)
    weight = ckpt['cls_head.fc_cls.weight']
    assert torch.equal(model.cls_head.fc_cls.weight, weight[[2, 0, 1]])
    how = [m.how for m in report.reused_rows['cls_head.fc_cls']]
    assert how == ['exact', 'class_map', 'class_map']
    assert 'reused 3 of 3 classifier rows from the checkpoint: C <- C, F <- A, X <- B' in (
        log_file.read_text()
    )


@pytest.mark.parametrize(
    'lines, message',
    [
        ('X,B\nx,B\n', r":2: 'x' is not a class of the dataset \(did you mean 'X'\?\)"),
        ('X,B\nF,b_\n', r":2: 'b_' is not a class of the checkpoint \(did you mean 'B'\?\)"),
        ('X,B\n\nX,C\n', r":3: 'X' is mapped again \(first at .*map.txt:1\)"),
        ('# c\nX B\n', r':2: expected <dataset class><TAB or ,><checkpoint class>'),
    ],
)
def test_class_map_errors_name_file_and_line(tmp_path, lines, message):
    path = tmp_path / 'map.txt'
    path.write_text(lines)
    with pytest.raises(ValueError, match=re.escape(str(path)) + message):
        read_class_map(str(path), ['C', 'F', 'X'], SOURCE_CLASSES)
    # Nothing is loaded when the map is wrong.
    model = TinyRecognizer(3)
    before = model.backbone.conv.weight.detach().clone()
    classes = ClassNames(SOURCE_CLASSES, ['C', 'F', 'X'], class_map=str(path))
    with pytest.raises(ValueError, match=re.escape(str(path))):
        load_weights(model, eight_class_checkpoint(), classes=classes)
    assert torch.equal(model.backbone.conv.weight, before)


def test_reuse_classifier_rows_leaves_the_fresh_tensors_alone():
    source = {'weight': torch.arange(6.0).reshape(3, 2), 'bias': torch.tensor([1.0, 2.0, 3.0])}
    fresh = {'weight': torch.zeros(2, 2), 'bias': torch.zeros(2)}
    rows, matches = reuse_classifier_rows(source, fresh, ['a', 'b', 'c'], ['new', 'C'])
    assert torch.equal(rows['weight'], torch.tensor([[0.0, 0.0], [4.0, 5.0]]))
    assert torch.equal(rows['bias'], torch.tensor([0.0, 3.0]))
    assert [str(m) for m in matches] == ['C <- c']
    assert not fresh['weight'].any()
    with pytest.raises(ValueError, match=r'weight: checkpoint \[3, 2\] for 2 classes'):
        reuse_classifier_rows(source, fresh, ['a', 'b'], ['new', 'C'])


def test_read_class_names_in_both_label_map_layouts(tmp_path):
    plain = tmp_path / 'k400.txt'
    plain.write_text('abseiling\nair drumming\n\n')
    assert read_class_names(str(plain)) == ['abseiling', 'air drumming']
    indexed = tmp_path / 'classInd.txt'
    indexed.write_text('1 ApplyEyeMakeup\n2 ApplyLipstick\n')
    assert read_class_names(str(indexed)) == ['ApplyEyeMakeup', 'ApplyLipstick']
    indexed.write_text('1 ApplyEyeMakeup\n3 ApplyLipstick\n')
    with pytest.raises(ValueError, match=r'classInd.txt:2: index 3, expected 2'):
        read_class_names(str(indexed))
    plain.write_text('abseiling\nair drumming\nabseiling\n')
    with pytest.raises(
        ValueError, match=r"k400.txt:3: 'abseiling' is named again \(first at line 1"
    ):
        read_class_names(str(plain))


def test_checkpoint_class_names_come_from_the_dataset_meta():
    assert checkpoint_class_names({'meta': {'dataset_meta': {'classes': ('a', 'b')}}}) == ['a', 'b']
    assert checkpoint_class_names({'meta': {'epoch': 3}}) is None
    assert checkpoint_class_names({'state_dict': {}}) is None
