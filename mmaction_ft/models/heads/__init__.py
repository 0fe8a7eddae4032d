from .base_head import BaseHead
from .consensus import AvgConsensus
from .i3d_head import I3DHead
from .mvit_head import MViTHead
from .slowfast_head import SlowFastHead
from .timesformer_head import TimeSformerHead
from .tsm_head import TSMHead
from .tsn_head import TSNHead
from .uniformer_head import UniFormerHead
from .x3d_head import X3DHead

__all__ = [
    'AvgConsensus',
    'BaseHead',
    'I3DHead',
    'MViTHead',
    'SlowFastHead',
    'TimeSformerHead',
    'TSMHead',
    'TSNHead',
    'UniFormerHead',
    'X3DHead',
]
