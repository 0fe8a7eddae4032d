"""RandAugment and AugMix for whole clips, with pytorchvideo 0.1.5's op tables, on torchvision.

MMAction2 1.2.0's video-transformer recipes (MViT, UniFormerV2) augment with
``PytorchVideoWrapper(op='RandAugment', magnitude=7, num_layers=4)``, i.e. pytorchvideo's
``RandAugment``. pytorchvideo is not a dependency here, so its two policies are rebuilt on
torchvision's functional ops, which apply one set of parameters to every leading index of a
``[T, C, H, W]`` tensor: every frame of a clip gets the same ops with the same magnitudes.

What is kept from pytorchvideo (``transforms/{rand_augment,augmix,augmentations}.py``): the op
list, the level -> argument tables (level 0..10), the per-layer probability, the magnitude
sampling (Gaussian around ``magnitude`` with std 0.5, clipped to [0, 10], for RandAugment;
uniform in [0.1, magnitude] for AugMix), the fill value, the torchvision calls and the order of
the draws from torch's global generator. Checked once against pytorchvideo 0.1.5's source
(run on this torchvision) and against MMAction2's ``PytorchVideoWrapper``: under the same
``torch.manual_seed`` the outputs were identical, pixel for pixel; the tests keep MMAction2's
results as constants. pytorchvideo is not a dependency, so a future pytorchvideo or torchvision
may draw differently: rely on the same distribution of ops, not on the same draws.

torchvision's own ``v2.RandAugment`` is a different policy (every layer always applied, a fixed
magnitude on a 31-bin scale, no Invert): ``magnitude=7`` there is a much weaker augmentation
than the 7-of-10 the recipes were tuned with, so it is not used.
Cubuk et al., "RandAugment", 2019 (arXiv:1909.13719); Hendrycks et al., "AugMix", ICLR 2020.
"""

import math
from typing import Any, Callable, Dict, Optional, Tuple

import torch

from mmaction_ft.utils.lazy_import import LazyModule

# Imported on first use (importing torchvision costs seconds per process).
F1 = LazyModule('torchvision.transforms.functional')
F2 = LazyModule('torchvision.transforms.v2.functional')
TV_TRANSFORMS = LazyModule('torchvision.transforms')

MAX_LEVEL = 10  # pytorchvideo's _AUGMENTATION_MAX_LEVEL
DEFAULT_FILL = (0.5, 0.5, 0.5)  # pytorchvideo's default; on uint8 clips it rounds to black


def _bilinear():
    return TV_TRANSFORMS.InterpolationMode.BILINEAR


def _rand() -> float:
    return torch.rand(1).item()


# --------------------------------------------------------------------------- ops
# Each op takes the clip ``[T, C, H, W]`` (uint8), its argument (if any) and ``fill``.
def _affine(video: torch.Tensor, fill, translate=(0.0, 0.0), shear=(0.0, 0.0)) -> torch.Tensor:
    # center=[0, 0] shears about the top-left corner, which reproduces pytorchvideo's raw
    # inverse matrices ([1, f, H * f / 2, 0, 1, 0] for ShearX, ...) exactly.
    return F2.affine(
        video,
        angle=0.0,
        translate=list(translate),
        scale=1.0,
        shear=list(shear),
        interpolation=_bilinear(),
        fill=list(fill),
        center=[0, 0],
    )


def _shear_x(video, factor, fill):
    return _affine(video, fill, shear=(math.degrees(math.atan(factor)), 0.0))


def _shear_y(video, factor, fill):
    return _affine(video, fill, shear=(0.0, math.degrees(math.atan(factor))))


def _translate_x(video, factor, fill):
    # pytorchvideo's inverse matrix [1, 0, t, 0, 1, 0] moves the content by -t.
    return _affine(video, fill, translate=(-factor * video.shape[-1], 0.0))


def _translate_y(video, factor, fill):
    return _affine(video, fill, translate=(0.0, -factor * video.shape[-2]))


def _rotate(video, angle, fill):
    return F1.rotate(video, angle, interpolation=_bilinear(), fill=list(fill))


