"""ResNet with temporal shift (TSM; Lin et al., ICCV 2019) for 2D recognizers.

The frames of a clip travel as a batch of images ``[N * num_segments, C, H, W]``; before a conv,
``1 / shift_div`` of the channels of every frame are taken from the next frame and another
``1 / shift_div`` from the previous one, so a 2D network mixes information across time at no
extra cost. The shift wraps the conv it precedes, which puts a ``net`` into the state dict keys
exactly where MMAction2 has it:

- ``shift_place='blockres'``: ``layer1.0.conv1.conv.net.weight`` (the residual branch's first conv)
- ``shift_place='block'``: ``layer1.0.net.conv1.conv.weight`` (the whole block)
- ``temporal_pool=True`` wraps ``layer2``: ``layer2.net.0.conv1.conv.net.weight``
- a non-local block after a residual block: ``layer2.0.block.conv1.conv.net.weight`` and
  ``layer2.0.non_local_block.g.0.conv.weight``

:func:`resnet_to_tsm` maps the keys of a 2D ResNet checkpoint onto these wrapped names, and
:func:`torchvision_to_tsm` does the same for torchvision's ImageNet weights.
"""

import logging
from collections import OrderedDict
from typing import Dict, Mapping, Sequence, Tuple, Union

import torch
import torch.nn as nn
from mmengine.logging import print_log

from mmaction_ft.registry import MODELS

from .non_local import NonLocal3d
from .resnet import _OURS_TO_TORCHVISION, ResNet, _rename, torchvision_to_mmaction

# Names of the attribute under which a wrapper keeps the module it wraps (MMAction2's layout).
_WRAPPED_ATTRIBUTES = ('net', 'block')
_NON_LOCAL = '.non_local_block'


