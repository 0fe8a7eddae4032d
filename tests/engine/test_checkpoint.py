import hashlib
import http.server
import os
import pickle
import threading
import time
import zipfile
from collections import OrderedDict
from datetime import timedelta
from functools import partial

import numpy as np
import pytest
import torch
import torchvision
from mmengine.logging import HistoryBuffer, MessageHub
from mmengine.runner.checkpoint import CheckpointLoader

from mmaction_ft.engine import checkpoint as ckpt_module
from mmaction_ft.engine.checkpoint import (
    ChecksumMismatchError,
    UnsafeCheckpointError,
    default_cache_dir,
    download_checkpoint,
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
    delay = 0.0  # seconds before answering

    def do_GET(self):  # noqa: N802 (http.server's naming)
        self.server.requests.append(self.path)
        time.sleep(self.delay)
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
    server.timeout = 10  # a stuck client cannot hold the test
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


def test_torchvision_image_names_go_through_mmengine_table(http_root, tmp_path, monkeypatch):
    from mmengine.runner import checkpoint as mmengine_checkpoint

    from mmaction_ft.models.backbones import ResNet

    # A stand-in for resnet50-11ad3fa6.pth (torchvision's layout, its stem and first stage,
    # plus the ImageNet classifier) served on 127.0.0.1; mmengine's table is pointed at it.
    torch.manual_seed(0)
    stage1 = ('conv1.', 'bn1.', 'layer1.', 'fc.')
    with torch.device('meta'):  # shapes only: initialising all of ResNet-50 takes seconds
        layout = torchvision.models.resnet50().state_dict()
    tv_state = {
        k: torch.randn(v.shape) if v.is_floating_point() else torch.tensor(3)
        for k, v in layout.items()
        if k.startswith(stage1)
    }
    base, root, requests = http_root
    torch.save(tv_state, root / 'tmp.pth')
    name = f'resnet50-{hashlib.sha256((root / "tmp.pth").read_bytes()).hexdigest()[:8]}.pth'
    (root / 'tmp.pth').rename(root / name)
    real_table = mmengine_checkpoint.get_torchvision_models()
    assert real_table['resnet50.imagenet1k_v2'].endswith('/resnet50-11ad3fa6.pth')
    monkeypatch.setattr(
        mmengine_checkpoint,
        'get_torchvision_models',
        lambda: {**real_table, 'resnet50.imagenet1k_v2': f'{base}/{name}'},
    )
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))

    model = ResNet(
        50, num_stages=1, out_indices=(0,), pretrained='torchvision://resnet50.imagenet1k_v2'
    )
    model.init_weights()

    assert torch.equal(model.conv1.conv.weight, tv_state['conv1.weight'])
    assert torch.equal(model.layer1[2].conv3.bn.running_var, tv_state['layer1.2.bn3.running_var'])
    # mmengine's CheckpointLoader reads the same entry (any spelling) from the cache, raw keys.
    raw = CheckpointLoader.load_checkpoint('torchvision://ResNet50_Weights.IMAGENET1K_V2')
    assert raw.keys() == tv_state.keys()
    assert requests == [f'/{name}']
    # Video models keep torchvision's enum (and their converter): the table is not asked.
    monkeypatch.setattr(mmengine_checkpoint, 'get_torchvision_models', dict)
    assert torchvision_url('r3d_18') == torchvision.models.video.R3D_18_Weights.DEFAULT.url


def test_unknown_torchvision_names_list_what_mmengine_table_has():
    with pytest.raises(ValueError, match=r'no entry .resnet50\.imagenet1k_v9. \(available: '):
        torchvision_url('resnet50.imagenet1k_v9')
    with pytest.raises(ValueError, match=r"no model named 'resnt50'.*did you mean resnet50"):
        torchvision_url('resnt50')


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


# ------------------------------------------------------------------ torch.hub download


