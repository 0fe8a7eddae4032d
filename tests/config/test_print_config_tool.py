"""tools/misc/print_config.py prints the final config, then the translation summary; the report
logs the same summary once."""

import logging
import runpy
from pathlib import Path

from legacy_cfg_fixtures import (
    LEGACY_BASE_LIST,
    LEGACY_BASES,
    tutorial_leaf,
    with_bases,
    write_configs,
)
from mmengine.config import Config

from mmaction_ft.config import TranslationReport, load_config

TOOL = Path(__file__).resolve().parents[2] / 'tools' / 'misc' / 'print_config.py'


def test_print_config_shows_final_config_then_translation(tmp_path, capsys):
    path = write_configs(tmp_path, with_bases(tutorial_leaf(LEGACY_BASE_LIST), LEGACY_BASES))
    main = runpy.run_path(str(TOOL), run_name='print_config')['main']
    main([str(path), '--cfg-options', 'optimizer.lr=0.001'])
    out = capsys.readouterr().out
    config_text, _, summary = out.partition('MMAction2 0.x config keys translated')
    printed = Config.fromstring(config_text, '.py')
    assert printed.optim_wrapper.optimizer.lr == 0.001
    assert 'lr_config' not in printed and 'optimizer' not in printed
    assert '  optimizer -> optim_wrapper.optimizer' in summary
    assert '  lr_config -> param_scheduler' in summary


def test_report_lines_group_one_old_key_and_log_once(tmp_path, caplog):
    report = TranslationReport()
    report.add('total_epochs', 'train_cfg.type')
    report.add('total_epochs', 'train_cfg.max_epochs')
    report.add('workflow', '(dropped)', 'validation runs in the val loop')
    assert report.lines == [
        'total_epochs -> train_cfg.type, train_cfg.max_epochs',
        'workflow -> (dropped)  (validation runs in the val loop)',
    ]
    logger = logging.getLogger('mmaction_ft.test_report')
    with caplog.at_level(logging.INFO, logger=logger.name):
        report.log(logger)
        TranslationReport().log(logger)  # nothing translated: nothing logged
    assert len(caplog.records) == 1
    assert 'workflow -> (dropped)' in caplog.records[0].getMessage()


def test_translated_config_dumps_and_reloads_as_plain_mmengine(tmp_path):
    path = write_configs(tmp_path, with_bases(tutorial_leaf(LEGACY_BASE_LIST), LEGACY_BASES))
    cfg, _ = load_config(str(path))
    dumped = tmp_path / 'dumped.py'
    cfg.dump(str(dumped))
    again, report = load_config(str(dumped))
    assert len(report) == 0  # already mmengine style
    assert again.param_scheduler == cfg.param_scheduler
    assert again.model == cfg.model
