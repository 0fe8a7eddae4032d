"""A timm image model as a 2D backbone (MMAction2's ``type='timm.NAME'``).

timm is not a dependency of mmaction_ft: it is imported when such a backbone is built, and a
missing timm is an error that says how to install it. As in MMAction2, the model is
``timm.create_model(NAME, num_classes=0, **kwargs)`` (timm drops its classifier and returns
pooled features) held as the backbone itself, so checkpoints name its tensors
``backbone.<timm name>``. The 0.x translator writes ``type='TimmBackbone', model_name=NAME``.
"""

from typing import Dict, Optional, Union

import torch
from mmengine.model import BaseModule

from mmaction_ft.registry import MODELS

from .torchvision_backbone import adopt_module

INSTALL_HINT = 'pip install timm'


def import_timm():
    """The ``timm`` module, or an ImportError that names the backbone and the install command."""
    try:
        import timm
    except ImportError as error:
        raise ImportError(
            f'TimmBackbone (a config backbone type "timm.NAME") needs timm, which mmaction_ft '
            f'does not install: run `{INSTALL_HINT}`, or use a torchvision model '
            f"(type='torchvision.NAME') or an mmaction_ft backbone instead"
        ) from error
    return timm


@MODELS.register_module()
class TimmBackbone(BaseModule):
    """``timm.create_model(model_name, num_classes=0, **kwargs)``: pooled image features.

    Maps ``[N, 3, H, W]`` images to ``[N, C, 1, 1]`` (``C = model.num_features``, 1024 for
    ``swin_base_patch4_window7_224``), the input of a TSN head.

    Args:
        model_name: A timm model name.
        pretrained: ``True`` for timm's own pretrained weights (timm downloads and loads them
            when the model is built, as in MMAction2); a local path or an http(s) URL of
            backbone weights in timm's key layout, loaded and reported by mmaction_ft in
            ``init_weights``; ``False`` / None for timm's initialisation.
        init_cfg: mmengine initialisation config, used when ``pretrained`` is not a string.
        **kwargs: Passed to ``timm.create_model`` (``drop_path_rate`` ...), except
            ``num_classes``: the classifier is dropped on purpose.
    """

    def __init__(
        self,
        model_name: str,
        pretrained: Union[bool, str, None] = None,
        init_cfg: Optional[Dict] = None,
        **kwargs,
    ) -> None:
        super().__init__(init_cfg=init_cfg)
        if pretrained is not None and not isinstance(pretrained, (bool, str)):
            raise TypeError(
                f'TimmBackbone pretrained must be True, False, None or a path / URL, got '
                f'{pretrained!r}'
            )
        if 'num_classes' in kwargs:
            raise ValueError(
                f'TimmBackbone: num_classes={kwargs["num_classes"]!r} is not accepted: the '
                'backbone has no classifier (the head has num_classes)'
            )
        timm = import_timm()
        if not timm.list_models(model_name):
            raise ValueError(
                f'TimmBackbone: timm {timm.__version__} has no model {model_name!r} '
                f'(similar: {", ".join(timm.list_models(f"*{model_name[:4]}*")[:10]) or "none"})'
            )
        model = timm.create_model(
            model_name, pretrained=pretrained is True, num_classes=0, **kwargs
        )
        self.model_name = model_name
        self.pretrained = pretrained
        self.num_features = model.num_features
        self._model_forward = model.forward
        self._model_train = model.train
        adopt_module(self, model)

    def init_weights(self) -> None:
        """Load ``pretrained`` if it is a path or URL; ``True`` was loaded by timm already."""
        if isinstance(self.pretrained, str):
            from mmaction_ft.engine.weight_loading import load_pretrained

            load_pretrained(self, self.pretrained)
        elif self.init_cfg:
            super().init_weights()
        self._is_init = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``[N, 3, H, W]`` -> ``[N, C, 1, 1]``."""
        x = self._model_forward(x)  # [N, C]: timm pools when num_classes=0
        return x.reshape(x.shape + (1, 1))  # [N, C, 1, 1]

    def train(self, mode: bool = True) -> 'TimmBackbone':
        """Switch mode; the wrapped model's own flag follows (timm's heads read it)."""
        self._model_train(mode)
        self.training = mode
        return self

    def extra_repr(self) -> str:
        return f'model_name={self.model_name!r}'
