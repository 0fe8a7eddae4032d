from .base_head import BaseHead
from .consensus import AvgConsensus
from .tsn_head import TSNHead

__all__ = ['AvgConsensus', 'BaseHead', 'TSNHead']
