"""MMAction2 0.x model settings and keys without equivalent -> mmengine.

- A 0.x key with no mmaction_ft equivalent (``precise_bn``, ``omnisource`` ...) is an error with
  advice, unless it is empty.
- Top-level ``train_cfg`` / ``test_cfg`` holding the recognizer's settings (0.x configs written
  before they moved into ``model``) go into ``model``.
- ``model.test_cfg.average_clips`` -> ``model.cls_head.average_clips``;
  ``model.train_cfg.blending`` -> ``model.data_preprocessor.blending``.
"""

from .dialect import LOOP_CFG_NAMES, UNSUPPORTED_LEGACY_KEYS, is_model_cfg
from .errors import ConfigError
from .keypaths import MISSING
from .legacy_context import TranslationContext


def translate_unsupported(t: TranslationContext) -> None:
    """Fail on a set 0.x key that has no equivalent; drop it when empty."""
    for key, advice in UNSUPPORTED_LEGACY_KEYS.items():
        value = t.cfg.get(key, MISSING)
        if value is MISSING:
            continue
        if value:
            raise ConfigError(
                f"'{key}' (MMAction2 0.x) has no mmaction_ft equivalent: {advice}{t.where(key)}"
            )
        t.pop(key)
        t.drop(key, 'empty')


def translate_top_level_model_cfgs(t: TranslationContext) -> None:
    """0.x configs from before the move kept the recognizer's train_cfg / test_cfg on top."""
    for name in LOOP_CFG_NAMES:
        value = t.cfg.get(name, MISSING)
        if value is MISSING or not is_model_cfg(value):
            continue
        t.pop(name)
        if value is None:
            if t.is_legacy:
                t.drop(name, 'top-level None is the 0.x recognizer setting, not a loop')
            continue
        model = t.cfg.get('model')
        if name == 'val_cfg' or not isinstance(model, dict):
            t.drop(name, f'{value!r} is not a loop and has no place in the model')
            continue
        merged = dict(model.get(name) or {})
        merged.update(value)
        model[name] = merged
        t.report.add(name, f'model.{name}', 'the 0.x recognizer setting, not a loop')


def translate_model_cfgs(t: TranslationContext) -> None:
    """The recognizer's 0.x ``test_cfg`` / ``train_cfg`` entries that moved to its parts."""
    model = t.cfg.get('model')
    if not isinstance(model, dict):
        return
    test_cfg = model.get('test_cfg')
    has_head = isinstance(model.get('cls_head'), dict)
    if isinstance(test_cfg, dict) and 'average_clips' in test_cfg and has_head:
        value = test_cfg.pop('average_clips')
        t.write('model.test_cfg.average_clips', 'model.cls_head.average_clips', value)
        if not test_cfg:
            model['test_cfg'] = None
    train_cfg = model.get('train_cfg')
    if isinstance(train_cfg, dict) and 'blending' in train_cfg:
        value = train_cfg.pop('blending')
        t.write('model.train_cfg.blending', 'model.data_preprocessor.blending', value)
        model.setdefault('data_preprocessor', {}).setdefault('type', 'ActionDataPreprocessor')
        if not train_cfg:
            model['train_cfg'] = None
