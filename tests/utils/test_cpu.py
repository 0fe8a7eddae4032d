import pytest

from mmaction_ft.utils import cpu


@pytest.mark.parametrize(
    'flags, native',
    [
        ({'avx2', 'fma'}, False),
        ({'avx512f', 'avx512_bf16'}, True),
        ({'amx_bf16', 'amx_tile'}, True),
    ],
)
def test_native_bf16_follows_the_cpu_flags(monkeypatch, flags, native):
    monkeypatch.setattr(cpu, 'cpu_flags', lambda: frozenset(flags))
    monkeypatch.setattr(cpu.platform, 'system', lambda: 'Linux')
    assert cpu.has_native_bf16() is native


def test_flags_of_this_machine_are_read():
    flags = cpu.cpu_flags()
    assert isinstance(flags, frozenset)
    if flags:  # Linux: every x86-64 CPU reports its SSE2 support
        assert 'sse2' in flags or 'fp' in flags
