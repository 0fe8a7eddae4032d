"""Video Swin Transformer (Liu et al., "Video Swin Transformer", CVPR 2022) as a backbone, with
MMAction2 1.2.0's arguments and state dict.

A clip ``[N, C, T, H, W]`` is cut into ``patch_size`` patches (``(2, 4, 4)``: T / 2, H / 4,
W / 4 tokens), then four stages of (shifted-)window attention blocks follow, each but the last
ending in a patch merging that halves H and W and doubles the width. The state dict reads
``patch_embed.proj.weight``, ``layers.0.blocks.1.attn.relative_position_bias_table``,
``layers.0.blocks.1.attn.relative_position_index`` (a buffer), ``layers.0.downsample.reduction
.weight``, ``norm3.weight``.

Loading lives in :func:`mmaction_ft.engine.weight_loading.load_pretrained`; this file provides the
pure 2D -> 3D converter :func:`inflate_swin2d_state_dict` for ImageNet Swin checkpoints.
"""

import logging
import math
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmcv.cnn import build_norm_layer
from mmengine.logging import print_log
from mmengine.model import BaseModule, ModuleList

from mmaction_ft.registry import MODELS

from .swin_blocks import BasicLayer, PatchEmbed3D

_ARCH_KEYS = {'embed_dims', 'depths', 'num_heads'}
_TINY = dict(embed_dims=96, depths=[2, 2, 6, 2], num_heads=[3, 6, 12, 24])
_SMALL = dict(embed_dims=96, depths=[2, 2, 18, 2], num_heads=[3, 6, 12, 24])
_BASE = dict(embed_dims=128, depths=[2, 2, 18, 2], num_heads=[4, 8, 16, 32])
_LARGE = dict(embed_dims=192, depths=[2, 2, 18, 2], num_heads=[6, 12, 24, 48])


