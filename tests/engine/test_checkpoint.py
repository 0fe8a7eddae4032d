import hashlib
import http.server
import os
import pickle
import threading
import zipfile
from collections import OrderedDict
from functools import partial

import numpy as np
import pytest
import torch
import torchvision
from mmengine.logging import HistoryBuffer, MessageHub

from mmaction_ft.engine import checkpoint as ckpt_module
from mmaction_ft.engine.checkpoint import (
    ChecksumMismatchError,
    UnsafeCheckpointError,
    default_cache_dir,
    expected_hash_prefix,
    get_state_dict,
    load_checkpoint_file,
    torchvision_url,
)


class Payload:
    """An arbitrary object: unpickling it means importing and building any class."""

    def __init__(self, value: int) -> None:
        self.value = value


class GetattrTrick:
    """Pickles as getattr(HistoryBuffer, 'update'): a getattr outside the allowed statistics."""

    def __reduce__(self):
        return getattr, (HistoryBuffer, 'update')


def tiny_state_dict() -> OrderedDict:
    return OrderedDict(weight=torch.arange(6.0).reshape(2, 3), bias=torch.tensor([1.0, -1.0]))


# ------------------------------------------------------------------ local files and safety


def test_missing_local_file_names_the_path(tmp_path):
    path = tmp_path / 'nowhere' / 'epoch_3.pth'
    with pytest.raises(FileNotFoundError, match=str(path)):
        load_checkpoint_file(str(path))


def test_unknown_scheme_is_refused():
    with pytest.raises(ValueError, match="unsupported checkpoint source 's3://b/x.pth'"):
        load_checkpoint_file('s3://b/x.pth')


def test_arbitrary_object_is_refused_unless_opted_in(tmp_path):
    path = tmp_path / 'evil.pth'
    torch.save({'state_dict': tiny_state_dict(), 'meta': {'thing': Payload(3)}}, path)

    with pytest.raises(UnsafeCheckpointError) as err:
        load_checkpoint_file(str(path))
    message = str(err.value)
    assert str(path) in message
    assert f'{__name__}.Payload' in message
    assert 'weights_only=False' in message
    assert 'load_cfg = dict(weights_only=False)' in message

    loaded = load_checkpoint_file(str(path), weights_only=False)
    assert isinstance(loaded['meta']['thing'], Payload) and loaded['meta']['thing'].value == 3


def test_getattr_is_only_allowed_for_history_buffer_statistics(tmp_path):
    path = tmp_path / 'trick.pth'
    torch.save({'meta': {'x': GetattrTrick()}}, path)
    with pytest.raises(UnsafeCheckpointError, match='builtins.getattr'):
        load_checkpoint_file(str(path))


def test_mmengine_training_metadata_loads_safely(tmp_path):
    hub = MessageHub.get_instance('test-checkpoint-hub')
    hub.update_scalar('train/loss', 0.5)
    hub.update_scalar('train/loss', 0.25)
    hub.update_info('eta', np.float64(12.5))
    path = tmp_path / 'epoch_1.pth'
    torch.save(
        {
            'meta': {'epoch': 1, 'dataset_meta': {'classes': ('a', 'b')}},
            'state_dict': tiny_state_dict(),
            'message_hub': hub.state_dict(),
        },
        path,
    )
    loaded = load_checkpoint_file(str(path))  # weights_only=True by default
    buffer = loaded['message_hub']['log_scalars']['train/loss']
    assert isinstance(buffer, HistoryBuffer)
    assert buffer.mean() == pytest.approx(0.375)
    assert loaded['message_hub']['runtime_info']['eta'] == np.float64(12.5)


def test_numpy1_metadata_loads_safely(tmp_path):
    # numpy 1.x pickles name numpy.core.multiarray (numpy 2: numpy._core); rewrite a numpy 2 file.
    saved = tmp_path / 'numpy2.pth'
    torch.save({'meta': {'best_score': np.float64(0.75), 'hist': np.arange(3)}}, saved)
    legacy = tmp_path / 'numpy1.pth'
    with zipfile.ZipFile(saved) as src, zipfile.ZipFile(legacy, 'w', zipfile.ZIP_STORED) as dst:
        for info in src.infolist():
            data = src.read(info.filename)
            if info.filename.endswith('data.pkl'):
                data = data.replace(b'numpy._core.multiarray', b'numpy.core.multiarray')
                assert b'numpy.core.multiarray' in data
            dst.writestr(info, data)
    meta = load_checkpoint_file(str(legacy))['meta']
    assert meta['best_score'] == np.float64(0.75)
    assert np.array_equal(meta['hist'], np.arange(3))


def test_not_a_checkpoint_is_a_clear_error(tmp_path):
    path = tmp_path / 'page.pth'
    path.write_text('<html>404</html>')
    with pytest.raises(pickle.UnpicklingError, match=str(path)):
        load_checkpoint_file(str(path))


def test_get_state_dict_unwraps_and_strips_ddp_prefix():
    tensors = tiny_state_dict()
    ddp = OrderedDict((f'module.{key}', value) for key, value in tensors.items())
    ddp._metadata = OrderedDict([('module', {'version': 1}), ('module.bn', {'version': 2})])
    for checkpoint in ({'state_dict': ddp, 'meta': {}}, {'model': ddp}, ddp, tensors):
        state_dict = get_state_dict(checkpoint)
        assert list(state_dict) == ['weight', 'bias']
        assert state_dict['weight'] is tensors['weight']
    assert get_state_dict({'state_dict': ddp})._metadata == {
        '': {'version': 1},
        'bn': {'version': 2},
    }
    with pytest.raises(TypeError, match='got list'):
        get_state_dict([1, 2])


