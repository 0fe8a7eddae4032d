"""Time a config's training step, test per video and train pipeline; with --peer, against MMAction2.

Example::

    python tools/analysis/benchmark.py configs/demo/tsn_r18_demo_pretrain.py
    python tools/analysis/benchmark.py CONFIG --peer /tmp/venv_peer/bin/python --rounds 2

Sections (``--what``): ``train`` (seconds per training step, the batch drawn apart), ``test``
(seconds per video of the test pipeline and model, every view) and ``pipeline`` (train pipeline
clips/s with 0 and 2 workers). The measurements are :mod:`mmaction_ft.utils.benchmarking`; with
``--peer PYTHON`` that module is copied into a temporary script and run under MMAction2 in that
interpreter, alternating with this package round by round, and the ratios are printed. The
figures depend on the machine: the CPU line says which one made them. See docs/benchmarks.md.
"""

import argparse
import json
import os
import platform
import statistics
import subprocess
import tempfile
from typing import Any, Dict, List, Optional

import torch
from mmengine.config import DictAction

import mmaction_ft.utils.benchmarking as benchmarking
from mmaction_ft.apis.run_setup import apply_precision, use_mixed_precision
from mmaction_ft.config import load_config
from mmaction_ft.utils import register_all_modules
from mmaction_ft.utils.cpu import (
    accelerator_available,
    cpu_bf16_choice,
    cpu_flags,
    has_native_bf16,
)

SECTIONS = ('train', 'test', 'pipeline')
WORKERS = (0, 2)

# Run before the measuring module in the peer interpreter (docs: ../shared/peer/README.md).
# W1: the mmaction2 1.2.0 wheel lacks models/localizers/drn, which `import mmaction.models` needs.
# W2: mmengine 0.10.7 calls torch.load without weights_only, refused by torch >= 2.6.
PEER_PROLOGUE = """\
import os, sys, types
os.environ.setdefault('TORCH_FORCE_NO_WEIGHTS_ONLY_LOAD', '1')
_drn = types.ModuleType('mmaction.models.localizers.drn')
_drn.__path__ = []
_drn_module = types.ModuleType('mmaction.models.localizers.drn.drn')
_drn_module.DRN = None
sys.modules.setdefault('mmaction.models.localizers.drn', _drn)
sys.modules.setdefault('mmaction.models.localizers.drn.drn', _drn_module)
"""


def parse_args(argv: Optional[List[str]] = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='config file (MMAction2 1.x style runs in both)')
    parser.add_argument('--what', nargs='+', choices=SECTIONS, default=list(SECTIONS))
    parser.add_argument('--iters', type=int, default=3, help='timed steps / batches per section')
    parser.add_argument('--warmup', type=int, default=1, help='untimed steps drawn first')
    parser.add_argument('--rounds', type=int, default=1, help='repetitions (alternating w/ peer)')
    parser.add_argument('--peer', metavar='PYTHON', help='an interpreter with MMAction2 installed')
    parser.add_argument(
        '--amp',
        action='store_true',
        help='mmaction_ft side in mixed precision, as train.py / test.py --amp (bfloat16 on a CPU '
        "with AVX-512 BF16 / AMX); without it, training as the config's precision says and "
        'testing in float32. MMAction2 runs the config as it is',
    )
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        default={},
        help='override config keys, e.g. train_dataloader.batch_size=4 (mmaction_ft side only)',
    )
    args = parser.parse_args(argv)
    if args.iters < 1 or args.warmup < 0 or args.rounds < 1:
        parser.error('--iters and --rounds must be >= 1, --warmup >= 0')
    return args


def cpu_line() -> str:
    """The CPU model, cores, torch threads and the flags that change speed (AVX-512, AMX, bf16)."""
    model = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            model = next(line.split(':', 1)[1].strip() for line in f if 'model name' in line)
    except (OSError, StopIteration):
        pass
    cores = len(os.sched_getaffinity(0)) if hasattr(os, 'sched_getaffinity') else os.cpu_count()
    flags = cpu_flags()
    shown = [name for name in ('avx2', 'avx512f', 'avx512_bf16', 'amx_bf16') if name in flags]
    return (
        f'cpu: {model}; {cores} usable cores, torch threads '
        f'{torch.get_num_threads()}; flags {" ".join(shown) or "none of avx2/avx512/amx"}; '
        f'native bf16 {"yes" if has_native_bf16() else "no"}'
    )


def precision_settings(cfg, amp: bool) -> None:
    """Our side's precision, as the tools set it: training (and validation) from the config's
    ``precision`` or ``--amp`` (:func:`apply_precision`, which logs its choice); testing under
    autocast only with ``--amp``, where ``TestLoop(fp16=True)`` would use it (not on a CPU whose
    bfloat16 is emulated)."""
    training = apply_precision(cfg, amp)
    autocast, why = False, 'tools/test.py tests in float32 unless --amp'
    if amp:
        autocast, why = (True, 'an accelerator') if accelerator_available() else cpu_bf16_choice()
        if autocast:
            use_mixed_precision(cfg, ['test'])
    print(
        f'mmaction_ft precision: training {"mixed" if training == "amp" else "float32"}; test '
        f'{"under autocast" if autocast else "in float32"}, because {why}'
    )


