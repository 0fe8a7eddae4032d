"""The few-video settings are config keys: ``finetune``, label smoothing, dropout, drop path,
mixup / cutmix (see docs/finetuning.md, "Few videos")."""

from pathlib import Path

import pytest
from mmcv.cnn.bricks import DropPath

from mmaction_ft.config import ConfigError, load_config
from mmaction_ft.registry import MODELS

CONFIGS = Path(__file__).resolve().parents[2] / 'configs'


def test_finetune_is_a_known_key_and_a_typo_of_it_is_not():
    preset = {'finetune': dict(preset='linear_probe')}
    cfg, _ = load_config(str(CONFIGS / 'demo/tsn_r18_demo_pretrain.py'), preset)
    assert cfg.finetune == dict(preset='linear_probe')
    with pytest.raises(
        ConfigError, match="unknown key 'finetun' in config .did you mean 'finetune'"
    ):
        load_config(
            str(CONFIGS / 'demo/tsn_r18_demo_pretrain.py'), {'finetun': dict(preset='full')}
        )


def test_label_smoothing_and_dropout_are_head_settings():
    options = {'model.cls_head.label_smooth_eps': 0.1, 'model.cls_head.dropout_ratio': 0.7}
    cfg, _ = load_config(str(CONFIGS / 'demo/tsn_r18_demo_pretrain.py'), options)
    head = MODELS.build(cfg.model).cls_head
    assert head.label_smooth_eps == 0.1
    assert head.dropout.p == 0.7


def test_drop_path_and_mixup_cutmix_are_model_settings():
    cfg, _ = load_config(str(CONFIGS / 'demo/vit_demo.py'), {'model.backbone.drop_path_rate': 0.3})
    model = MODELS.build(cfg.model)
    rates = [m.drop_prob for m in model.backbone.modules() if isinstance(m, DropPath)]
    assert max(rates) == pytest.approx(0.3)  # linear from 0 to drop_path_rate over the blocks
    augments = model.data_preprocessor.blending.augments
    assert [type(a).__name__ for a in augments] == ['MixupBlending', 'CutmixBlending']


def test_a_finetune_mistake_names_the_file_and_line(tmp_path):
    config = tmp_path / 'few.py'
    config.write_text(
        "model = dict(type='Recognizer2D')\nfinetune = dict(\n    preset='linear_prob')\n"
    )
    with pytest.raises(ConfigError) as info:
        load_config(str(config))
    assert str(info.value) == (
        f"{config}:2: finetune.preset must be one of 'linear_probe', 'partial', 'full', got "
        "'linear_prob' (did you mean 'linear_probe'?)"
    )
