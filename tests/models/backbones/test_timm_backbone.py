"""TimmBackbone: timm is optional; without it the error says how to install it."""

import sys

import pytest
import torch

from mmaction_ft.models.backbones import TimmBackbone


def test_without_timm_the_error_names_the_install_command(monkeypatch):
    monkeypatch.setitem(sys.modules, 'timm', None)  # as if timm were not installed
    with pytest.raises(ImportError, match='pip install timm'):
        TimmBackbone('swin_base_patch4_window7_224')


def test_timm_model_gives_pooled_features_in_timms_keys():
    timm = pytest.importorskip('timm', reason='timm is optional')
    backbone = TimmBackbone('vit_tiny_patch16_224', img_size=32, patch_size=8)
    reference = timm.create_model('vit_tiny_patch16_224', img_size=32, patch_size=8, num_classes=0)
    assert list(backbone.state_dict()) == list(reference.state_dict())
    assert backbone(torch.rand(2, 3, 32, 32)).shape == (2, 192, 1, 1)  # [N, C, 1, 1]
    with pytest.raises(ValueError, match='no classifier'):
        TimmBackbone('vit_tiny_patch16_224', num_classes=10)
