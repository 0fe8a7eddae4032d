from .base_head import BaseHead
from .consensus import AvgConsensus
from .i3d_head import I3DHead
from .slowfast_head import SlowFastHead
from .tsm_head import TSMHead
from .tsn_head import TSNHead
from .x3d_head import X3DHead

__all__ = [
    'AvgConsensus',
    'BaseHead',
    'I3DHead',
    'SlowFastHead',
    'TSMHead',
    'TSNHead',
    'X3DHead',
]
