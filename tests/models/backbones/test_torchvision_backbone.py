"""TorchvisionBackbone: a torchvision image model without its classifier, in MMAction2's keys."""

import re

import pytest
import torch
import torchvision

from mmaction_ft.models.backbones import TorchvisionBackbone


def test_keys_are_torchvisions_without_the_classifier_and_features_pool():
    backbone = TorchvisionBackbone('densenet121')
    reference = torchvision.models.densenet121()
    expected = [k for k in reference.state_dict() if not k.startswith('classifier.')]
    assert list(backbone.state_dict()) == expected
    assert backbone(torch.rand(2, 3, 32, 32)).shape == (2, 1024, 1, 1)  # [N, C, 1, 1]


def test_model_without_features_runs_its_forward_without_fc():
    backbone = TorchvisionBackbone('resnet18')
    assert backbone(torch.rand(2, 3, 32, 32)).shape == (2, 512, 1, 1)
    backbone.eval()
    assert not backbone.layer1[0].bn1.training and not backbone._model_forward.__self__.training


def test_pretrained_file_loads_with_old_densenet_names(tmp_path):
    source = torchvision.models.densenet121()
    # torchvision's DenseNet files name 'denselayer1.norm1' 'denselayer1.norm.1'
    old = {
        re.sub(r'(denselayer\d+\.(?:norm|relu|conv))([12])\.', r'\1.\2.', k): v
        for k, v in source.state_dict().items()
    }
    assert 'features.denseblock1.denselayer1.norm.1.weight' in old
    torch.save(old, tmp_path / 'densenet121.pth')
    backbone = TorchvisionBackbone('densenet121', pretrained=str(tmp_path / 'densenet121.pth'))
    backbone.init_weights()
    for key, value in backbone.state_dict().items():
        assert torch.equal(value, source.state_dict()[key]), key


def test_bad_arguments_say_what_to_write():
    with pytest.raises(TypeError, match='torchvision://resnet18'):
        TorchvisionBackbone('resnet18', pretrained=True)
    with pytest.raises(ValueError, match="pass weights as pretrained='torchvision://resnet18'"):
        TorchvisionBackbone('resnet18', weights='DEFAULT')
    with pytest.raises(ValueError, match="no image model 'resnet19'"):
        TorchvisionBackbone('resnet19')