def _posterize(video, bits, fill):
    return video if bits >= 8 else F1.posterize(video, int(bits))


def _solarize(video, factor, fill):
    return F1.solarize(video, int(factor * 255.0))


OPS: Dict[str, Callable[..., torch.Tensor]] = {
    'AdjustBrightness': lambda v, f, fill: F1.adjust_brightness(v, f),
    'AdjustContrast': lambda v, f, fill: F1.adjust_contrast(v, f),
    'AdjustSaturation': lambda v, f, fill: F1.adjust_saturation(v, f),
    'AdjustSharpness': lambda v, f, fill: F1.adjust_sharpness(v, f),
    'AutoContrast': lambda v, fill: F1.autocontrast(v),
    'Equalize': lambda v, fill: F1.equalize(v),
    'Invert': lambda v, fill: F1.invert(v),
    'Rotate': _rotate,
    'Posterize': _posterize,
    'Solarize': _solarize,
    'ShearX': _shear_x,
    'ShearY': _shear_y,
    'TranslateX': _translate_x,
    'TranslateY': _translate_y,
}


# --------------------------------------------------------------------------- levels
# A level (0..MAX_LEVEL) becomes the op's argument through (kind, base, max_change).
def _level_to_arg(kind: str, level: float, params: Tuple[float, float]) -> Tuple[float, ...]:
    change = level / MAX_LEVEL * params[1]
    if kind == 'increasing':
        return (params[0] + change,)
    if kind == 'negate':  # increasing, with the sign flipped half of the time
        return (params[0] + (change if _rand() > 0.5 else -change),)
    if kind == 'decreasing_int':
        return (params[0] - int(change),)
    return (params[0] - change,)  # 'decreasing'


_NEGATE_GEOMETRY = {
    'Rotate': ('negate', (0, 30)),
    'ShearX': ('negate', (0, 0.3)),
    'ShearY': ('negate', (0, 0.3)),
}
# RandAugment's table (pytorchvideo transforms/rand_augment.py), in pytorchvideo's op order.
RANDAUG_OPS = {
    'AdjustBrightness': ('negate', (1, 0.9)),
    'AdjustContrast': ('negate', (1, 0.9)),
    'AdjustSaturation': ('negate', (1, 0.9)),
    'AdjustSharpness': ('negate', (1, 0.9)),
    'AutoContrast': None,
    'Equalize': None,
    'Invert': None,
    'Rotate': _NEGATE_GEOMETRY['Rotate'],
    'Posterize': ('decreasing_int', (4, 4)),
    'Solarize': ('decreasing', (1, 1)),
    'ShearX': _NEGATE_GEOMETRY['ShearX'],
    'ShearY': _NEGATE_GEOMETRY['ShearY'],
    'TranslateX': ('negate', (0, 0.45)),
    'TranslateY': ('negate', (0, 0.45)),
}
# AugMix's table (pytorchvideo transforms/augmix.py): no Invert, colour ops only strengthen.
AUGMIX_OPS = {
    'AutoContrast': None,
    'Equalize': None,
    'Rotate': _NEGATE_GEOMETRY['Rotate'],
    'Posterize': ('decreasing_int', (4, 4)),
    'Solarize': ('decreasing', (1, 1)),
    'ShearX': _NEGATE_GEOMETRY['ShearX'],
    'ShearY': _NEGATE_GEOMETRY['ShearY'],
    'TranslateX': ('negate', (0, 1.0 / 3.0)),
    'TranslateY': ('negate', (0, 1.0 / 3.0)),
    'AdjustSaturation': ('increasing', (0.1, 1.8)),
    'AdjustContrast': ('increasing', (0.1, 1.8)),
    'AdjustBrightness': ('increasing', (0.1, 1.8)),
    'AdjustSharpness': ('increasing', (0.1, 1.8)),
}