@MODELS.register_module()
class SwinTransformer3D(BaseModule):
    """Video Swin Transformer: ``[N, C, T, H, W]`` clips -> stage feature maps.

    Args:
        arch: ``'tiny'`` / ``'t'``, ``'small'`` / ``'s'``, ``'base'`` / ``'b'``, ``'large'`` /
            ``'l'``, or a dict with exactly ``embed_dims``, ``depths`` and ``num_heads`` (one
            entry per stage, 1 to 4 stages).
        pretrained: Backbone-only weights loaded by ``init_weights`` (path or URL).
        pretrained2d: Whether ``pretrained`` is an ImageNet 2D Swin (the official layout, e.g.
            ``swin_tiny_patch4_window7_224.pth``) to inflate with
            :func:`inflate_swin2d_state_dict`; if False it holds this 3D backbone's tensors.
        patch_size: Patch ``(t, h, w)``.
        in_channels: Input channels.
        window_size: Attention window ``(Wd, Wh, Ww)`` in tokens.
        mlp_ratio: MLP hidden width / channels.
        qkv_bias: Whether ``qkv`` has a bias.
        qk_scale: Attention scale; None means ``head_dim ** -0.5``.
        drop_rate: Dropout after the patch embedding, the attention and in the MLPs.
        attn_drop_rate: Dropout on attention weights.
        drop_path_rate: Stochastic depth rate of the last block (linear from 0).
        act_cfg: MLP activation config.
        norm_cfg: Norm config of the blocks and of the outputs (``norm{i}``).
        patch_norm: Normalise the patch embedding.
        frozen_stages: Freeze ``patch_embed`` (0) and also the first ``frozen_stages`` stages
            (>= 1): eval mode, no gradients. -1 freezes nothing.
        with_cp: Recompute blocks in the backward pass (saves memory, same gradients).
        out_indices: Stages whose output is returned.
        out_after_downsample: Output a stage after its patch merging instead of before.
        init_cfg: mmengine initialisation config (MMAction2's default: truncated-normal linear
            layers with bias 0, unit LayerNorms).
    """

    arch_zoo = {
        **dict.fromkeys(['t', 'tiny'], _TINY),
        **dict.fromkeys(['s', 'small'], _SMALL),
        **dict.fromkeys(['b', 'base'], _BASE),
        **dict.fromkeys(['l', 'large'], _LARGE),
    }

    def __init__(
        self,
        arch: Union[str, Dict],
        pretrained: Optional[str] = None,
        pretrained2d: bool = True,
        patch_size: Union[int, Sequence[int]] = (2, 4, 4),
        in_channels: int = 3,
        window_size: Sequence[int] = (8, 7, 7),
        mlp_ratio: float = 4.0,
        qkv_bias: bool = True,
        qk_scale: Optional[float] = None,
        drop_rate: float = 0.0,
        attn_drop_rate: float = 0.0,
        drop_path_rate: float = 0.1,
        act_cfg: Dict = dict(type='GELU'),  # noqa: B006 (never mutated)
        norm_cfg: Optional[Dict] = dict(type='LN'),  # noqa: B006 (never mutated)
        patch_norm: bool = True,
        frozen_stages: int = -1,
        with_cp: bool = False,
        out_indices: Sequence[int] = (3,),
        out_after_downsample: bool = False,
        init_cfg: Optional[Union[Dict, List[Dict]]] = [  # noqa: B006 (copied, never mutated)
            dict(type='TruncNormal', layer='Linear', std=0.02, bias=0.0),
            dict(type='Constant', layer='LayerNorm', val=1.0, bias=0.0),
        ],
    ):
        super().__init__(init_cfg=[dict(c) for c in init_cfg] if init_cfg else None)
        self.arch_settings = _arch_settings(arch, self.arch_zoo)
        self.embed_dims = self.arch_settings['embed_dims']
        self.depths = list(self.arch_settings['depths'])
        self.num_heads = list(self.arch_settings['num_heads'])
        if len(self.depths) != len(self.num_heads) or not 1 <= len(self.depths) <= 4:
            raise ValueError(
                f'Swin arch needs 1 to 4 stages and one num_heads per stage, got depths='
                f'{self.depths}, num_heads={self.num_heads}'
            )
        self.num_layers = len(self.depths)
        out_indices = tuple(out_indices)
        if not out_indices or any(not 0 <= i < self.num_layers for i in out_indices):
            raise ValueError(
                f'out_indices must be stage indices in [0, {self.num_layers - 1}], got '
                f'{out_indices}'
            )
        if not -1 <= frozen_stages <= self.num_layers:
            raise ValueError(
                f'frozen_stages must be in [-1, {self.num_layers}], got {frozen_stages}'
            )
        self.pretrained = pretrained
        self.pretrained2d = pretrained2d
        self.out_indices = out_indices
        self.out_after_downsample = out_after_downsample
        self.frozen_stages = frozen_stages
        self.window_size = tuple(window_size)
        self.patch_size = (patch_size,) * 3 if isinstance(patch_size, int) else tuple(patch_size)

        self.patch_embed = PatchEmbed3D(
            self.patch_size, in_channels, self.embed_dims, norm_cfg if patch_norm else None
        )
        self.pos_drop = nn.Dropout(p=drop_rate)

        rates = [
            r.item() for r in torch.linspace(0, drop_path_rate, sum(self.depths), device='cpu')
        ]
        self.layers = ModuleList()
        dims = [self.embed_dims]
        for i, (depth, num_heads) in enumerate(zip(self.depths, self.num_heads)):
            layer = BasicLayer(
                dims[-1],
                depth,
                num_heads,
                window_size=window_size,
                mlp_ratio=mlp_ratio,
                qkv_bias=qkv_bias,
                qk_scale=qk_scale,
                drop=drop_rate,
                attn_drop=attn_drop_rate,
                drop_paths=rates[:depth],
                act_cfg=act_cfg,
                norm_cfg=norm_cfg,
                downsample=i < self.num_layers - 1,
                with_cp=with_cp,
            )
            self.layers.append(layer)
            rates = rates[depth:]
            dims.append(layer.out_embed_dims)
        self.num_features = dims[1:] if out_after_downsample else dims[:-1]
        for i in out_indices:
            norm = (
                build_norm_layer(norm_cfg, self.num_features[i])[1] if norm_cfg else nn.Identity()
            )
            self.add_module(f'norm{i}', norm)
        self._freeze_stages()

    def init_weights(self) -> None:
        """Load ``pretrained`` (inflating a 2D Swin if ``pretrained2d``), else ``init_cfg``."""
        if self.pretrained:
            from mmaction_ft.engine.weight_loading import load_pretrained

            if self.pretrained2d:
                load_pretrained(
                    self,
                    self.pretrained,
                    convert=inflate_swin2d_state_dict,
                    hint='is it a 2D Swin in the official layout? (a 3D checkpoint needs '
                    'pretrained2d=False)',
                )
            else:
                load_pretrained(
                    self, self.pretrained, hint='is it a 2D Swin? (those need pretrained2d=True)'
                )
        else:
            super().init_weights()
        self._is_init = True

    def forward(self, x: torch.Tensor) -> Union[torch.Tensor, Tuple[torch.Tensor, ...]]:
        """Features of ``x`` ``[N, C, T, H, W]``: the ``out_indices`` stage output(s)
        ``[N, C_i, T / 2, H / 2**(i + 2), W / 2**(i + 2)]`` (for patch ``(2, 4, 4)``)."""
        x = self.pos_drop(self.patch_embed(x))  # [N, C, T', H', W']
        outs = []
        for i, layer in enumerate(self.layers):
            x = layer(x.contiguous(), do_downsample=self.out_after_downsample)
            # [N, T', H_i, W_i, C_i] (channels last)
            if i in self.out_indices:
                out = getattr(self, f'norm{i}')(x)
                outs.append(out.permute(0, 4, 1, 2, 3).contiguous())  # [N, C_i, T', H_i, W_i]
            if layer.downsample is not None and not self.out_after_downsample:
                x = layer.downsample(x)
            if i < self.num_layers - 1:
                x = x.permute(0, 4, 1, 2, 3)  # [N, C, T', H, W]
        return outs[0] if len(outs) == 1 else tuple(outs)

    def train(self, mode: bool = True) -> 'SwinTransformer3D':
        """Switch mode, keeping the frozen stages in eval."""
        super().train(mode)
        self._freeze_stages()
        return self

    def _freeze_stages(self) -> None:
        frozen = []
        if self.frozen_stages >= 0:
            frozen.append(self.patch_embed)
        if self.frozen_stages >= 1:
            frozen += [self.pos_drop, *self.layers[: self.frozen_stages]]
        for module in frozen:
            module.eval()
            for param in module.parameters():
                param.requires_grad = False


