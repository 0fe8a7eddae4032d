"""A torchvision image classifier as a 2D backbone (MMAction2's ``type='torchvision.NAME'``).

MMAction2 0.x / 1.x recognizers built ``torchvision.models.NAME(**kwargs)`` for a backbone type
``'torchvision.NAME'``, replaced its ``classifier`` and ``fc`` by identities and held the model
itself as ``backbone``: its checkpoints name the tensors ``backbone.<torchvision name>``. This
adapter keeps those names (the model's parameters, buffers and submodules are the adapter's own)
and the features MMAction2 computed: ``features(x)`` average-pooled for models with a
``features`` stage (DenseNet, VGG, MobileNet, EfficientNet ...), otherwise the model's forward
without its classifier. The 0.x translator writes ``type='TorchvisionBackbone',
model_name=NAME`` for such a config.
"""

import re
from collections import OrderedDict
from typing import Dict, Mapping, Optional

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmaction_ft.registry import MODELS

# Classifier attributes of torchvision's image models; the adapter drops them on purpose.
CLASSIFIER_NAMES = ('fc', 'classifier', 'heads', 'head')
# torchvision's DenseNet files predate its module names: 'denselayer1.norm.1.weight' is
# 'denselayer1.norm1.weight' (torchvision renames them the same way when it loads them).
_OLD_DENSENET_KEY = re.compile(
    r'^(.*denselayer\d+\.(?:norm|relu|conv))\.([12]\.(?:weight|bias|running_mean|running_var))$'
)


def adopt_module(owner: nn.Module, model: nn.Module) -> None:
    """Make ``model``'s parameters, buffers and submodules ``owner``'s own, under their names.

    The dicts are shared, so moving or casting ``owner`` moves ``model`` and ``model.forward``
    still runs on the same tensors; ``owner.state_dict()`` has the keys of ``model.state_dict()``.
    """
    owner._parameters = model._parameters
    owner._buffers = model._buffers
    owner._non_persistent_buffers_set = model._non_persistent_buffers_set
    owner._modules = model._modules


def torchvision_image_filter(
    state_dict: Mapping[str, torch.Tensor], module: Optional[nn.Module] = None
) -> 'OrderedDict[str, torch.Tensor]':
    """torchvision image weights in the keys of today's torchvision modules (DenseNet's old
    ``norm.1`` names renamed); other keys pass unchanged. ``module`` is part of the converter
    signature of :func:`mmaction_ft.engine.weight_loading.load_pretrained`."""
    return OrderedDict((_OLD_DENSENET_KEY.sub(r'\1\2', k), v) for k, v in state_dict.items())


@MODELS.register_module()
class TorchvisionBackbone(BaseModule):
    """``torchvision.models.get_model(model_name, **kwargs)`` without its classifier.

    Maps ``[N, 3, H, W]`` images to ``[N, C, 1, 1]`` features (``C``: 2208 for densenet161,
    2048 for resnet50), the input of a TSN head.

    Args:
        model_name: A torchvision image model (``'densenet161'``, ``'resnet50'`` ...).
        pretrained: Backbone-only weights loaded in ``init_weights`` in torchvision's key
            layout: ``'torchvision://densenet161'`` (torchvision's ImageNet weights), a local
            path or an http(s) URL; None keeps torchvision's initialisation. The classifier
            tensors of the file are not used (the log lists them).
        init_cfg: mmengine initialisation config, used when ``pretrained`` is None.
        **kwargs: Passed to the torchvision builder (``memory_efficient=True`` ...); not
            ``weights`` or ``pretrained``, which would download outside the weight loader.
    """

    def __init__(
        self,
        model_name: str,
        pretrained: Optional[str] = None,
        init_cfg: Optional[Dict] = None,
        **kwargs,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        import torchvision

        if pretrained is not None and not isinstance(pretrained, str):
            raise TypeError(
                f'TorchvisionBackbone pretrained must be a path, URL or '
                f"'torchvision://{model_name}' string, or None; got {pretrained!r}"
            )
        for key in ('weights', 'pretrained'):
            if key in kwargs:
                raise ValueError(
                    f'TorchvisionBackbone: pass weights as pretrained='
                    f"'torchvision://{model_name}' (loaded and reported by mmaction_ft), not as "
                    f'the torchvision argument {key}={kwargs[key]!r}'
                )
        available = torchvision.models.list_models(torchvision.models)
        if model_name not in available:
            raise ValueError(
                f'TorchvisionBackbone: torchvision has no image model {model_name!r} '
                f'(image models: {", ".join(available)})'
            )
        model = torchvision.models.get_model(model_name, weights=None, **kwargs)
        dropped = [name for name in CLASSIFIER_NAMES if hasattr(model, name)]
        if not dropped:
            raise ValueError(
                f'TorchvisionBackbone: {model_name} has none of the classifier attributes '
                f'{CLASSIFIER_NAMES}; it cannot be used as a backbone'
            )
        for name in dropped:
            setattr(model, name, nn.Identity())
        self.model_name = model_name
        self.pretrained = pretrained
        self.use_features = hasattr(model, 'features')
        self._model_forward = model.forward
        self._model_train = model.train
        adopt_module(self, model)

    def init_weights(self) -> None:
        """Load ``pretrained`` if set; otherwise keep torchvision's init (or ``init_cfg``)."""
        if self.pretrained:
            from mmaction_ft.engine.weight_loading import load_pretrained

            load_pretrained(self, self.pretrained, convert=torchvision_image_filter)
        elif self.init_cfg:
            super().init_weights()
        self._is_init = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[N, 3, H, W]`` -> ``[N, C, 1, 1]``."""
        if self.use_features:
            # MMAction2 took the features stage alone (e.g. DenseNet without its last ReLU).
            x = F.adaptive_avg_pool2d(self.features(x), 1)  # [N, C, 1, 1]
            return x
        x = self._model_forward(x)  # [N, C]
        return x.reshape(x.shape + (1, 1))  # [N, C, 1, 1]

    def train(self, mode: bool = True) -> 'TorchvisionBackbone':
        """Switch mode; the wrapped model's own flag follows (some forwards read it)."""
        self._model_train(mode)
        self.training = mode
        return self

    def extra_repr(self) -> str:
        return f'model_name={self.model_name!r}'