def run_peer(python: str, args: argparse.Namespace, scope: str = 'mmaction') -> Dict[str, Any]:
    """Run the measuring module under ``scope`` (MMAction2) in ``python``; its JSON results."""
    with tempfile.TemporaryDirectory() as tmp:
        script = os.path.join(tmp, 'peer_benchmark.py')
        with open(benchmarking.__file__) as f:
            source = f.read()
        with open(script, 'w') as f:
            f.write(PEER_PROLOGUE + source)
        config = os.path.abspath(args.config)
        command = [python, script, config, '--scope', scope, '--what', *args.what]
        command += ['--iters', str(args.iters), '--warmup', str(args.warmup)]
        # The config's relative data paths resolve against this working directory on both sides.
        done = subprocess.run(command, capture_output=True, text=True)
    lines = [line for line in done.stdout.splitlines() if line.startswith('BENCHMARK_JSON ')]
    if done.returncode or not lines:
        raise RuntimeError(
            f'the peer run `{" ".join(command)}` failed (exit {done.returncode}):\n'
            + done.stderr[-3000:]
        )
    return json.loads(lines[-1][len('BENCHMARK_JSON ') :])


def _timing(figures: Dict[str, float], unit: str) -> str:
    return (
        f'{figures["median"]:.3f} {unit} median (min {figures["min"]:.3f}, '
        f'max {figures["max"]:.3f}, {figures["n"]} timed)'
    )


def print_results(name: str, results: Dict[str, Any]) -> None:
    if 'train' in results:
        train = results['train']
        print(
            f'  [{name}] train     batch {train["batch_size"]}: step '
            f'{_timing(train["step_s"], "s")}; drawing the batch '
            f'{train["data_s"]["median"]:.3f} s; peak RSS {train["peak_mib"]:.0f} MiB'
        )
    if 'test' in results:
        test = results['test']
        print(
            f'  [{name}] test      {test["views_per_video"]} views per video, batch '
            f'{test["batch_size"]}: {_timing(test["video_s"], "s/video")}; loading '
            f'{test["data_s"]["median"]:.3f} s/video; peak RSS {test["peak_mib"]:.0f} MiB'
        )
    for run in results.get('pipeline', []):
        bound = '<= ' if run['worker_peak_is_bound'] else ''
        workers = f', each worker {bound}{run["worker_peak_mib"]:.0f} MiB' if run['workers'] else ''
        print(
            f'  [{name}] pipeline  {run["workers"]} workers, batch {run["batch_size"]}: '
            f'{run["clips_per_s"]:.1f} clips/s ({run["videos_per_s"]:.1f} videos/s, '
            f'{run["clips_per_video"]} clips per video); peak RSS main '
            f'{run["main_peak_mib"]:.0f} MiB{workers}'
        )


def headline(results: Dict[str, Any]) -> Dict[str, float]:
    """The figures the ratios compare: seconds per step and per video, clips/s per worker count."""
    figures = {}
    if 'train' in results:
        figures['train s/step'] = results['train']['step_s']['median']
    if 'test' in results:
        figures['test s/video'] = results['test']['video_s']['median']
    for run in results.get('pipeline', []):
        figures[f'pipeline clips/s, {run["workers"]} workers'] = run['clips_per_s']
    return figures


def print_ratios(ours: List[Dict[str, Any]], theirs: List[Dict[str, Any]]) -> Dict[str, float]:
    """mmaction_ft / MMAction2 of the median over rounds of each headline figure."""
    print('mmaction_ft / MMAction2 (median over rounds; times: < 1 is faster, clips/s: > 1 is):')
    ratios = {}
    for name in headline(ours[0]):
        a = statistics.median(headline(r)[name] for r in ours)
        b = statistics.median(headline(r)[name] for r in theirs)
        ratios[name] = a / b
        print(f'  {name:<30} {a:10.3f} / {b:10.3f} = {a / b:.2f}x')
    return ratios


def main(argv: Optional[List[str]] = None) -> Dict[str, Any]:
    args = parse_args(argv)
    torch.set_num_threads(benchmarking.default_threads())
    cfg, _ = load_config(args.config, args.cfg_options)
    register_all_modules()  # default scope 'mmaction_ft'
    print(f'benchmark of {args.config}: torch {torch.__version__}, sections {" ".join(args.what)}')
    print(cpu_line())
    precision_settings(cfg, args.amp)
    peer = args.peer
    if peer and not (os.path.isfile(peer) and os.access(peer, os.X_OK)):
        print(f'peer: {peer} is not an executable interpreter; MMAction2 not measured, skipped')
        peer = None
    elif not peer:
        print('peer: none given (--peer PYTHON); measuring mmaction_ft alone')
    ours, theirs = [], []
    for round_ in range(args.rounds):
        print(f'round {round_ + 1} of {args.rounds}:')
        ours.append(benchmarking.measure(cfg, args.what, args.iters, args.warmup, WORKERS))
        print_results('mmaction_ft', ours[-1])
        if peer:
            theirs.append(run_peer(peer, args))
            print_results('MMAction2', theirs[-1])
    ratios = print_ratios(ours, theirs) if theirs else {}
    return dict(ours=ours, theirs=theirs, ratios=ratios)


if __name__ == '__main__':
    main()
