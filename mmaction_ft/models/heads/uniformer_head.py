"""The classification head of UniFormer / UniFormerV2 (arXiv:2211.09552), which can start from
a subset of the classes of a Kinetics-710 checkpoint's head."""

from functools import partial
from typing import Dict, List, Mapping, Optional, Sequence, Union

import torch
import torch.nn as nn

from mmaction_ft.registry import MODELS

from .base_head import BaseHead

ChannelMap = Union[str, Sequence[int]]


@MODELS.register_module()
class UniFormerHead(BaseHead):
    """Dropout and a linear classifier on pooled video features ``[N * num_views, C]``.

    Kinetics-710 is the union of Kinetics-400, -600 and -700 (710 classes). MMAction2's K400 /
    K600 / K700 configs finetune from a K710 model by loading its 710-class ``fc_cls`` and
    keeping only the rows of the target dataset's classes: ``init_cfg=dict(type='Pretrained',
    checkpoint=..., prefix='cls_head.')`` with ``channel_map`` listing, for every target class
    in order, its row in the K710 head (``k710_channel_map/map_k400.json``).

    Args:
        num_classes: Number of classes.
        in_channels: Channels of the backbone feature.
        loss_cls: Config of the classification loss.
        dropout_ratio: Dropout probability before ``fc_cls``; 0 disables it.
        channel_map: The head rows to keep from the ``Pretrained`` checkpoint: a JSON / YAML
            file holding a list of row indices (MMAction2's form, read when ``init_weights``
            runs), or the list itself. Needed with a ``Pretrained`` ``init_cfg``.
        init_cfg: mmengine initialisation config: by default a truncated normal ``fc_cls``
            with std 0.02; a ``Pretrained`` dict loads the checkpoint's head as above.
        **kwargs: ``multi_class``, ``label_smooth_eps``, ``topk``, ``average_clips`` of
            :class:`BaseHead`.
    """

    def __init__(
        self,
        num_classes: int,
        in_channels: int,
        loss_cls: Dict = dict(type='CrossEntropyLoss'),  # noqa: B006 (never mutated)
        dropout_ratio: float = 0.0,
        channel_map: Optional[ChannelMap] = None,
        init_cfg: Optional[Dict] = dict(type='TruncNormal', layer='Linear', std=0.02),  # noqa: B006
        **kwargs,
    ):
        super().__init__(num_classes, in_channels, loss_cls=loss_cls, init_cfg=init_cfg, **kwargs)
        if not 0 <= dropout_ratio < 1:
            raise ValueError(f'UniFormerHead dropout_ratio must be in [0, 1), got {dropout_ratio}')
        if _is_pretrained(init_cfg):
            if channel_map is None:
                raise ValueError(
                    "UniFormerHead init_cfg=dict(type='Pretrained', ...) needs channel_map: the "
                    'rows of the checkpoint head to keep for the num_classes classes (e.g. '
                    'k710_channel_map/map_k400.json)'
                )
            if 'checkpoint' not in init_cfg:
                raise ValueError("UniFormerHead init_cfg of type 'Pretrained' needs 'checkpoint'")
        if channel_map is not None and not isinstance(channel_map, str):
            _check_channels(channel_map, num_classes)
        self.dropout_ratio = dropout_ratio
        self.channel_map = channel_map
        self.dropout = nn.Dropout(p=dropout_ratio) if dropout_ratio != 0 else None
        self.fc_cls = nn.Linear(in_channels, num_classes)

    def init_weights(self) -> None:
        """Load the checkpoint's ``fc_cls`` rows of ``channel_map`` (``Pretrained``
        ``init_cfg``), else initialise by ``init_cfg``."""
        if not _is_pretrained(self.init_cfg):
            super().init_weights()
            return
        from mmaction_ft.engine.weight_loading import load_pretrained

        channels = self.channel_map
        if isinstance(channels, str):
            from mmengine.fileio import load

            channels = load(channels)
        channels = _check_channels(channels, self.num_classes, source=self.channel_map)
        prefix = self.init_cfg.get('prefix', 'cls_head.')
        load_pretrained(
            self,
            self.init_cfg['checkpoint'],
            convert=partial(select_classifier_rows, channels=channels, prefix=prefix),
            hint=f'does the checkpoint hold a recognizer with a head under {prefix!r}?',
        )
        self._is_init = True

    def forward(self, x: torch.Tensor, **kwargs) -> torch.Tensor:
        """Class scores of each view.

        Args:
            x: Backbone features ``[N * num_views, C]``.
            **kwargs: Ignored (``num_segs``: every view keeps its row).

        Returns:
            ``[N * num_views, num_classes]``.
        """
        x = x.reshape(x.shape[0], -1)  # [N * num_views, C]
        self._check_in_channels(x)
        if self.dropout is not None:
            x = self.dropout(x)
        return self.fc_cls(x)  # [N * num_views, num_classes]


def _is_pretrained(init_cfg: Optional[Union[Dict, List[Dict]]]) -> bool:
    return isinstance(init_cfg, dict) and init_cfg.get('type') == 'Pretrained'


def _check_channels(channels: object, num_classes: int, source: object = None) -> List[int]:
    """The rows of ``channel_map`` as a list of ints, one per class."""
    where = f' (read from {source})' if isinstance(source, str) else ''
    if not isinstance(channels, (list, tuple)) or not all(
        isinstance(c, int) and not isinstance(c, bool) and c >= 0 for c in channels
    ):
        raise ValueError(
            f'UniFormerHead channel_map must be a list of non-negative row indices{where}, got '
            f'{channels!r:.80}'
        )
    if len(channels) != num_classes:
        raise ValueError(
            f'UniFormerHead channel_map selects {len(channels)} rows{where} but '
            f'num_classes={num_classes}'
        )
    return list(channels)


def select_classifier_rows(
    state_dict: Mapping[str, torch.Tensor],
    head: nn.Module,
    channels: Sequence[int],
    prefix: str = 'cls_head.',
) -> Dict[str, torch.Tensor]:
    """A recognizer checkpoint's head tensors, restricted to the classes ``channels``.

    Every tensor under ``prefix`` (``fc_cls.weight`` ``[710, C]``, ``fc_cls.bias`` ``[710]``)
    loses the prefix and keeps the rows ``channels``, in that order, as MMAction2 does. Other
    tensors (the backbone's) are dropped.

    Args:
        state_dict: The checkpoint's tensors.
        head: The head being loaded (unused; the converter signature of ``load_pretrained``).
        channels: Row of the checkpoint head for each class of ``head``.
        prefix: Where the head's tensors are in the checkpoint.

    Returns:
        A new state dict in the head's layout.
    """
    index = torch.as_tensor(list(channels), dtype=torch.long)
    out = {}
    for key, tensor in state_dict.items():
        if not key.startswith(prefix):
            continue
        if index.numel() and int(index.max()) >= tensor.shape[0]:
            raise ValueError(
                f'UniFormerHead channel_map selects row {int(index.max())} but {key} has only '
                f'{tensor.shape[0]} rows'
            )
        out[key[len(prefix) :]] = tensor[index]
    return out