def _check_fill(owner: str, transform_hparas: Optional[Dict[str, Any]]) -> Tuple[float, ...]:
    hparas = transform_hparas or {'fill': DEFAULT_FILL}
    fill = hparas.get('fill') if isinstance(hparas, dict) else None
    if not (isinstance(fill, (tuple, list)) and len(fill) == 3):
        raise ValueError(
            f'{owner}: transform_hparas must be dict(fill=(r, g, b)), got {transform_hparas!r}'
        )
    return tuple(float(v) for v in fill)


class VideoRandAugment:
    """pytorchvideo's ``RandAugment`` on a ``[T, C, H, W]`` uint8 clip, one draw per clip.

    ``num_layers`` distinct ops are drawn uniformly from the 14 of :data:`RANDAUG_OPS`; each is
    applied with probability ``prob`` at a level drawn around ``magnitude`` (see the module
    docstring for what matches pytorchvideo and what does not).

    Args:
        magnitude: Level 0..10 of every op.
        num_layers: Ops drawn per clip, 1..14 (without replacement).
        prob: Probability of applying each drawn op.
        transform_hparas: ``dict(fill=(r, g, b))``, the fill of the geometric ops in pixel
            units (pytorchvideo's default ``(0.5, 0.5, 0.5)`` rounds to 0 on uint8).
        sampling_type: ``'gaussian'`` (level ~ N(magnitude, sampling_std) clipped to [0, 10])
            or ``'uniform'`` (an int level in [sampling_min, magnitude]).
        sampling_hparas: ``sampling_std`` / ``sampling_min``; default ``std=0.5, min=0``.
    """

    def __init__(
        self,
        magnitude: float = 9,
        num_layers: int = 2,
        prob: float = 0.5,
        transform_hparas: Optional[Dict[str, Any]] = None,
        sampling_type: str = 'gaussian',
        sampling_hparas: Optional[Dict[str, Any]] = None,
    ) -> None:
        owner = 'PytorchVideoWrapper(op=RandAugment)'
        if not (isinstance(magnitude, (int, float)) and 0 <= magnitude <= MAX_LEVEL):
            raise ValueError(f'{owner}: magnitude must be in [0, {MAX_LEVEL}], got {magnitude!r}')
        if not (isinstance(num_layers, int) and 1 <= num_layers <= len(RANDAUG_OPS)):
            raise ValueError(
                f'{owner}: num_layers must be an int in [1, {len(RANDAUG_OPS)}], got {num_layers!r}'
            )
        if not (isinstance(prob, (int, float)) and 0 <= prob <= 1):
            raise ValueError(f'{owner}: prob must be in [0, 1], got {prob!r}')
        if sampling_type not in ('gaussian', 'uniform'):
            raise ValueError(
                f"{owner}: sampling_type must be 'gaussian' or 'uniform', got {sampling_type!r}"
            )
        hparas = dict(sampling_std=0.5, sampling_min=0, **(sampling_hparas or {}))
        self.magnitude = magnitude
        self.num_layers = num_layers
        self.prob = prob
        self.fill = _check_fill(owner, transform_hparas)
        self.sampling_type = sampling_type
        self.sampling_std = float(hparas['sampling_std'])
        self.sampling_min = int(hparas['sampling_min'])
        self.op_names = list(RANDAUG_OPS)

    def _level(self) -> float:
        if self.sampling_type == 'gaussian':
            level = torch.normal(float(self.magnitude), self.sampling_std, size=(1,)).item()
            return max(0.0, min(float(MAX_LEVEL), level))
        return torch.randint(self.sampling_min, int(self.magnitude) + 1, size=(1,)).item()

    def __call__(self, video: torch.Tensor) -> torch.Tensor:
        weights = torch.ones(len(self.op_names))
        for index in torch.multinomial(weights, self.num_layers, replacement=False).tolist():
            if _rand() > self.prob:
                continue
            name = self.op_names[index]
            video = _apply(name, RANDAUG_OPS[name], self._level(), video, self.fill)
        return video

    def __repr__(self) -> str:
        return (
            f'{type(self).__name__}(magnitude={self.magnitude}, num_layers={self.num_layers}, '
            f'prob={self.prob}, fill={self.fill}, sampling_type={self.sampling_type!r})'
        )


