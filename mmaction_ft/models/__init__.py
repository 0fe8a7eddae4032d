"""Model parts; importing this package registers every one of them in ``MODELS``."""

from . import converters  # noqa: F401  (registers torchvision:// and hf:// conversion)
from .backbones import *  # noqa: F401,F403
from .data_preprocessors import *  # noqa: F401,F403
from .heads import *  # noqa: F401,F403
from .losses import *  # noqa: F401,F403
from .recognizers import *  # noqa: F401,F403
