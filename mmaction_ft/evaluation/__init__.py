"""Evaluation: pure functions in ``functional``, thin ``BaseMetric`` classes in ``metrics``.

Importing this package registers every metric (``METRICS`` lists it in ``locations``).
"""

from .functional import *  # noqa: F401,F403
from .metrics import *  # noqa: F401,F403