def test_download_uses_torch_hub_with_the_hash_prefix_of_the_file_name(
    http_root, tmp_path, monkeypatch
):
    base, root, requests = http_root
    name = save_with_hash_name(root, 'tsn_tiny_20200614')
    calls = []
    real = torch.hub.download_url_to_file

    def recording(url, dst, hash_prefix=None, progress=True):
        calls.append((url, dst, hash_prefix, progress))
        return real(url, dst, hash_prefix=hash_prefix, progress=progress)

    monkeypatch.setattr(torch.hub, 'download_url_to_file', recording)
    cache = tmp_path / 'cache'
    path = download_checkpoint(f'{base}/{name}', cache_dir=str(cache), progress=False)
    assert path == str(cache / name)
    digest = name[len('tsn_tiny_20200614-') : -len('.pth')]
    assert calls == [(f'{base}/{name}', path, digest, False)]
    # Cached: no second request, no second torch.hub call.
    assert download_checkpoint(f'{base}/{name}', cache_dir=str(cache)) == path
    assert len(calls) == 1 and requests == [f'/{name}']


def test_download_without_hash_suffix_is_not_checked(http_root, tmp_path):
    base, root, _ = http_root
    torch.save(tiny_state_dict(), root / 'epoch_12.pth')
    path = download_checkpoint(f'{base}/epoch_12.pth', cache_dir=str(tmp_path / 'c'))
    assert torch.equal(torch.load(path)['weight'], tiny_state_dict()['weight'])


def test_download_progress_is_shown_on_request(http_root, tmp_path, capsys):
    base, root, _ = http_root
    name = save_with_hash_name(root, 'tiny')
    download_checkpoint(f'{base}/{name}', cache_dir=str(tmp_path / 'a'), progress=True)
    assert '100%' in capsys.readouterr().err
    download_checkpoint(f'{base}/{name}', cache_dir=str(tmp_path / 'b'), progress=False)
    assert '100%' not in capsys.readouterr().err


def test_missing_url_is_an_http_error_and_not_cached(http_root, tmp_path):
    base, _, _ = http_root
    cache = tmp_path / 'cache'
    with pytest.raises(OSError, match='404'):
        download_checkpoint(f'{base}/missing-0123abcd.pth', cache_dir=str(cache))
    assert os.listdir(cache) == []


# ------------------------------------------------------------------ mmengine's CheckpointLoader


def test_mmengine_checkpoint_loader_uses_the_allow_list(http_root, tmp_path, monkeypatch):
    local = CheckpointLoader._get_checkpoint_loader('/some/epoch_1.pth')
    assert local is ckpt_module.load_from_safe_local
    assert CheckpointLoader._get_checkpoint_loader('https://x/y.pth') is (
        ckpt_module.load_from_safe_http
    )
    # torchvision:// too (mmengine's calls its own load_from_http, bypassing the one above).
    for name in ('torchvision://resnet18', 'modelzoo://resnet18'):
        assert CheckpointLoader._get_checkpoint_loader(name) is (
            ckpt_module.load_from_safe_torchvision
        )

    hub = MessageHub.get_instance('test-checkpoint-loader-hub')
    hub.update_scalar('train/loss', 0.5)
    path = tmp_path / 'epoch_1.pth'
    torch.save({'state_dict': tiny_state_dict(), 'message_hub': hub.state_dict()}, path)
    loaded = CheckpointLoader.load_checkpoint(str(path), map_location='cpu')
    assert isinstance(loaded['message_hub']['log_scalars']['train/loss'], HistoryBuffer)

    evil = tmp_path / 'evil.pth'
    torch.save({'meta': {'thing': Payload(3)}}, evil)
    with pytest.raises(UnsafeCheckpointError, match='weights_only=False'):
        CheckpointLoader.load_checkpoint(str(evil))
    # torch's own opt-out for callers that do not pass weights_only (as mmengine's do).
    monkeypatch.setenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')
    assert CheckpointLoader.load_checkpoint(str(evil))['meta']['thing'].value == 3
    monkeypatch.delenv('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD')
    with pytest.raises(FileNotFoundError, match='nowhere.pth'):
        CheckpointLoader.load_checkpoint(str(tmp_path / 'nowhere.pth'))

    # URLs: downloaded into $TORCH_HOME/hub/checkpoints once, hash-checked.
    base, root, requests = http_root
    name = save_with_hash_name(root, 'tiny')
    monkeypatch.setenv('TORCH_HOME', str(tmp_path / 'torch_home'))
    for _ in range(2):
        state = CheckpointLoader.load_checkpoint(f'{base}/{name}')['state_dict']
        assert torch.equal(state['weight'], tiny_state_dict()['weight'])
    assert requests == [f'/{name}']
    assert os.listdir(tmp_path / 'torch_home' / 'hub' / 'checkpoints') == [name]


