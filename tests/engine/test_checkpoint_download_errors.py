"""A checkpoint URL that cannot be fetched names the URL, its config key and a way around it.

Every URL here is on 127.0.0.1: a port nobody listens on (connection refused) or a local HTTP
server that answers 404. Nothing goes to the internet.
"""

import http.server
import os
import socket
import threading
from functools import partial

import pytest
from mmengine.runner.checkpoint import CheckpointLoader
from test_runner_resume import TinyModel, runner_kwargs
from torch import nn

from mmaction_ft.engine import ActionRunner
from mmaction_ft.engine import checkpoint as ckpt_module
from mmaction_ft.engine.checkpoint import (
    CheckpointDownloadError,
    config_keys_of_sources,
    download_checkpoint,
    load_checkpoint_file,
)
from mmaction_ft.engine.runner import _weight_source_keys

NAME = 'tsn_r50_20200614-e508be42.pth'


@pytest.fixture
def refused_url() -> str:
    """A URL on a local port that was free a moment ago: connecting to it is refused."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        port = sock.getsockname()[1]
    return f'http://127.0.0.1:{port}/{NAME}'


@pytest.fixture
def not_found_url(tmp_path):
    """A URL of a local HTTP server that serves an empty folder (404)."""
    root = tmp_path / 'www'
    root.mkdir()

    class Quiet(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(('127.0.0.1', 0), partial(Quiet, directory=root))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f'http://127.0.0.1:{server.server_address[1]}/{NAME}'
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def torch_home(tmp_path, monkeypatch):
    """The default download cache ($TORCH_HOME/hub/checkpoints) inside the test's folder."""
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    return tmp_path / 'torch_home' / 'hub' / 'checkpoints'


def test_refused_url_names_the_url_the_key_and_a_local_copy(refused_url, tmp_path):
    cache = tmp_path / 'cache'
    with pytest.raises(CheckpointDownloadError) as err:
        download_checkpoint(refused_url, cache_dir=str(cache), config_key='load_from')
    message = str(err.value)
    assert message.startswith(f'cannot download {refused_url} (load_from): ')
    assert 'Connection refused' in message
    assert f"to use a local copy, download it yourself and set load_from='/path/to/{NAME}'" in (
        message
    )
    assert str(cache / NAME) in message  # the cache path, read before downloading
    assert isinstance(err.value, OSError)  # what urllib's own error was
    assert os.listdir(cache) == []  # nothing half-downloaded is left to look cached


def test_http_error_without_a_key_says_to_pass_a_local_path(not_found_url, torch_home):
    with pytest.raises(CheckpointDownloadError) as err:
        load_checkpoint_file(not_found_url)
    message = str(err.value)
    assert message.startswith(f'cannot download {not_found_url}: HTTP Error 404: File not found')
    assert 'download it yourself and give its local path instead of the URL' in message
    assert str(torch_home / NAME) in message


def test_a_source_named_in_a_block_carries_its_key_to_torchvision_and_mmengine_loads(
    refused_url, monkeypatch
):
    # torchvision://resnet18 resolves to a URL; here to one that refuses connections.
    monkeypatch.setattr(ckpt_module, 'torchvision_url', lambda name: refused_url)
    key = 'model.backbone.pretrained'
    with config_keys_of_sources({'torchvision://resnet18': key}):
        with pytest.raises(CheckpointDownloadError, match=rf"\({key}\): .*set {key}='/path/to/"):
            load_checkpoint_file('torchvision://resnet18')
        # mmengine's loaders (init_cfg=dict(type='Pretrained', ...)) take the same route.
        with pytest.raises(CheckpointDownloadError, match=rf'\({key}\)'):
            CheckpointLoader.load_checkpoint('torchvision://resnet18')
    with pytest.raises(CheckpointDownloadError) as err:
        load_checkpoint_file('torchvision://resnet18')
    assert key not in str(err.value)  # the block is over


def test_weight_source_keys_are_the_config_paths_of_pretrained_and_init_cfg():
    model = TinyModel()
    model.backbone.pretrained = 'torchvision://resnet50'
    model.cls_head.init_cfg = dict(type='Pretrained', checkpoint='https://host/head.pth')
    model.neck = nn.Linear(2, 2)
    model.neck.init_cfg = [
        dict(type='Constant', val=0),
        dict(type='Pretrained', checkpoint='n.pth'),
    ]
    assert _weight_source_keys(model) == {
        'torchvision://resnet50': 'model.backbone.pretrained',
        'https://host/head.pth': 'model.cls_head.init_cfg.checkpoint',
        'n.pth': 'model.neck.init_cfg.1.checkpoint',
    }


class DownloadingBackbone(nn.Sequential):
    """A backbone whose init_weights reads ``pretrained`` as mmaction_ft's backbones do."""

    def __init__(self, pretrained: str) -> None:
        super().__init__(nn.Linear(4, 8), nn.BatchNorm1d(8))
        self.pretrained = pretrained

    def init_weights(self) -> None:
        load_checkpoint_file(self.pretrained)


def test_runner_names_load_from_and_the_backbone_pretrained_key(refused_url, tmp_path):
    runner = ActionRunner(**runner_kwargs(tmp_path, max_epochs=1, load_from=refused_url))
    with pytest.raises(CheckpointDownloadError, match=r"\(load_from\): .*set load_from='"):
        runner.load_checkpoint(refused_url)

    kwargs = runner_kwargs(tmp_path / 'pretrained', max_epochs=1)
    kwargs['model'].backbone = DownloadingBackbone(refused_url)
    runner = ActionRunner(**kwargs)
    with pytest.raises(CheckpointDownloadError, match=r'\(model\.backbone\.pretrained\)'):
        runner._init_model_weights()
    # A file the runner reads for another reason (tools/test.py's CHECKPOINT) names no key.
    with pytest.raises(CheckpointDownloadError) as err:
        runner.load_checkpoint(refused_url)
    assert 'give its local path instead of the URL' in str(err.value)
