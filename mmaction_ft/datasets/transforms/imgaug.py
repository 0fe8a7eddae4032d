"""MMAction2 0.x's ``Imgaug`` transform without the imgaug library, on torchvision's ops.

imgaug is not a dependency (unmaintained, pins old numpy). The augmenters MMAction2's configs
use are rebuilt here, each as the same image operation with the same argument meaning; every
frame of a clip gets the same draw (0.x called imgaug's ``to_deterministic()`` once per clip).

==================================  ===========================================================
imgaug augmenter (config ``type``)  here (torchvision ``transforms.v2.functional`` on uint8)
==================================  ===========================================================
``Sequential(children)``            every child, in order
``SomeOf(n, children)``             ``n`` distinct children drawn uniformly, in list order
``ShearX(shear)`` / ``ShearY``      ``affine(shear=degrees)`` about the centre, bilinear, fill 0
``TranslateX(percent)`` / ``Y``     ``affine(translate=percent * width / height)``, fill 0
``Rotate(rotate)``                  ``affine(angle=degrees)`` about the centre, bilinear, fill 0
``Posterize(nb_bits)``              ``posterize`` (keep the ``nb_bits`` highest bits)
``Solarize(threshold)``             ``solarize`` (invert values >= threshold)
``EnhanceColor(factor)``            ``adjust_saturation`` (PIL's ``ImageEnhance.Color``)
``EnhanceContrast(factor)``         ``adjust_contrast``
``EnhanceBrightness(factor)``       ``adjust_brightness``
``EnhanceSharpness(factor)``        ``adjust_sharpness`` (PIL's smoothing kernel)
``Autocontrast(cutoff=0)``          ``autocontrast`` (per channel; only ``cutoff=0``)
``Equalize()``                      ``equalize``
``Invert(p)``                       ``invert`` with probability ``p``
``Cutout(nb_iterations, size,       ``nb_iterations`` squares of side ``size * height`` at a
squared=True, cval=128)``           uniform centre (clipped at the border), filled with ``cval``
``Dropout(p)``                      each pixel (all channels) zeroed with probability ``p``
==================================  ===========================================================

An argument is a number (fixed), a ``(low, high)`` tuple (uniform per clip) or a list (one
element per clip), as in imgaug. Any other augmenter or argument is an error that names it.

``transforms='default'`` is 0.x's RandAugment list (magnitude 9 of 10, two of fifteen ops, from
TensorFlow's autoaugment.py), with one documented difference: 0.x drew the sign of each shear,
translation and rotation once, when the transform was built, so a whole run sheared one way;
here the sign is drawn per clip (``[-v, v]``), as RandAugment intends (Cubuk et al., 2019,
arXiv:1909.13719).
"""

from typing import Any, Callable, Dict, List, Sequence, Union

import numpy as np
import torch
from mmcv.transforms import BaseTransform

from mmaction_ft.registry import TRANSFORMS
from mmaction_ft.utils.lazy_import import LazyModule

# Imported on first use (importing torchvision costs seconds per process).
F = LazyModule('torchvision.transforms.v2.functional')
TV_TRANSFORMS = LazyModule('torchvision.transforms')

Op = Callable[[torch.Tensor], torch.Tensor]  # [T, C, H, W] uint8 -> same


def default_transforms() -> List[dict]:
    """0.x's ``Imgaug(transforms='default')`` list, signs drawn per clip (module docstring)."""
    level = 9 / 10  # magnitude 9 on RandAugment's 0..10 scale

    def either_sign(value: float) -> list:
        return [-value, value]

    return [
        dict(
            type='SomeOf',
            n=2,
            children=[
                dict(type='ShearX', shear=either_sign(17.19 * level)),
                dict(type='ShearY', shear=either_sign(17.19 * level)),
                dict(type='TranslateX', percent=either_sign(0.2 * level)),
                dict(type='TranslateY', percent=either_sign(0.2 * level)),
                dict(type='Rotate', rotate=either_sign(30 * level)),
                dict(type='Posterize', nb_bits=max(1, int(4 * level))),
                dict(type='Solarize', threshold=256 * level),
                dict(type='EnhanceColor', factor=1.8 * level + 0.1),
                dict(type='EnhanceContrast', factor=1.8 * level + 0.1),
                dict(type='EnhanceBrightness', factor=1.8 * level + 0.1),
                dict(type='EnhanceSharpness', factor=1.8 * level + 0.1),
                dict(type='Autocontrast', cutoff=0),
                dict(type='Equalize'),
                dict(type='Invert', p=1.0),
                dict(type='Cutout', nb_iterations=1, size=0.2 * level, squared=True),
            ],
        )
    ]


def _draw(value: Any, name: str) -> float:
    """One value of an imgaug parameter: number, (low, high) uniform, or list choice."""
    if isinstance(value, tuple) and len(value) == 2:
        return float(np.random.uniform(value[0], value[1]))
    if isinstance(value, list) and value:
        return float(value[np.random.randint(len(value))])
    if isinstance(value, (int, float)) and not isinstance(value, bool):
        return float(value)
    raise ValueError(
        f'Imgaug: {name}={value!r} must be a number, a (low, high) tuple or a non-empty list'
    )


