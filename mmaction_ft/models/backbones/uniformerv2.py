"""UniFormerV2 (Li et al., "UniFormerV2: Spatiotemporal Learning by Arming Image ViTs with Video
UniFormer", arXiv:2211.09552): a CLIP ViT whose blocks may gain local temporal MHRA, plus a
global decoder whose video token attends to the tokens of the last blocks.

The state dict reads like MMAction2 1.2.0's (and so like CLIP's visual encoder where the two
share parts): ``conv1.weight`` ``[width, 3, 1, p, p]``, ``class_embedding``,
``positional_embedding``, ``ln_pre``, ``transformer.resblocks.{i}.{attn,ln_1,mlp,ln_2}``,
``transformer.resblocks.{i}.lmhra1.pos_embed.{0..3}``, and the decoder
``transformer.{temporal_cls_token,dpe.{j},dec.{j},norm,balance}``.

Loading lives in :func:`mmaction_ft.engine.weight_loading.load_pretrained`; this file provides
the pure converter :func:`convert_clip_state_dict` for CLIP visual encoders.
"""

import logging
from collections import OrderedDict
from functools import partial
from typing import Dict, List, Mapping, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmengine.logging import print_log
from mmengine.model import BaseModule

from mmaction_ft.registry import MODELS

from .uniformerv2_blocks import GlobalUniBlock, LocalUniBlock

_MODEL_ZOO = (
    'https://download.openmmlab.com/mmaction/v1.0/recognition/uniformerv2/clipVisualEncoder'
)
# ``pretrained`` names of the CLIP visual encoders, as MMAction2 1.2.0 publishes them.
CLIP_VISUAL_ENCODERS = {
    'ViT-B/16': f'{_MODEL_ZOO}/vit-base-p16-res224_clip-rgb_20221219-b8a5da86.pth',
    'ViT-L/14': f'{_MODEL_ZOO}/vit-large-p14-res224_clip-rgb_20221219-9de7543e.pth',
    'ViT-L/14_336': f'{_MODEL_ZOO}/vit-large-p14-res336_clip-rgb_20221219-d370f9e5.pth',
}


