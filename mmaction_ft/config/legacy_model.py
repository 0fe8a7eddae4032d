"""MMAction2 0.x model settings and keys without equivalent -> mmengine.

- A 0.x key with no mmaction_ft equivalent (``precise_bn``, ``omnisource`` ...) is an error with
  advice, unless it is empty.
- Top-level ``train_cfg`` / ``test_cfg`` holding the recognizer's settings (0.x configs written
  before they moved into ``model``) go into ``model``.
- ``model.test_cfg.average_clips`` -> ``model.cls_head.average_clips``;
  ``model.train_cfg.blending`` -> ``model.data_preprocessor.blending``.
- Backbones of other libraries, named by prefix in MMAction2 (0.x and 1.x alike):
  ``type='torchvision.NAME'`` -> ``type='TorchvisionBackbone', model_name=NAME`` (with
  ``pretrained=True`` -> ``pretrained='torchvision://NAME'``, loaded by mmaction_ft),
  ``type='timm.NAME'`` -> ``type='TimmBackbone', model_name=NAME``; ``type='mmcls.NAME'`` is an
  error (MMClassification is not supported).
"""

from .dialect import LOOP_CFG_NAMES, UNSUPPORTED_LEGACY_KEYS, is_model_cfg
from .errors import ConfigError
from .keypaths import MISSING, get_path
from .legacy_context import TranslationContext

# Library prefix of an MMAction2 backbone type -> the mmaction_ft adapter class.
_FOREIGN_BACKBONES = {'torchvision': 'TorchvisionBackbone', 'timm': 'TimmBackbone'}


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
    translate_foreign_backbone(t)


def translate_foreign_backbone(t: TranslationContext) -> None:
    """``model.backbone.type='torchvision.NAME'`` / ``'timm.NAME'`` -> the adapter classes."""
    backbone = get_path(t.cfg, 'model.backbone', None)
    kind = backbone.get('type') if isinstance(backbone, dict) else None
    if not isinstance(kind, str) or '.' not in kind:
        return
    library, name = kind.split('.', 1)
    if library == 'mmcls':
        raise ConfigError(
            f'model.backbone.type={kind!r}: MMClassification (mmcls) backbones are not supported '
            "by mmaction_ft. Use a torchvision model (type='torchvision.resnext101_32x8d', "
            "'torchvision.resnext50_32x4d' ...), a timm model (type='timm.resnext101_32x4d', "
            "needs `pip install timm`) or an mmaction_ft backbone (type='ResNet')"
            + t.where('model')
        )
    if library not in _FOREIGN_BACKBONES:
        return
    new = {k: v for k, v in backbone.items() if k != 'type'}
    new = dict(type=_FOREIGN_BACKBONES[library], model_name=name, **new)
    detail = f'{library} model {name}'
    if library == 'torchvision' and isinstance(new.get('pretrained'), bool):
        # torchvision's own pretrained=True downloads outside the weight loader.
        new['pretrained'] = f'torchvision://{name}' if new['pretrained'] else None
        detail += f', pretrained={new["pretrained"]!r}'
    t.cfg['model']['backbone'] = new
    t.report.add('model.backbone.type', 'model.backbone.type, model.backbone.model_name', detail)