def _arch_settings(arch: Union[str, Dict], zoo: Mapping[str, Dict]) -> Dict:
    if isinstance(arch, str):
        if arch.lower() not in zoo:
            raise ValueError(f'Swin arch must be one of {sorted(zoo)} or a dict, got {arch!r}')
        return dict(zoo[arch.lower()])
    if not isinstance(arch, Mapping) or set(arch) != _ARCH_KEYS:
        raise ValueError(
            f'a custom Swin arch must be a dict with exactly the keys {sorted(_ARCH_KEYS)}, got '
            f'{arch!r}'
        )
    return dict(arch)


def inflate_swin2d_state_dict(
    state_dict_2d: Mapping[str, torch.Tensor], model: SwinTransformer3D
) -> Dict[str, torch.Tensor]:
    """ImageNet 2D Swin tensors -> ``model``'s 3D ones, without changing ``state_dict_2d``.

    As MMAction2 1.2.0 inflates them (Video Swin, sec. 3.3):

    - ``patch_embed.proj.weight`` ``[O, I, ph, pw]`` is repeated over the ``pt`` frames of a
      patch and divided by ``pt``: on identical frames the 3D embedding equals the 2D one.
    - Each ``relative_position_bias_table`` ``[(2S-1)^2, heads]`` is bicubically resized to the
      ``(2Wh-1) x (2Ww-1)`` spatial offsets of ``model.window_size`` when they differ, then
      repeated for the ``2Wd-1`` temporal offsets (each temporal offset starts with the 2D
      bias).
    - The 2D final ``norm.*`` becomes the last stage's output norm (``norm3.*`` for four
      stages) when the model outputs that stage.
    - ``relative_position_index`` and ``attn_mask`` buffers are derived, not learned: the
      result holds the model's own. So do output norms of earlier stages (``norm0`` ..
      ``norm2``), which a 2D Swin does not have, and the log says so.

    Tables with another head count are left as they are (the loader reports them), and 2D
    tensors that were not used (the ImageNet ``head.*``) are passed through so that the loader
    lists them.

    Args:
        state_dict_2d: Tensors of a 2D Swin in the official (Microsoft) layout.
        model: The 3D backbone whose keys the result uses.

    Returns:
        A new state dict in ``model``'s layout.
    """
    own = model.state_dict()
    wd, wh, ww = model.window_size
    out = {
        key: value
        for key, value in state_dict_2d.items()
        if 'relative_position_index' not in key and 'attn_mask' not in key
    }
    for key, target in own.items():
        if 'relative_position_index' in key:
            out[key] = target.detach().clone()

    weight = out.get('patch_embed.proj.weight')
    if weight is not None and weight.dim() == 4:
        pt = model.patch_size[0]
        # [O, I, ph, pw] -> [O, I, pt, ph, pw]
        out['patch_embed.proj.weight'] = weight.unsqueeze(2).repeat(1, 1, pt, 1, 1) / pt

    for key in [k for k in out if 'relative_position_bias_table' in k]:
        table, target = out[key], own.get(key)
        if target is None or table.shape[1] != target.shape[1]:
            continue
        num_rows, heads = table.shape
        spatial = (2 * wh - 1, 2 * ww - 1)
        if num_rows != spatial[0] * spatial[1]:
            side = math.isqrt(num_rows)
            grid = table.permute(1, 0).reshape(1, heads, side, side)  # [1, heads, 2S-1, 2S-1]
            grid = F.interpolate(grid, size=spatial, mode='bicubic')
            table = grid.reshape(heads, -1).permute(1, 0)  # [(2Wh-1)(2Ww-1), heads]
        out[key] = table.repeat(2 * wd - 1, 1)  # [(2Wd-1)(2Wh-1)(2Ww-1), heads]

    last = f'norm{model.num_layers - 1}'
    if f'{last}.weight' in own:
        for name in ('weight', 'bias'):
            if f'norm.{name}' in out:
                out[f'{last}.{name}'] = out.pop(f'norm.{name}')
    earlier = {f'norm{i}' for i in range(model.num_layers - 1)}
    kept = []
    for key, target in own.items():
        if key.split('.')[0] in earlier and key not in out:
            out[key] = target.detach().clone()
            kept.append(key.split('.')[0])
    if kept:
        print_log(
            f'SwinTransformer3D: {", ".join(sorted(set(kept)))} have no 2D counterpart and keep '
            'their fresh init',
            logger='current',
            level=logging.INFO,
        )
    return out