def _affine(video: torch.Tensor, **kwargs) -> torch.Tensor:
    args = dict(angle=0.0, translate=[0.0, 0.0], scale=1.0, shear=[0.0, 0.0])
    args.update(kwargs)
    return F.affine(video, **args, interpolation=TV_TRANSFORMS.InterpolationMode.BILINEAR, fill=0)


def _cutout(video: torch.Tensor, nb_iterations: Any, size: Any, cval: Any) -> torch.Tensor:
    video = video.clone()
    height, width = video.shape[-2:]
    for _ in range(int(_draw(nb_iterations, 'Cutout.nb_iterations'))):
        side = int(round(_draw(size, 'Cutout.size') * height))
        cy, cx = np.random.uniform(0, height), np.random.uniform(0, width)
        top, left = max(0, int(cy - side / 2)), max(0, int(cx - side / 2))
        bottom, right = min(height, int(cy + side / 2)), min(width, int(cx + side / 2))
        video[..., top:bottom, left:right] = int(_draw(cval, 'Cutout.cval'))
    return video


def _dropout(video: torch.Tensor, p: Any) -> torch.Tensor:
    keep = np.random.uniform(size=video.shape[-2:]) >= _draw(p, 'Dropout.p')
    return video * torch.from_numpy(keep).to(video.dtype)  # same pixels in every frame


# type -> (allowed arguments with defaults, op builder: (args) -> Op drawing per call)
_LEAVES: Dict[str, Any] = {
    'ShearX': (
        dict(shear=0.0),
        lambda a: lambda v: _affine(v, shear=[_draw(a['shear'], 'ShearX.shear'), 0.0]),
    ),
    'ShearY': (
        dict(shear=0.0),
        lambda a: lambda v: _affine(v, shear=[0.0, _draw(a['shear'], 'ShearY.shear')]),
    ),
    'TranslateX': (
        dict(percent=0.0),
        lambda a: (
            lambda v: _affine(
                v, translate=[_draw(a['percent'], 'TranslateX.percent') * v.shape[-1], 0.0]
            )
        ),
    ),
    'TranslateY': (
        dict(percent=0.0),
        lambda a: (
            lambda v: _affine(
                v, translate=[0.0, _draw(a['percent'], 'TranslateY.percent') * v.shape[-2]]
            )
        ),
    ),
    'Rotate': (
        dict(rotate=0.0),
        lambda a: lambda v: _affine(v, angle=_draw(a['rotate'], 'Rotate.rotate')),
    ),
    'Posterize': (
        dict(nb_bits=4),
        lambda a: lambda v: F.posterize(v, int(_draw(a['nb_bits'], 'Posterize.nb_bits'))),
    ),
    'Solarize': (
        dict(threshold=128.0, p=1.0),
        lambda a: (
            lambda v: (
                F.solarize(v, min(255.0, _draw(a['threshold'], 'Solarize.threshold')))
                if np.random.uniform() < a['p']
                else v
            )
        ),
    ),
    'EnhanceColor': (
        dict(factor=1.0),
        lambda a: lambda v: F.adjust_saturation(v, _draw(a['factor'], 'EnhanceColor.factor')),
    ),
    'EnhanceContrast': (
        dict(factor=1.0),
        lambda a: lambda v: F.adjust_contrast(v, _draw(a['factor'], 'EnhanceContrast.factor')),
    ),
    'EnhanceBrightness': (
        dict(factor=1.0),
        lambda a: lambda v: F.adjust_brightness(v, _draw(a['factor'], 'EnhanceBrightness.factor')),
    ),
    'EnhanceSharpness': (
        dict(factor=1.0),
        lambda a: lambda v: F.adjust_sharpness(v, _draw(a['factor'], 'EnhanceSharpness.factor')),
    ),
    'Autocontrast': (dict(cutoff=0), lambda a: F.autocontrast),
    'Equalize': (dict(), lambda a: F.equalize),
    'Invert': (
        dict(p=1.0),
        lambda a: lambda v: F.invert(v) if np.random.uniform() < a['p'] else v,
    ),
    'Cutout': (
        dict(nb_iterations=1, size=0.2, squared=True, cval=128),
        lambda a: lambda v: _cutout(v, a['nb_iterations'], a['size'], a['cval']),
    ),
    'Dropout': (dict(p=(0.0, 0.05)), lambda a: lambda v: _dropout(v, a['p'])),
}
_CONTAINERS = ('Sequential', 'SomeOf')
SUPPORTED = _CONTAINERS + tuple(_LEAVES)
_INSTEAD = (
    'use one of these, or mmaction_ft transforms in the pipeline instead (ColorJitter, '
    "PytorchVideoWrapper(op='RandAugment'), RandomErasing)"
)


