"""The words of a load: error listings, the strict-mode advice and the log lines, from reports
built by hand (``test_weight_loading.py`` reaches them through real loads)."""

import logging

from mmaction_ft.engine.load_report import (
    MAX_LISTED,
    LoadReport,
    listing,
    log_report,
    pretrained_message,
    strict_message,
    under,
)


def test_under_matches_the_module_and_its_children_only():
    assert under('cls_head.fc_cls', 'cls_head.fc_cls')
    assert under('cls_head.fc_cls.weight', 'cls_head.fc_cls')
    assert not under('cls_head.fc_cls2.weight', 'cls_head.fc_cls')


def test_listing_names_each_fault_and_cuts_a_long_list():
    report = LoadReport(
        source='ckpt.pth',
        mismatched={'a.weight': ((2, 3), (4, 3)), 'b': (None, (1,))},
        missing=['c.bias'],
        unexpected=['d.weight'],
    )
    assert listing(report, file_key=lambda key: f'module.{key}').splitlines() == [
        '  shape mismatch a.weight: checkpoint [2, 3], model [4, 3]',
        '  shape mismatch b: checkpoint not a tensor, model [1]',
        '  missing from checkpoint module.c.bias (for c.bias)',
        '  unexpected in checkpoint d.weight',
    ]
    many = LoadReport(source='x', missing=[f'k{i}' for i in range(MAX_LISTED + 5)])
    lines = listing(many).splitlines()
    assert len(lines) == MAX_LISTED + 1 and lines[-1] == '  ... and 5 more'


def test_a_2d_checkpoint_for_a_3d_model_gets_the_inflation_advice():
    report = LoadReport(source='x', mismatched={'conv.weight': ((8, 3, 7, 7), (8, 3, 1, 7, 7))})
    assert 'pretrained2d=True' in listing(report)
    report.mismatched = {'conv.weight': ((8, 3, 7, 7), (8, 3, 1, 5, 5))}  # other sizes differ
    assert 'pretrained2d' not in listing(report)


def test_strict_message_says_which_num_classes_evaluates_the_checkpoint():
    report = LoadReport(
        source='k400.pth',
        mismatched={
            'cls_head.fc_cls.weight': ((400, 8), (5, 8)),
            'cls_head.fc_cls.bias': ((400,), (5,)),
        },
    )
    message = strict_message(report, {'cls_head.fc_cls': (400, 5)})
    assert message == (
        'checkpoint k400.pth has 400 classes but the model has 5: set '
        'model.cls_head.num_classes=400 to evaluate this checkpoint'
    )  # the head's own shapes are not listed again
    report.missing = ['backbone.conv.weight']
    assert strict_message(report, {}).endswith(
        'shape mismatch cls_head.fc_cls.bias: checkpoint [400], model [5]\n'
        '  missing from checkpoint backbone.conv.weight'
    )


def test_pretrained_message_adds_the_hint_when_most_tensors_are_missing():
    report = LoadReport(source='w.pth', missing=['a', 'b', 'c'], num_model_tensors=4)
    message = pretrained_message('ResNet', report, None, hint='try torchvision names')
    assert message.startswith('pretrained weights w.pth do not fit ResNet:\n')
    assert message.endswith('  most tensors are missing: try torchvision names')
    report.num_model_tensors = 10
    assert 'most tensors' not in pretrained_message('ResNet', report, None, hint='h')


class Records(logging.Handler):
    def __init__(self):
        super().__init__(logging.DEBUG)
        self.records = []

    def emit(self, record):
        self.records.append((record.levelno, record.getMessage()))


def test_log_report_warns_only_in_partial_mode():
    logger = logging.getLogger('test_load_report')
    logger.setLevel(logging.DEBUG)
    logger.propagate = False
    report = LoadReport(
        source='c.pth',
        loaded=['a'],
        missing=['b'],
        kept=['bn.num_batches_tracked'],
        num_model_tensors=3,
    )
    for mode, level in (('partial', logging.WARNING), ('finetune', logging.INFO)):
        handler = Records()
        logger.addHandler(handler)
        try:
            log_report(report, mode, 'TSN', logger)
        finally:
            logger.removeHandler(handler)
        assert handler.records == [
            (level, 'skipped b: not in the checkpoint (kept the model init)'),
            (
                logging.INFO,
                'TSN: loaded 1/3 tensors from c.pth (1 BN step counters not in the file kept)',
            ),
        ]