# ------------------------------------------------------------------ URLs and the cache


class CountingHandler(http.server.SimpleHTTPRequestHandler):
    def do_GET(self):  # noqa: N802 (http.server's naming)
        self.server.requests.append(self.path)
        super().do_GET()

    def log_message(self, *args):
        pass


@pytest.fixture
def http_root(tmp_path):
    """A real HTTP server on 127.0.0.1 serving tmp_path/www; yields (base_url, dir, requests)."""
    root = tmp_path / 'www'
    root.mkdir()
    server = http.server.ThreadingHTTPServer(
        ('127.0.0.1', 0), partial(CountingHandler, directory=str(root))
    )
    server.requests = []
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f'http://127.0.0.1:{server.server_address[1]}', root, server.requests
    server.shutdown()
    server.server_close()


def save_with_hash_name(root, stem: str) -> str:
    tmp = root / 'tmp.pth'
    torch.save({'meta': {}, 'state_dict': tiny_state_dict()}, tmp)
    digest = hashlib.sha256(tmp.read_bytes()).hexdigest()[:8]
    name = f'{stem}-{digest}.pth'
    tmp.rename(root / name)
    return name


def test_url_is_downloaded_once_then_served_from_cache(http_root, tmp_path):
    base, root, requests = http_root
    name = save_with_hash_name(root, 'tsn_tiny_20200614')
    cache = tmp_path / 'cache'

    first = load_checkpoint_file(f'{base}/{name}', cache_dir=str(cache))
    second = load_checkpoint_file(f'{base}/{name}', cache_dir=str(cache))

    assert requests == [f'/{name}']
    assert torch.equal(first['state_dict']['weight'], tiny_state_dict()['weight'])
    assert torch.equal(second['state_dict']['bias'], tiny_state_dict()['bias'])
    assert sorted(os.listdir(cache)) == [name]  # no temporary file left behind


def test_wrong_hash_suffix_is_refused_and_not_cached(http_root, tmp_path):
    base, root, requests = http_root
    good = save_with_hash_name(root, 'tiny')
    actual = good[len('tiny-') : -len('.pth')]
    wrong = 'deadbeef' if actual != 'deadbeef' else 'cafef00d'
    bad_name = f'tiny-{wrong}.pth'
    (root / good).rename(root / bad_name)
    cache = tmp_path / 'cache'
    url = f'{base}/{bad_name}'

    with pytest.raises(ChecksumMismatchError) as err:
        load_checkpoint_file(url, cache_dir=str(cache))
    message = str(err.value)
    assert url in message and wrong in message and actual in message
    assert os.listdir(cache) == []
    with pytest.raises(ChecksumMismatchError):  # still not cached: downloads and fails again
        load_checkpoint_file(url, cache_dir=str(cache))
    assert len(requests) == 2


def test_hash_prefix_is_read_from_the_file_name():
    assert expected_hash_prefix('https://x/tsn_r50_20200614-e508be42.pth') == 'e508be42'
    assert expected_hash_prefix('resnet50-0676ba61.pth') == '0676ba61'
    assert expected_hash_prefix('epoch_12.pth') is None
    assert expected_hash_prefix('tsn_r50_1x1x3_100e_kinetics400_rgb.pth') is None
    # Eight digits alone are a date, not a hash: such a download must not be deleted as corrupt.
    assert expected_hash_prefix('my_tsn-20200614.pth') is None


def test_torchvision_scheme_resolves_to_imagenet1k_v1(monkeypatch, tmp_path):
    expected = torchvision.models.ResNet18_Weights.IMAGENET1K_V1.url
    assert torchvision_url('resnet18') == expected
    assert torchvision_url('resnet18').endswith('/resnet18-f37072fd.pth')
    assert torchvision_url('resnet50.imagenet1k_v2').endswith('/resnet50-11ad3fa6.pth')
    with pytest.raises(ValueError, match='no model named'):
        torchvision_url('resnet_does_not_exist')

    # torchvision:// goes through the URL path (no real download here).
    local = tmp_path / 'resnet18-f37072fd.pth'
    torch.save(tiny_state_dict(), local)
    asked = []

    def fake_download(url, cache_dir=None):
        asked.append(url)
        return str(local)

    monkeypatch.setattr(ckpt_module, 'download_checkpoint', fake_download)
    state = load_checkpoint_file('torchvision://resnet18')
    assert asked == [expected]
    assert list(state) == ['weight', 'bias']


def test_default_cache_is_torch_hub_checkpoints(monkeypatch, tmp_path):
    monkeypatch.setenv('TORCH_HOME', str(tmp_path))
    assert default_cache_dir() == os.path.join(str(tmp_path), 'hub', 'checkpoints')


def test_numpy_numeric_scalars_and_arrays_in_meta_load_safely(tmp_path):
    path = tmp_path / 'meta.pth'
    meta = {
        'lr': np.float32(0.1),
        'step': np.int32(3),
        'flag': np.bool_(True),
        'hist': np.arange(4, dtype=np.int32),
        'half': np.ones(2, dtype=np.float16),
    }
    torch.save({'meta': meta, 'state_dict': {'w': torch.ones(1)}}, path)
    loaded = load_checkpoint_file(str(path))
    assert loaded['meta']['lr'] == np.float32(0.1) and loaded['meta']['step'] == 3
    assert loaded['meta']['hist'].tolist() == [0, 1, 2, 3]