def build_augmenter(cfg: dict, where: str = 'transforms') -> Op:
    """An imgaug-style augmenter config -> a function of a ``[T, C, H, W]`` uint8 clip."""
    if not isinstance(cfg, dict) or not isinstance(cfg.get('type'), str):
        raise TypeError(f'Imgaug: {where} must be a dict with a string type, got {cfg!r}')
    kind, args = cfg['type'], {k: v for k, v in cfg.items() if k != 'type'}
    if kind not in SUPPORTED:
        raise ValueError(
            f'Imgaug: {where}: the imgaug augmenter {kind!r} is not reproduced by mmaction_ft '
            f'(imgaug is not a dependency); supported: {", ".join(SUPPORTED)}; {_INSTEAD}'
        )
    if kind in _CONTAINERS:
        return _build_container(kind, args, where)
    defaults, make = _LEAVES[kind]
    unknown = sorted(set(args) - set(defaults))
    if unknown:
        raise ValueError(
            f'Imgaug: {where}: {kind} argument(s) {unknown} are not reproduced; '
            f'supported: {sorted(defaults) or "none"}'
        )
    args = {**defaults, **args}
    if kind == 'Autocontrast' and args['cutoff'] != 0:
        raise ValueError(f'Imgaug: {where}: Autocontrast supports cutoff=0 only')
    if kind == 'Cutout' and args['squared'] is not True:
        raise ValueError(f'Imgaug: {where}: Cutout supports squared=True only')
    return make(args)


def _build_container(kind: str, args: dict, where: str) -> Op:
    allowed = {'children', 'n'} if kind == 'SomeOf' else {'children'}
    unknown = sorted(set(args) - allowed)
    if unknown:
        raise ValueError(f'Imgaug: {where}: {kind} argument(s) {unknown} are not reproduced')
    children = args.get('children') or []
    if not isinstance(children, (list, tuple)):
        raise TypeError(f'Imgaug: {where}: {kind}.children must be a list of augmenter dicts')
    ops = [build_augmenter(c, f'{where}.children.{i}') for i, c in enumerate(children)]
    if kind == 'Sequential':
        return _sequence(ops)
    n = args.get('n', 1)
    if not (isinstance(n, int) and 0 <= n <= len(ops)):
        raise ValueError(f'Imgaug: {where}: SomeOf.n must be an int in [0, {len(ops)}], got {n!r}')

    def some_of(video: torch.Tensor) -> torch.Tensor:
        chosen = sorted(np.random.choice(len(ops), n, replace=False).tolist())
        return _sequence([ops[i] for i in chosen])(video)

    return some_of


def _sequence(ops: Sequence[Op]) -> Op:
    def run(video: torch.Tensor) -> torch.Tensor:
        for op in ops:
            video = op(video)
        return video

    return run


@TRANSFORMS.register_module()
class Imgaug(BaseTransform):
    """MMAction2 0.x's ``Imgaug`` on RGB frames, one draw per clip (see the module table).

    Required Keys:
        - imgs: ``H x W x 3`` uint8 RGB frames
        - modality (optional, must be ``'RGB'``)

    Modified Keys:
        - imgs
        - img_shape

    Args:
        transforms: ``'default'`` (0.x's RandAugment list, :func:`default_transforms`) or a
            list of imgaug augmenter dicts (``[dict(type='Rotate', rotate=(-20, 20))]``),
            applied in order. imgaug objects cannot be given: imgaug is not installed.
    """

    def __init__(self, transforms: Union[str, List[dict]]) -> None:
        if transforms == 'default':
            cfgs = default_transforms()
        elif isinstance(transforms, (list, tuple)):
            cfgs = list(transforms)
        else:
            raise ValueError(
                "Imgaug: transforms must be 'default' or a list of augmenter dicts "
                f'(imgaug objects need imgaug, which is not a dependency), got {transforms!r}'
            )
        self.transforms = transforms
        self.aug = _sequence([build_augmenter(c, f'transforms.{i}') for i, c in enumerate(cfgs)])

    def transform(self, results: dict) -> dict:
        """Augment every frame of ``imgs`` with one draw."""
        if results.get('modality', 'RGB') != 'RGB':
            raise ValueError(f'Imgaug: RGB frames only, got modality {results["modality"]!r}')
        frames = np.stack(results['imgs'])  # [T, H, W, C]
        if frames.dtype != np.uint8:
            raise TypeError(f'Imgaug: uint8 frames only, got {frames.dtype}')
        video = torch.from_numpy(frames).permute(0, 3, 1, 2)  # [T, C, H, W]
        video = self.aug(video.contiguous())
        frames = video.permute(0, 2, 3, 1).numpy()  # [T, H, W, C]
        results['imgs'] = list(frames)
        results['img_shape'] = frames.shape[1:3]
        return results

    def __repr__(self) -> str:
        return f'{type(self).__name__}(transforms={self.transforms!r})'
