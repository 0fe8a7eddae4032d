"""``ValLoop`` / ``TestLoop`` in our scope: ``fp16=True`` on a CPU is bfloat16 only where native."""

from types import SimpleNamespace

import pytest
import torch
from mmengine.evaluator import BaseMetric, Evaluator
from mmengine.registry import DefaultScope
from torch.utils.data import DataLoader

from mmaction_ft.engine import loops
from mmaction_ft.registry import LOOPS
from mmaction_ft.utils import cpu

pytestmark = pytest.mark.skipif(torch.cuda.is_available(), reason='checks the CPU path')


class _Seen(BaseMetric):
    """Counts the samples it is given."""

    def process(self, data_batch, data_samples):
        self.results.extend(data_samples)

    def compute_metrics(self, results):
        return dict(samples=len(results))


class _Model(torch.nn.Module):
    """Records the autocast state its val/test step runs under."""

    def __init__(self):
        super().__init__()
        self.seen = []

    def val_step(self, data):
        self.seen.append(
            torch.get_autocast_dtype('cpu') if torch.is_autocast_enabled('cpu') else None
        )
        return [dict(x=x) for x in data]

    test_step = val_step


def _run(loop_type: str, fp16: bool):
    """Build ``loop_type`` from our registry with a stand-in runner, run it, return what the
    model saw and the loop."""
    model = _Model()
    runner = SimpleNamespace(
        model=model,
        call_hook=lambda *args, **kwargs: None,
        visualizer=SimpleNamespace(dataset_meta=None),
    )
    with DefaultScope.overwrite_default_scope('mmaction_ft'):
        loop = LOOPS.build(
            dict(
                type=loop_type,
                runner=runner,
                dataloader=DataLoader(list(range(4)), batch_size=2),
                evaluator=Evaluator(_Seen()),
                fp16=fp16,
            )
        )
    metrics = loop.run()
    assert metrics == dict(samples=4)
    return model.seen, loop


@pytest.fixture
def logged(monkeypatch):
    messages = []
    monkeypatch.setattr(loops, 'print_log', lambda msg, **kwargs: messages.append(msg))
    return messages


@pytest.mark.parametrize('loop_type', ['ValLoop', 'TestLoop'])
def test_native_bf16_cpu_runs_the_model_under_bfloat16_autocast(monkeypatch, logged, loop_type):
    monkeypatch.setattr(cpu, 'has_native_bf16', lambda: True)
    seen, loop = _run(loop_type, fp16=True)
    assert isinstance(loop, getattr(loops, loop_type))
    assert seen == [torch.bfloat16, torch.bfloat16]
    (said,) = logged
    key = 'val_cfg' if loop_type == 'ValLoop' else 'test_cfg'
    assert said.startswith(f'{key}.fp16=True on a CPU: bfloat16 autocast, because the CPU')


@pytest.mark.parametrize('loop_type', ['ValLoop', 'TestLoop'])
def test_without_bf16_instructions_it_stays_float32_and_says_why(monkeypatch, logged, loop_type):
    monkeypatch.setattr(cpu, 'has_native_bf16', lambda: False)
    seen, loop = _run(loop_type, fp16=True)
    assert seen == [None, None] and loop.fp16 is False
    (said,) = logged
    assert 'float32, no autocast' in said and 'emulated and slower' in said


def test_without_fp16_nothing_changes_and_nothing_is_logged(monkeypatch, logged):
    monkeypatch.setattr(cpu, 'has_native_bf16', lambda: True)
    seen, _ = _run('TestLoop', fp16=False)
    assert seen == [None, None] and logged == []
