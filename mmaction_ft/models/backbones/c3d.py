"""C3D (Tran et al., ICCV 2015): eight 3x3x3 convs, five max-pools and two 4096-d fc layers.

The fc layers are part of the backbone, as in the paper's Sports-1M model and MMAction2: the
backbone maps a ``16 x 112 x 112`` clip to a 4096-d vector, and its input size is fixed by
``out_dim`` (the flattened ``pool5`` output, 512 x 1 x 4 x 4 = 8192 for that clip size). Keys:
``conv1a.conv.weight`` ... ``conv5b.conv.bias``, ``fc6.weight``, ``fc7.bias``.
"""

from typing import Dict, Optional, Sequence, Union

import torch
import torch.nn as nn
from mmcv.cnn import ConvModule
from mmengine.model import BaseModule, constant_init, kaiming_init, normal_init
from torch.nn.modules.batchnorm import _BatchNorm

from mmaction_ft.registry import MODELS


@MODELS.register_module()
class C3D(BaseModule):
    """C3D backbone: ``[N, 3, 16, 112, 112]`` clips -> ``[N, 4096]`` features.

    Args:
        pretrained: Backbone-only weights in MMAction2's layout to load in ``init_weights``
            (a local path or an http(s) URL); None initialises from scratch.
        style: ``'pytorch'`` or ``'caffe'``; accepted for MMAction2 configs, C3D has no
            strided conv for it to place.
        conv_cfg: Conv layer config; None means ``dict(type='Conv3d')``.
        norm_cfg: Norm layer config; None (the original C3D) for convs with a bias and no norm.
        act_cfg: Activation config; None means ``dict(type='ReLU')``.
        out_dim: Input size of ``fc6``: the flattened ``pool5`` output, which depends on the
            clip size (8192 for 16 x 112 x 112).
        dropout_ratio: Dropout between ``fc6`` and ``fc7``.
        init_std: Std of the normal init of the fc layers when initialising from scratch.
        init_cfg: mmengine initialisation config, used when ``pretrained`` is None.
    """

    def __init__(
        self,
        pretrained: Optional[str] = None,
        style: str = 'pytorch',
        conv_cfg: Optional[Dict] = None,
        norm_cfg: Optional[Dict] = None,
        act_cfg: Optional[Dict] = None,
        out_dim: int = 8192,
        dropout_ratio: float = 0.5,
        init_std: float = 0.005,
        init_cfg: Optional[Union[Dict, Sequence[Dict]]] = None,
    ):
        super().__init__(init_cfg=init_cfg)
        if style not in ('pytorch', 'caffe'):
            raise ValueError(f"C3D style must be 'pytorch' or 'caffe', got {style!r}")
        if out_dim < 1:
            raise ValueError(f'C3D out_dim must be positive, got {out_dim}')
        if not 0 <= dropout_ratio < 1:
            raise ValueError(f'C3D dropout_ratio must be in [0, 1), got {dropout_ratio}')
        self.pretrained = pretrained
        self.style = style
        self.conv_cfg = conv_cfg if conv_cfg is not None else dict(type='Conv3d')
        self.norm_cfg = norm_cfg
        self.act_cfg = act_cfg if act_cfg is not None else dict(type='ReLU')
        self.out_dim = out_dim
        self.dropout_ratio = dropout_ratio
        self.init_std = init_std

        def conv(in_channels: int, out_channels: int) -> ConvModule:
            return ConvModule(
                in_channels,
                out_channels,
                3,
                padding=1,
                conv_cfg=self.conv_cfg,
                norm_cfg=self.norm_cfg,
                act_cfg=self.act_cfg,
            )

        # The first pool keeps time, so early convs see motion (C3D paper, sec. 3.2).
        self.conv1a = conv(3, 64)
        self.pool1 = nn.MaxPool3d(kernel_size=(1, 2, 2), stride=(1, 2, 2))
        self.conv2a = conv(64, 128)
        self.pool2 = nn.MaxPool3d(kernel_size=2, stride=2)
        self.conv3a = conv(128, 256)
        self.conv3b = conv(256, 256)
        self.pool3 = nn.MaxPool3d(kernel_size=2, stride=2)
        self.conv4a = conv(256, 512)
        self.conv4b = conv(512, 512)
        self.pool4 = nn.MaxPool3d(kernel_size=2, stride=2)
        self.conv5a = conv(512, 512)
        self.conv5b = conv(512, 512)
        # Padding 1 in space: 7 x 7 -> 4 x 4 for 112 x 112 inputs, as in the Sports-1M model.
        self.pool5 = nn.MaxPool3d(kernel_size=2, stride=2, padding=(0, 1, 1))
        self.fc6 = nn.Linear(out_dim, 4096)
        self.fc7 = nn.Linear(4096, 4096)
        self.relu = nn.ReLU()
        self.dropout = nn.Dropout(p=dropout_ratio)
        self.feat_dim = 4096

    def init_weights(self) -> None:
        """Load ``pretrained`` if set, else Kaiming convs, normal fc layers and unit norms (or
        ``init_cfg``)."""
        if self.pretrained:
            from mmaction_ft.engine.weight_loading import load_pretrained

            load_pretrained(self, self.pretrained)
        elif self.init_cfg:
            super().init_weights()
        else:
            for m in self.modules():
                if isinstance(m, nn.Conv3d):
                    kaiming_init(m)
                elif isinstance(m, nn.Linear):
                    normal_init(m, std=self.init_std)
                elif isinstance(m, _BatchNorm):
                    constant_init(m, 1)
        self._is_init = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Features of ``x`` ``[N, 3, T, H, W]`` (16 x 112 x 112 for ``out_dim=8192``)."""
        x = self.pool1(self.conv1a(x))  # [N, 64, 16, 56, 56]
        x = self.pool2(self.conv2a(x))  # [N, 128, 8, 28, 28]
        x = self.pool3(self.conv3b(self.conv3a(x)))  # [N, 256, 4, 14, 14]
        x = self.pool4(self.conv4b(self.conv4a(x)))  # [N, 512, 2, 7, 7]
        x = self.pool5(self.conv5b(self.conv5a(x)))  # [N, 512, 1, 4, 4]
        x = x.flatten(start_dim=1)  # [N, 8192]
        if x.shape[1] != self.out_dim:
            raise ValueError(
                f'C3D: pool5 gives {x.shape[1]} features per clip but fc6 expects '
                f'out_dim={self.out_dim}; use 16 x 112 x 112 clips or set out_dim to match'
            )
        x = self.dropout(self.relu(self.fc6(x)))
        return self.relu(self.fc7(x))  # [N, 4096]
