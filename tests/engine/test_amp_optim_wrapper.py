"""``AmpOptimWrapper`` in our scope: mmengine's on a GPU, bfloat16 autocast on a CPU."""

import pytest
import torch
from mmengine.optim import OptimWrapper
from mmengine.registry import DefaultScope
from torch import nn

import mmaction_ft.engine.amp_optim_wrapper as amp_module
from mmaction_ft.engine import AmpOptimWrapper
from mmaction_ft.registry import OPTIM_WRAPPERS
from mmaction_ft.utils import cpu

pytestmark = pytest.mark.skipif(torch.cuda.is_available(), reason='checks the CPU path')


def _wrapper(**kwargs):
    model = nn.Linear(4, 3)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    with DefaultScope.overwrite_default_scope('mmaction_ft'):
        wrapper = OPTIM_WRAPPERS.build(dict(type='AmpOptimWrapper', optimizer=optimizer, **kwargs))
    return model, wrapper


@pytest.fixture
def native_bf16(monkeypatch):
    """Pretend the CPU computes bfloat16 natively (AVX-512 BF16 / AMX)."""
    monkeypatch.setattr(cpu, 'has_native_bf16', lambda: True)


@pytest.fixture
def no_native_bf16(monkeypatch):
    monkeypatch.setattr(cpu, 'has_native_bf16', lambda: False)


@pytest.fixture
def logged(monkeypatch):
    """The messages the wrapper logs."""
    messages = []
    monkeypatch.setattr(amp_module, 'print_log', lambda msg, **kwargs: messages.append(msg))
    return messages


def test_mmaction2_amp_config_builds_ours_on_a_cpu(native_bf16):
    model, wrapper = _wrapper(loss_scale='dynamic', clip_grad=dict(max_norm=1.0))
    assert isinstance(wrapper, AmpOptimWrapper)
    assert wrapper.loss_scaler is None and wrapper.cast_dtype == torch.bfloat16


def test_without_native_bf16_it_trains_in_float32_and_says_why(no_native_bf16, logged):
    model, wrapper = _wrapper(loss_scale='dynamic')
    assert wrapper.cast_dtype is None
    with wrapper.optim_context(model):
        assert model(torch.randn(2, 4)).dtype == torch.float32
    (said,) = logged
    assert 'float32, no autocast' in said and 'no bfloat16 instructions' in said
    assert "optim_wrapper.dtype='bfloat16' forces it" in said


def test_without_a_loss_scale_the_cpu_log_says_nothing_of_gpus(native_bf16, logged):
    _wrapper()  # as precision='auto' builds it
    (said,) = logged
    assert said.startswith('AmpOptimWrapper on a CPU: bfloat16 autocast, because the CPU')
    assert 'GPU' not in said and 'loss_scale' not in said


def test_asked_for_bfloat16_it_autocasts_even_without_native_support(no_native_bf16, logged):
    model, wrapper = _wrapper(dtype='bfloat16')
    assert wrapper.cast_dtype == torch.bfloat16
    with wrapper.optim_context(model):
        assert model(torch.randn(2, 4)).dtype == torch.bfloat16
    (said,) = logged
    assert 'bfloat16 autocast' in said and 'slower than float32' in said


def test_trains_in_bfloat16_autocast_and_steps(native_bf16):
    torch.manual_seed(0)
    model, wrapper = _wrapper()
    before = model.weight.detach().clone()
    with wrapper.optim_context(model):
        out = model(torch.randn(8, 4))
        assert out.dtype == torch.bfloat16  # the linear layer ran under autocast
        loss = out.float().pow(2).mean()
    wrapper.update_params(loss)
    assert not torch.equal(model.weight, before)
    assert model.weight.dtype == torch.float32  # master weights stay float32


def test_state_dict_round_trip_and_gpu_scaler_state_is_ignored():
    model, wrapper = _wrapper()
    state = wrapper.state_dict()
    assert 'loss_scaler' not in state
    state['loss_scaler'] = {'scale': 65536.0}  # as written by a GPU run
    wrapper.load_state_dict(state)
    assert wrapper.optimizer.param_groups[0]['lr'] == 0.1


def test_float16_on_a_cpu_is_refused_naming_the_key():
    with pytest.raises(ValueError, match=r"optim_wrapper.dtype='float16'.*bfloat16"):
        _wrapper(dtype='float16')


def test_plain_optim_wrapper_is_untouched():
    with DefaultScope.overwrite_default_scope('mmaction_ft'):
        built = OPTIM_WRAPPERS.build(
            dict(type='OptimWrapper', optimizer=torch.optim.SGD(nn.Linear(2, 2).parameters(), 0.1))
        )
    assert type(built) is OptimWrapper