def _apply(name: str, level_rule, level: float, video: torch.Tensor, fill) -> torch.Tensor:
    args = () if level_rule is None else _level_to_arg(level_rule[0], level, level_rule[1])
    return OPS[name](video, *args, fill=fill)


class VideoAugMix:
    """pytorchvideo's ``AugMix`` on a ``[T, C, H, W]`` uint8 clip, one draw per clip.

    ``width`` chains of ``depth`` ops (1..3 at random when ``depth=-1``, drawn with
    replacement from the 13 of :data:`AUGMIX_OPS`, each at a level uniform in
    [0.1, magnitude]) are averaged with Dirichlet(alpha) weights and blended with the clip
    with a Beta(alpha, alpha) weight; the result is truncated to uint8 as in pytorchvideo.

    Args:
        magnitude: Largest level, an int in [1, 10].
        alpha: Concentration of the Dirichlet and Beta draws, > 0.
        width: Number of chains, >= 1.
        depth: Ops per chain, or -1 for a random 1..3 per chain.
        transform_hparas: ``dict(fill=(r, g, b))`` as for :class:`VideoRandAugment`.
        sampling_hparas: ``sampling_min`` (default 0.1), the lowest level.
    """

    def __init__(
        self,
        magnitude: int = 3,
        alpha: float = 1.0,
        width: int = 3,
        depth: int = -1,
        transform_hparas: Optional[Dict[str, Any]] = None,
        sampling_hparas: Optional[Dict[str, Any]] = None,
    ) -> None:
        owner = 'PytorchVideoWrapper(op=AugMix)'
        if not (isinstance(magnitude, int) and 1 <= magnitude <= MAX_LEVEL):
            raise ValueError(
                f'{owner}: magnitude must be an int in [1, {MAX_LEVEL}], got {magnitude!r}'
            )
        if not (isinstance(alpha, (int, float)) and alpha > 0):
            raise ValueError(f'{owner}: alpha must be > 0, got {alpha!r}')
        if not (isinstance(width, int) and width >= 1):
            raise ValueError(f'{owner}: width must be an int >= 1, got {width!r}')
        if not (isinstance(depth, int) and (depth >= 1 or depth == -1)):
            raise ValueError(
                f'{owner}: depth must be an int >= 1 or -1 (random 1..3), got {depth!r}'
            )
        self.magnitude = magnitude
        self.alpha = float(alpha)
        self.width = width
        self.depth = depth
        self.fill = _check_fill(owner, transform_hparas)
        self.sampling_min = float((sampling_hparas or {}).get('sampling_min', 0.1))
        self.op_names = list(AUGMIX_OPS)
        self._dirichlet = torch.distributions.Dirichlet(torch.full((width,), self.alpha))
        self._beta = torch.distributions.Beta(self.alpha, self.alpha)

    def _chain(self, video: torch.Tensor) -> torch.Tensor:
        depth = torch.randint(1, 4, (1,)).item() if self.depth == -1 else self.depth
        weights = torch.ones(len(self.op_names))
        for index in torch.multinomial(weights, depth, replacement=True).tolist():
            _rand()  # pytorchvideo draws its (always passed) prob=1.0 check
            level = _rand() * (self.magnitude - self.sampling_min) + self.sampling_min
            name = self.op_names[index]
            video = _apply(name, AUGMIX_OPS[name], level, video, self.fill)
        return video

    def __call__(self, video: torch.Tensor) -> torch.Tensor:
        mixing_weights = self._dirichlet.sample()
        m = self._beta.sample().item()
        mixed = torch.zeros(video.shape, dtype=torch.float32)
        for weight in mixing_weights:
            mixed += weight * self._chain(video)
        return (m * video + (1 - m) * mixed).to(video.dtype)

    def __repr__(self) -> str:
        return (
            f'{type(self).__name__}(magnitude={self.magnitude}, alpha={self.alpha}, '
            f'width={self.width}, depth={self.depth}, fill={self.fill})'
        )