class UniFormerV2Transformer(nn.Module):
    """The local blocks and the global decoder (``UniFormerV2.transformer``).

    Args are those of :class:`UniFormerV2` with the same names; ``t_size`` is the number of
    frames after the patch embedding.
    """

    def __init__(
        self,
        width: int,
        layers: int,
        heads: int,
        backbone_drop_path_rate: float,
        t_size: int,
        dw_reduction: float,
        no_lmhra: bool,
        double_lmhra: bool,
        return_list: Sequence[int],
        n_layers: int,
        n_dim: int,
        n_head: int,
        mlp_factor: float,
        drop_path_rate: float,
        mlp_dropout: Sequence[float],
    ):
        super().__init__()
        self.t_size = t_size
        self.return_list = tuple(return_list)
        block_dpr = torch.linspace(0, backbone_drop_path_rate, layers, device='cpu').tolist()
        self.resblocks = nn.ModuleList(
            LocalUniBlock(
                width,
                heads,
                drop_path=block_dpr[i],
                dw_reduction=dw_reduction,
                no_lmhra=no_lmhra,
                double_lmhra=double_lmhra,
            )
            for i in range(layers)
        )
        self.temporal_cls_token = nn.Parameter(torch.zeros(1, 1, n_dim))
        # Dynamic position encoding of each decoded block: a depthwise 3x3x3 conv.
        self.dpe = nn.ModuleList(
            nn.Conv3d(n_dim, n_dim, kernel_size=3, padding=1, groups=n_dim) for _ in range(n_layers)
        )
        for conv in self.dpe:
            nn.init.zeros_(conv.bias)
        dec_dpr = torch.linspace(0, drop_path_rate, n_layers, device='cpu').tolist()
        self.dec = nn.ModuleList(
            GlobalUniBlock(
                n_dim, n_head, mlp_factor=mlp_factor, dropout=mlp_dropout[i], drop_path=dec_dpr[i]
            )
            for i in range(n_layers)
        )
        self.norm = nn.LayerNorm(n_dim)
        # sigmoid(0) = 0.5: the output starts as the mean of the video token and the frames'
        # class tokens.
        self.balance = nn.Parameter(torch.zeros(n_dim))
        self.sigmoid = nn.Sigmoid()

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[L, N * T, C]`` tokens -> ``[N, C]`` video features."""
        num_tokens, nt, c = x.shape
        t = self.t_size
        n, side = nt // t, int((num_tokens - 1) ** 0.5)
        query = self.temporal_cls_token.expand(1, n, -1)  # [1, N, C]
        decoded = 0
        for i, block in enumerate(self.resblocks):
            x = block(x, t)
            if i not in self.return_list:
                continue
            tokens = x.reshape(num_tokens, n, t, c)  # [L, N, T, C]
            video = tokens[1:].permute(1, 3, 2, 0).reshape(n, c, t, side, side)
            # [N, C, T, H, W]
            pos = self.dpe[decoded](video).reshape(n, c, t, num_tokens - 1).permute(3, 0, 2, 1)
            # [H * W, N, T, C]
            tokens = torch.cat([tokens[:1], tokens[1:] + pos], dim=0)  # [L, N, T, C]
            tokens = tokens.permute(2, 0, 1, 3).reshape(t * num_tokens, n, c)  # [T * L, N, C]
            query = self.dec[decoded](query, tokens)
            decoded += 1
        frame_cls = x.reshape(num_tokens, n, t, c)[0].mean(dim=1)  # [N, C]
        weight = self.sigmoid(self.balance)
        return self.norm((1 - weight) * query[0] + weight * frame_cls)  # [N, C]


@MODELS.register_module()
class UniFormerV2(BaseModule):
    """UniFormerV2 backbone: ``[N, 3, T, H, W]`` clips -> ``[N, n_dim]`` video features.

    The arguments, defaults and state-dict keys are MMAction2 1.2.0's.

    Args:
        input_resolution: Input height and width; fixes ``positional_embedding`` to
            ``(input_resolution // patch_size) ** 2 + 1`` rows, so inputs must have this size.
        patch_size: Spatial size of a patch.
        width: Channels of the ViT blocks.
        layers: Number of ViT blocks.
        heads: Attention heads of the ViT blocks.
        backbone_drop_path_rate: Largest stochastic depth rate of the ViT blocks (rising
            linearly from 0 over the blocks).
        t_size: Frames per clip; inputs must have this many (twice as many with
            ``temporal_downsample``).
        kernel_size: Temporal kernel size of the patch embedding with ``temporal_downsample``.
        dw_reduction: Channel reduction inside the local MHRA.
        temporal_downsample: Embed patches with a ``kernel_size x p x p`` conv of temporal
            stride 2 (halving the frames) instead of ``1 x p x p``.
        no_lmhra: Leave out the local MHRA (every published config does).
        double_lmhra: Two local MHRA per block, before and after the attention.
        return_list: Indices of the ViT blocks whose tokens the global decoder reads, one per
            decoder layer.
        n_layers: Decoder layers; must equal ``len(return_list)``.
        n_dim: Channels of the decoder; must equal ``width``.
        n_head: Attention heads of the decoder.
        mlp_factor: Hidden width of the decoder MLPs, as a multiple of ``n_dim``.
        drop_path_rate: Largest stochastic depth rate of the decoder layers.
        mlp_dropout: Dropout in each decoder layer's MLP, one value per layer.
        clip_pretrained: ``init_weights`` loads a CLIP visual encoder named by ``pretrained``
            (converted by :func:`convert_clip_state_dict`) and keeps the construction init of
            the parts CLIP does not have.
        pretrained: With ``clip_pretrained``, a key of :data:`CLIP_VISUAL_ENCODERS`
            (``'ViT-B/16'``, ...) or a path/URL of a CLIP visual encoder; without it, a
            path/URL of this backbone's own weights. None: nothing to load.
        init_cfg: mmengine initialisation config used when nothing is loaded: by default
            truncated-normal Linear layers and unit LayerNorms. ``dict(type='Pretrained',
            checkpoint=..., prefix='backbone.')`` (the K710-finetuning configs) loads a
            whole-recognizer checkpoint's backbone through ``load_pretrained``.
    """

    def __init__(
        self,
        input_resolution: int = 224,
        patch_size: int = 16,
        width: int = 768,
        layers: int = 12,
        heads: int = 12,
        backbone_drop_path_rate: float = 0.0,
        t_size: int = 8,
        kernel_size: int = 3,
        dw_reduction: float = 1.5,
        temporal_downsample: bool = False,
        no_lmhra: bool = True,
        double_lmhra: bool = False,
        return_list: Sequence[int] = (8, 9, 10, 11),
        n_layers: int = 4,
        n_dim: int = 768,
        n_head: int = 12,
        mlp_factor: float = 4.0,
        drop_path_rate: float = 0.0,
        mlp_dropout: Sequence[float] = (0.5, 0.5, 0.5, 0.5),
        clip_pretrained: bool = True,
        pretrained: Optional[str] = None,
        init_cfg: Optional[Union[Dict, List[Dict]]] = [  # noqa: B006 (never mutated)
            dict(type='TruncNormal', layer='Linear', std=0.02, bias=0.0),
            dict(type='Constant', layer='LayerNorm', val=1.0, bias=0.0),
        ],
    ):
        super().__init__(init_cfg=init_cfg)
        _check_arguments(
            input_resolution=input_resolution,
            patch_size=patch_size,
            width=width,
            layers=layers,
            heads=heads,
            t_size=t_size,
            kernel_size=kernel_size,
            temporal_downsample=temporal_downsample,
            return_list=return_list,
            n_layers=n_layers,
            n_dim=n_dim,
            n_head=n_head,
            mlp_dropout=mlp_dropout,
            pretrained=pretrained,
        )
        self.input_resolution = input_resolution
        self.patch_size = patch_size
        self.clip_pretrained = clip_pretrained
        self.pretrained = pretrained
        self.num_frames = t_size  # frames the input must have
        if temporal_downsample:
            self.conv1 = nn.Conv3d(
                3,
                width,
                kernel_size=(kernel_size, patch_size, patch_size),
                stride=(2, patch_size, patch_size),
                padding=((kernel_size - 1) // 2, 0, 0),
                bias=False,
            )
            t_size = t_size // 2
        else:
            self.conv1 = nn.Conv3d(
                3,
                width,
                kernel_size=(1, patch_size, patch_size),
                stride=(1, patch_size, patch_size),
                bias=False,
            )
        scale = width**-0.5  # CLIP's init of the embeddings
        self.class_embedding = nn.Parameter(scale * torch.randn(width))
        num_patches = (input_resolution // patch_size) ** 2
        self.positional_embedding = nn.Parameter(scale * torch.randn(num_patches + 1, width))
        self.ln_pre = nn.LayerNorm(width)
        self.transformer = UniFormerV2Transformer(
            width,
            layers,
            heads,
            backbone_drop_path_rate=backbone_drop_path_rate,
            t_size=t_size,
            dw_reduction=dw_reduction,
            no_lmhra=no_lmhra,
            double_lmhra=double_lmhra,
            return_list=return_list,
            n_layers=n_layers,
            n_dim=n_dim,
            n_head=n_head,
            mlp_factor=mlp_factor,
            drop_path_rate=drop_path_rate,
            mlp_dropout=mlp_dropout,
        )

    def init_weights(self) -> None:
        """Load the CLIP encoder (``clip_pretrained``), else ``pretrained``, else the
        checkpoint of a ``Pretrained`` ``init_cfg``; otherwise initialise by ``init_cfg``."""
        from mmaction_ft.engine.weight_loading import load_pretrained

        if self.clip_pretrained:
            if self.pretrained is None:
                raise ValueError(
                    'UniFormerV2 clip_pretrained=True needs pretrained= one of '
                    f'{sorted(CLIP_VISUAL_ENCODERS)} or a path/URL of a CLIP visual encoder; '
                    'set clip_pretrained=False to start from init_cfg instead'
                )
            source = CLIP_VISUAL_ENCODERS.get(self.pretrained, self.pretrained)
            load_pretrained(
                self,
                source,
                convert=convert_clip_state_dict,
                hint='is it a CLIP visual encoder of the same width, patch size and resolution?',
            )
        elif self.pretrained:
            load_pretrained(
                self, self.pretrained, hint='is it a CLIP encoder? (those need clip_pretrained)'
            )
        elif isinstance(self.init_cfg, dict) and self.init_cfg.get('type') == 'Pretrained':
            prefix = self.init_cfg.get('prefix', 'backbone.')
            load_pretrained(
                self, self.init_cfg['checkpoint'], convert=partial(_select_prefix, prefix=prefix)
            )
        else:
            super().init_weights()
        self._is_init = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[N, 3, t_size, input_resolution, input_resolution]`` clips -> ``[N, n_dim]``."""
        size = self.input_resolution
        if x.dim() != 5 or x.shape[2] != self.num_frames or x.shape[3:] != (size, size):
            raise ValueError(
                f'UniFormerV2 expects clips [N, 3, {self.num_frames}, {self.input_resolution}, '
                f'{self.input_resolution}] (t_size, input_resolution), got {list(x.shape)}'
            )
        x = self.conv1(x)  # [N, C, T, H / p, W / p]
        n, c, t, h, w = x.shape
        x = x.permute(0, 2, 3, 4, 1).reshape(n * t, h * w, c)  # [N * T, H * W, C]
        cls_token = self.class_embedding.to(x.dtype).expand(n * t, 1, c)
        x = torch.cat([cls_token, x], dim=1)  # [N * T, 1 + H * W, C]
        x = self.ln_pre(x + self.positional_embedding.to(x.dtype))
        x = x.permute(1, 0, 2)  # [1 + H * W, N * T, C]
        return self.transformer(x)  # [N, C]


def _check_arguments(
    *,
    input_resolution: int,
    patch_size: int,
    width: int,
    layers: int,
    heads: int,
    t_size: int,
    kernel_size: int,
    temporal_downsample: bool,
    return_list: Sequence[int],
    n_layers: int,
    n_dim: int,
    n_head: int,
    mlp_dropout: Sequence[float],
    pretrained: Optional[str],
) -> None:
    if input_resolution < patch_size or patch_size <= 0:
        raise ValueError(
            f'UniFormerV2 input_resolution={input_resolution} must be at least '
            f'patch_size={patch_size} (> 0)'
        )
    if width % heads:
        raise ValueError(f'UniFormerV2 width={width} must be divisible by heads={heads}')
    if n_dim != width:
        raise ValueError(
            f'UniFormerV2 n_dim={n_dim} must equal width={width}: the decoder reads the tokens '
            'of the ViT blocks'
        )
    if n_dim % n_head:
        raise ValueError(f'UniFormerV2 n_dim={n_dim} must be divisible by n_head={n_head}')
    if t_size <= 0 or (temporal_downsample and t_size % 2):
        raise ValueError(
            f'UniFormerV2 t_size must be positive (and even with temporal_downsample), got {t_size}'
        )
    if temporal_downsample and kernel_size % 2 == 0:
        raise ValueError(f'UniFormerV2 kernel_size must be odd, got {kernel_size}')
    return_list = list(return_list)
    if len(set(return_list)) != len(return_list) or any(not 0 <= i < layers for i in return_list):
        raise ValueError(
            f'UniFormerV2 return_list must hold distinct block indices in [0, {layers}), got '
            f'{return_list}'
        )
    if n_layers != len(return_list):
        raise ValueError(
            f'UniFormerV2 n_layers={n_layers} must equal len(return_list)={len(return_list)} '
            f'(one decoder layer per returned block)'
        )
    if len(mlp_dropout) < n_layers:
        raise ValueError(
            f'UniFormerV2 mlp_dropout needs one rate per decoder layer ({n_layers}), got '
            f'{list(mlp_dropout)}'
        )
    if pretrained is not None and not isinstance(pretrained, str):
        raise TypeError(f'UniFormerV2 pretrained must be a string or None, got {pretrained!r}')


def _select_prefix(
    state_dict: Mapping[str, torch.Tensor], module: nn.Module, prefix: str
) -> Dict[str, torch.Tensor]:
    """The tensors under ``prefix`` without it. ``load_pretrained`` has already removed a
    leading ``backbone.``, so that prefix (every published config's) selects everything."""
    if prefix in ('', 'backbone.'):
        return dict(state_dict)
    return {k[len(prefix) :]: v for k, v in state_dict.items() if k.startswith(prefix)}


def convert_clip_state_dict(
    state_dict: Mapping[str, torch.Tensor], model: UniFormerV2
) -> Dict[str, torch.Tensor]:
    """A CLIP visual encoder's tensors -> ``model``'s keys, without changing ``state_dict``.

    Accepts OpenAI's full CLIP state dict (the visual tower under ``visual.``; the text tower
    is dropped) or the visual encoder alone (MMAction2's ``clipVisualEncoder`` files). Keys are
    the same as ours. The 2D patch embedding ``conv1.weight`` ``[C, 3, p, p]`` becomes
    ``[C, 3, kt, p, p]`` with the 2D kernel in the middle frame and zeros elsewhere, as MMAction2
    inflates it (so a ``1 x p x p`` embedding is unchanged). The tensors CLIP has no counterpart
    for (local MHRA, global decoder) come from ``model`` itself, i.e. keep their construction
    init, and the log says which; CLIP tensors we have no use for (``ln_post``, ``proj``) are
    passed through for the loader to report.

    Args:
        state_dict: Tensors of a CLIP ViT in OpenAI's layout.
        model: The backbone whose keys the result uses.

    Returns:
        A new state dict in ``model``'s layout.
    """
    if any(key.startswith('visual.') for key in state_dict):
        state_dict = {
            key[len('visual.') :]: value
            for key, value in state_dict.items()
            if key.startswith('visual.')
        }
    out = OrderedDict(state_dict)
    kept = []
    for key, target in model.state_dict().items():
        if key not in state_dict:
            out[key] = target.detach().clone()
            kept.append(key)
            continue
        tensor = state_dict[key]
        if tensor.dim() == 4 and target.dim() == 5 and tensor.shape[:2] == target.shape[:2]:
            out[key] = _inflate_centre(tensor, target.shape[2])
    if kept:
        modules = sorted({_owner(key) for key in kept})
        print_log(
            f'{type(model).__name__}: {len(modules)} modules are not part of CLIP and keep '
            f'their construction init: {", ".join(modules)}',
            logger='current',
            level=logging.INFO,
        )
    return out


def _inflate_centre(weight: torch.Tensor, time: int) -> torch.Tensor:
    """``[O, I, kh, kw]`` -> ``[O, I, time, kh, kw]``, zero except the middle frame."""
    inflated = weight.new_zeros((weight.shape[0], weight.shape[1], time) + weight.shape[2:])
    inflated[:, :, time // 2] = weight
    return inflated


def _owner(key: str) -> str:
    """``transformer.dec.0.ln_1.weight`` -> ``transformer.dec.0``; ``transformer.resblocks.3.
    lmhra1.pos_embed.0.weight`` -> ``transformer.resblocks.3.lmhra1``."""
    parts = key.split('.')
    if len(parts) > 3 and parts[1] == 'resblocks':
        return '.'.join(parts[:4])
    if len(parts) > 2 and parts[1] in ('dec', 'dpe'):
        return '.'.join(parts[:3])
    return '.'.join(parts[:-1]) if len(parts) > 2 else key  # transformer.balance