class TemporalShift(nn.Module):
    """Shift part of the channels along time, then apply ``net``.

    With ``fold = C // shift_div``, frame ``t`` of the output holds channels ``[0, fold)`` of
    frame ``t + 1`` and channels ``[fold, 2 * fold)`` of frame ``t - 1``; the rest stay. Frames
    shifted in from outside the clip are zeros.

    Args:
        net: The module applied after the shift (a conv, or a whole residual block).
        num_segments: Frames per clip: the batch holds ``N * num_segments`` images.
        shift_div: Reciprocal of the fraction of channels shifted in each direction.
    """

    def __init__(self, net: nn.Module, num_segments: int = 3, shift_div: int = 8):
        super().__init__()
        self.net = net
        self.num_segments = num_segments
        self.shift_div = shift_div

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(self.shift(x, self.num_segments, self.shift_div))

    @staticmethod
    def shift(x: torch.Tensor, num_segments: int, shift_div: int = 3) -> torch.Tensor:
        """Temporally shift ``x`` ``[N * num_segments, C, H, W]``; returns the same shape."""
        n, c, h, w = x.shape
        if n % num_segments:
            raise ValueError(
                f'TemporalShift: batch of {n} images is not a whole number of clips of '
                f'num_segments={num_segments} frames'
            )
        x = x.view(n // num_segments, num_segments, c, h * w)  # [N, T, C, H * W]
        fold = c // shift_div
        out = torch.zeros_like(x)
        out[:, :-1, :fold] = x[:, 1:, :fold]  # frame t sees frame t + 1
        out[:, 1:, fold : 2 * fold] = x[:, :-1, fold : 2 * fold]  # frame t sees frame t - 1
        out[:, :, 2 * fold :] = x[:, :, 2 * fold :]
        return out.view(n, c, h, w)

    def extra_repr(self) -> str:
        return f'num_segments={self.num_segments}, shift_div={self.shift_div}'


class TemporalPool(nn.Module):
    """Halve the frames of each clip (max over 3 frames, stride 2), then apply ``net``.

    Args:
        net: The stage that runs on the pooled frames.
        num_segments: Frames per clip before pooling.
    """

    def __init__(self, net: nn.Module, num_segments: int):
        super().__init__()
        self.net = net
        self.num_segments = num_segments
        self.max_pool3d = nn.MaxPool3d(kernel_size=(3, 1, 1), stride=(2, 1, 1), padding=(1, 0, 0))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        x = x.view(n // self.num_segments, self.num_segments, c, h, w)  # [N, T, C, H, W]
        x = self.max_pool3d(x.transpose(1, 2))  # [N, C, T / 2, H, W]
        x = x.transpose(1, 2).reshape(n // 2, c, h, w)  # [N * T / 2, C, H, W]
        return self.net(x)


class NonLocalWrapper(nn.Module):
    """Run ``block``, then a :class:`NonLocal3d` over the frames of each clip.

    Args:
        block: The residual block (possibly temporally shifted).
        channels: Output channels of ``block``.
        num_segments: Frames per clip at this stage.
        non_local_cfg: Keyword arguments of :class:`NonLocal3d`.
    """

    def __init__(self, block: nn.Module, channels: int, num_segments: int, non_local_cfg: Dict):
        super().__init__()
        self.block = block
        self.non_local_block = NonLocal3d(channels, **non_local_cfg)
        self.num_segments = num_segments

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.block(x)
        n, c, h, w = x.shape
        x = x.view(n // self.num_segments, self.num_segments, c, h, w)  # [N, T, C, H, W]
        x = self.non_local_block(x.transpose(1, 2).contiguous())  # [N, C, T, H, W]
        return x.transpose(1, 2).reshape(n, c, h, w)  # [N * T, C, H, W]


@MODELS.register_module()
class ResNetTSM(ResNet):
    """ResNet with temporal shift: ``[N * num_segments, C, H, W]`` -> stage feature maps.

    Args:
        depth: 18, 34, 50, 101 or 152.
        num_segments: Frames per clip; the input batch must hold whole clips.
        is_shift: Insert temporal shifts (False gives a plain ResNet with TSM's options).
        non_local: Which residual blocks a non-local block follows: per stage, a 0/1 flag for
            all its blocks or a sequence of one flag per block (TSM-NL uses
            ``((0, 0, 0), (1, 0, 1, 0), (1, 0, 1, 0, 1, 0), (0, 0, 0))``). Only used when
            ``non_local_cfg`` is not empty.
        non_local_cfg: Keyword arguments of :class:`NonLocal3d`; empty means no non-local
            blocks. With ``temporal_pool`` the blocks of stages 2-4 group ``num_segments / 2``
            frames per clip (MMAction2 1.2.0 groups ``num_segments`` there, mixing clips).
        shift_div: Shift ``1 / shift_div`` of the channels each way in time (TSM uses 8).
        shift_place: ``'blockres'`` shifts the input of each residual branch (before ``conv1``)
            and keeps the identity unshifted; ``'block'`` shifts the input of the whole block.
            Networks with 23 or more blocks in stage 3 (ResNet-101/152) shift every other block
            with ``'blockres'``, as MMAction2 does.
        temporal_pool: Halve the frames before stage 2 (TSM's "TSM + temporal pooling"); the
            output then holds ``N * num_segments / 2`` feature maps.
        pretrained2d: Whether ``pretrained`` is a 2D ImageNet ResNet in torchvision's layout
            (``torchvision://resnet50``). If False it is in MMAction2's layout: a TSM
            checkpoint, or a 2D ResNet/TSN one whose keys are mapped onto the shifted convs.
        **kwargs: :class:`ResNet` arguments (``pretrained``, ``norm_eval``, ``frozen_stages``
            ...); ``torchvision_pretrain`` is ignored in favour of ``pretrained2d``.
    """

    def __init__(
        self,
        depth: int,
        num_segments: int = 8,
        is_shift: bool = True,
        non_local: Union[int, Sequence] = (0, 0, 0, 0),
        non_local_cfg: Dict = dict(),  # noqa: B006 (never mutated)
        shift_div: int = 8,
        shift_place: str = 'blockres',
        temporal_pool: bool = False,
        pretrained2d: bool = True,
        **kwargs,
    ):
        super().__init__(depth, **kwargs)
        if num_segments < 1:
            raise ValueError(f'ResNetTSM num_segments must be positive, got {num_segments}')
        if shift_div < 1:
            raise ValueError(f'ResNetTSM shift_div must be positive, got {shift_div}')
        if shift_place not in ('block', 'blockres'):
            raise ValueError(
                f"ResNetTSM shift_place must be 'block' or 'blockres', got {shift_place!r}"
            )
        if temporal_pool and (num_segments < 2 or num_segments % 2):
            raise ValueError(
                f'ResNetTSM temporal_pool halves the frames: num_segments must be even, got '
                f'{num_segments}'
            )
        non_local_stages = _non_local_flags(
            non_local, [len(getattr(self, n)) for n in self.res_layers]
        )
        self.num_segments = num_segments
        self.is_shift = is_shift
        self.non_local = non_local
        self.non_local_cfg = non_local_cfg
        self.shift_div = shift_div
        self.shift_place = shift_place
        self.temporal_pool = temporal_pool
        self.pretrained2d = pretrained2d

        if is_shift:
            self._insert_shifts()
        if non_local_cfg:
            self._insert_non_local(non_local_stages)
        if temporal_pool:
            self.layer2 = TemporalPool(self.layer2, num_segments)

    def _stage_segments(self, stage: int) -> int:
        """Frames per clip in stage ``stage`` (0-based): stages after the temporal pool see
        half of them."""
        return self.num_segments // 2 if self.temporal_pool and stage > 0 else self.num_segments

    def _insert_shifts(self) -> None:
        # ResNet-101/152 shift every other block (MMAction2's rule for 'blockres').
        deep = self.num_stages > 2 and len(self.layer3) >= 23
        every = 2 if deep and self.shift_place == 'blockres' else 1
        for i, name in enumerate(self.res_layers):
            num_segments = self._stage_segments(i)
            stage = getattr(self, name)
            for j, block in enumerate(stage):
                if self.shift_place == 'block':
                    stage[j] = TemporalShift(block, num_segments, self.shift_div)
                elif j % every == 0:
                    block.conv1.conv = TemporalShift(block.conv1.conv, num_segments, self.shift_div)

    def _insert_non_local(self, non_local_stages: Sequence[Tuple[int, ...]]) -> None:
        expansion = self.arch_settings[self.depth][0].expansion
        for i, (name, flags) in enumerate(zip(self.res_layers, non_local_stages)):
            stage = getattr(self, name)
            channels = 64 * 2**i * expansion
            for j, flag in enumerate(flags):
                if flag:
                    stage[j] = NonLocalWrapper(
                        stage[j], channels, self._stage_segments(i), self.non_local_cfg
                    )

    def init_weights(self) -> None:
        """Load ``pretrained`` if set (mapped onto the shifted convs), else initialise as
        :class:`ResNet` does; non-local blocks keep their own init unless the file has them."""
        if not self.pretrained:
            super().init_weights()
            # ResNet's init reaches the non-local convs and BN too; give them back their own.
            options = {k: v for k, v in self.non_local_cfg.items() if k in ('std', 'zeros_init')}
            for m in self.modules():
                if isinstance(m, NonLocal3d):
                    m.init_weights(**options)
            return
        from mmaction_ft.engine.weight_loading import load_pretrained

        if self.pretrained2d:
            load_pretrained(
                self,
                self.pretrained,
                convert=torchvision_to_tsm,
                file_key=lambda key: _rename(_unwrapped(key), _OURS_TO_TORCHVISION),
                hint='is the file a ResNet in torchvision layout? (try pretrained2d=False)',
            )
        else:
            load_pretrained(
                self,
                self.pretrained,
                convert=resnet_to_tsm,
                hint='is the file a ResNet in MMAction2 layout? (try pretrained2d=True)',
            )
        self._is_init = True


def _non_local_flags(
    non_local: Union[int, Sequence], stage_blocks: Sequence[int]
) -> Tuple[Tuple[int, ...], ...]:
    """One 0/1 flag per block of each stage, from one flag per stage or per block."""
    if isinstance(non_local, int):
        non_local = (non_local,) * len(stage_blocks)
    non_local = tuple(non_local)
    if len(non_local) < len(stage_blocks):
        raise ValueError(
            f'ResNetTSM non_local needs one entry per stage ({len(stage_blocks)}), got {non_local}'
        )
    flags = []
    for i, (value, num_blocks) in enumerate(zip(non_local, stage_blocks)):
        value = (value,) * num_blocks if isinstance(value, int) else tuple(value)
        if len(value) != num_blocks:
            raise ValueError(
                f'ResNetTSM non_local[{i}] needs one flag per block of stage {i} '
                f'({num_blocks} blocks), got {value}'
            )
        flags.append(value)
    return tuple(flags)


def _unwrapped(key: str) -> str:
    """A TSM key without its wrappers: ``layer1.0.conv1.conv.net.weight`` ->
    ``layer1.0.conv1.conv.weight``, as a 2D ResNet names it."""
    return '.'.join(part for part in key.split('.') if part not in _WRAPPED_ATTRIBUTES)


def resnet_to_tsm(
    state_dict: Mapping[str, torch.Tensor], module: nn.Module
) -> 'OrderedDict[str, torch.Tensor]':
    """Rename a 2D ResNet state dict in MMAction2's layout onto ``module``'s wrapped keys.

    ``layer1.0.conv1.conv.weight`` becomes ``layer1.0.conv1.conv.net.weight`` when ``module``
    shifts that conv; keys already wrapped, and keys ``module`` does not have, keep their names.
    Non-local blocks have no 2D counterpart: when the file lacks them, the result holds
    ``module``'s own (freshly initialised) tensors for them and the log says so. Pure: returns
    a new dict.
    """
    own = module.state_dict()
    wrapped = {_unwrapped(key): key for key in own}
    out = OrderedDict((wrapped.get(key, key), value) for key, value in state_dict.items())
    kept = sorted(
        {key[: key.index(_NON_LOCAL) + len(_NON_LOCAL)] for key in own if _NON_LOCAL in key}
        - {key[: key.index(_NON_LOCAL) + len(_NON_LOCAL)] for key in out if _NON_LOCAL in key}
    )
    for key, value in own.items():
        if any(key.startswith(prefix + '.') for prefix in kept):
            out[key] = value.detach().clone()
    if kept:
        print_log(
            f'{type(module).__name__}: {len(kept)} non-local blocks have no 2D counterpart and '
            f'keep their fresh init: {", ".join(kept)}',
            logger='current',
            level=logging.INFO,
        )
    return out


def torchvision_to_tsm(
    state_dict: Mapping[str, torch.Tensor], module: nn.Module
) -> 'OrderedDict[str, torch.Tensor]':
    """Rename a torchvision ResNet state dict (``layer1.0.bn1.weight``) onto ``module``'s keys
    (``layer1.0.conv1.bn.weight``, ``layer1.0.conv1.conv.net.weight``). Pure."""
    return resnet_to_tsm(torchvision_to_mmaction(state_dict, module), module)