# ------------------------------------------------------------------ two processes, one download


def _load_on_rank(rank, world_size, init_file, urls, cache, torch_home, out_dir):
    os.environ['LOCAL_RANK'] = str(rank)
    os.environ['TORCH_HOME'] = torch_home
    torch.distributed.init_process_group(
        'gloo',
        init_method=f'file://{init_file}',
        rank=rank,
        world_size=world_size,
        timeout=timedelta(seconds=30),
    )
    try:
        ours = load_checkpoint_file(urls[0], cache_dir=cache)
        # The same through mmengine's CheckpointLoader (what init_cfg's Pretrained uses).
        theirs = CheckpointLoader.load_checkpoint(urls[1], map_location='cpu')
        # Cached now: every rank still meets at the barrier (none is left waiting).
        again = load_checkpoint_file(urls[0], cache_dir=cache)
        # A failed download fails on every rank instead of leaving the others waiting.
        try:
            load_checkpoint_file(urls[2], cache_dir=cache)
            failure = None
        except Exception as err:
            failure = f'{type(err).__name__}: {err}'
        torch.save(
            {
                'ours': ours['state_dict'],
                'mmengine': theirs['state_dict'],
                'again': again['state_dict'],
                'failure': failure,
            },
            os.path.join(out_dir, f'rank{rank}.pth'),
        )
    finally:
        torch.distributed.destroy_process_group()


@pytest.mark.slow
def test_two_processes_download_a_url_once(http_root, tmp_path, monkeypatch):
    base, root, requests = http_root
    names = []
    for folder in ('ours', 'mmengine'):
        (root / folder).mkdir()
        names.append(f'{folder}/{save_with_hash_name(root / folder, "tiny")}')
    # A slow server: a rank that did not wait for rank 0 would start its own download.
    monkeypatch.setattr(CountingHandler, 'delay', 0.3)
    out = tmp_path / 'out'
    out.mkdir()
    args = (
        2,
        str(tmp_path / 'rendezvous'),
        [f'{base}/{name}' for name in names + ['missing-0123abcd.pth']],
        str(tmp_path / 'cache'),
        str(tmp_path / 'torch_home'),
        str(out),
    )
    context = torch.multiprocessing.start_processes(
        _load_on_rank, args=args, nprocs=2, join=False, start_method='spawn'
    )
    deadline = time.monotonic() + 60
    try:
        while not context.join(timeout=1):
            assert time.monotonic() < deadline, 'the two ranks did not finish within 60 s'
    finally:
        for process in context.processes:
            if process.is_alive():
                process.kill()
    # One GET per URL, the missing one included (only rank 0 asked for it).
    assert sorted(requests) == sorted(f'/{name}' for name in names + ['missing-0123abcd.pth'])
    results = [torch.load(out / f'rank{rank}.pth') for rank in (0, 1)]
    assert (
        results[0]['failure'].startswith('CheckpointDownloadError')
        and '404' in results[0]['failure']
    )
    assert results[1]['failure'].startswith('RuntimeError')
    assert 'missing-0123abcd.pth is not in the cache' in results[1]['failure']
    for rank_result in results:
        for key in ('ours', 'mmengine', 'again'):
            assert list(rank_result[key]) == ['weight', 'bias']
            for name, tensor in tiny_state_dict().items():
                assert torch.equal(rank_result[key][name], tensor)
