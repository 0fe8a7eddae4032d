"""The samples of one batch loaded side by side in the main process.

With ``num_workers=0`` (debugging, small datasets, prediction) the main process loads a batch
one sample after another while the other cores wait. Opening and decoding files release the
GIL, so :func:`load_batch` runs them for several samples of the batch at once, on the threads
of :func:`~mmaction_ft.utils.threads.map_in_threads`. Dataloader workers, which already load one
sample each in parallel, load their samples one after another as before.

The batch is taken :data:`CHUNK` samples at a time, and each chunk's pipeline is cut into runs.
A run of transforms whose own class says ``batch_parallel = True`` (they draw no random
numbers and keep nothing between calls: the ``*Init`` transforms and ``RawFrameDecode`` on local
files, the video ``*Decode`` transforms, the fused augmentation's warp, deterministic resizes
and crops) runs for the chunk's samples at once; any other run (random sampling, crops and
flips, formatting, anything unknown) runs for one sample after another in the batch's order, in
the calling thread. So the random draws happen in one fixed order, the first random run for
every sample of the chunk, then the next run ...: a seed gives the same batches on any number
of cores, though not those of loading one whole sample after another (which draws sample by
sample; the datasets' ``batch_threads=1`` does that).

A sample that raises or is dropped (a transform returns ``None``) on the way is loaded again the
usual way in its place in the batch, ``dataset[idx]``: its error is raised from there, or with
``on_bad_sample='skip'`` it is recorded and replaced, as without this module. Such a sample is
thus tried twice, with random draws of its own the second time.
"""

from functools import partial
from itertools import groupby
from typing import Any, Callable, List, Optional, Sequence, Tuple

from mmaction_ft.utils.threads import map_in_threads

Transform = Callable[[dict], Optional[dict]]

# Samples whose files are open at once: a video reader (with decord, a decoder thread) stays open
# from its *Init run to its *Decode run. A constant, so that the draws do not depend on the cores.
CHUNK = 8


def batch_parallel(transform: Any) -> bool:
    """Whether ``transform`` may run for several samples at once (see the module doc): its
    own class, or the object itself, says ``batch_parallel`` (an attribute or a property). A
    flag inherited from a base class does not count: a subclass may draw random numbers."""
    if 'batch_parallel' in getattr(transform, '__dict__', {}):
        return bool(transform.__dict__['batch_parallel'])
    flag = type(transform).__dict__.get('batch_parallel', False)
    if isinstance(flag, property):
        flag = flag.__get__(transform)
    return bool(flag)


def pipeline_runs(transforms: Sequence[Transform]) -> List[Tuple[bool, List[Transform]]]:
    """``transforms`` cut into runs of equal :func:`batch_parallel`, in order."""
    return [(parallel, list(run)) for parallel, run in groupby(transforms, key=batch_parallel)]


def _apply(transforms: Sequence[Transform], results: dict) -> Optional[dict]:
    """``results`` through ``transforms``; None when one drops the sample or raises."""
    try:
        for transform in transforms:
            results = transform(results)
            if results is None:
                return None
    except Exception:  # noqa: BLE001 (the sample is loaded again the usual way, which raises)
        return None
    return results


def _data_info(dataset: Any, idx: int) -> Optional[dict]:
    """Sample ``idx``'s ``data_info``; None when that fails (as :func:`_apply`)."""
    try:
        return dataset.get_data_info(idx)
    except Exception:  # noqa: BLE001 (loaded again the usual way, which raises or skips)
        return None


def load_batch(dataset: Any, indices: Sequence[int], threads: int) -> List[Any]:
    """The samples ``[dataset[idx] for idx in indices]``, their ``batch_parallel`` runs on
    ``threads`` threads (see the module doc); the random draws do not depend on ``threads``.

    Args:
        dataset: A dataset whose ``prepare_data`` is mmengine's (``get_data_info``, then the
            ``pipeline``'s transforms in turn).
        indices: The batch's sample indices.
        threads: Threads for the parallel runs, the caller's among them.
    """
    runs = pipeline_runs(dataset.pipeline.transforms)
    samples: List[Any] = []
    for start in range(0, len(indices), CHUNK):
        samples += _load_chunk(dataset, indices[start : start + CHUNK], runs, threads)
    return samples


def _load_chunk(
    dataset: Any, chunk: Sequence[int], runs: List[Tuple[bool, List[Transform]]], threads: int
) -> List[Any]:
    """The samples of ``chunk``: their ``data_info``, then the pipeline's ``runs`` in turn."""
    states = [_data_info(dataset, idx) for idx in chunk]
    for parallel, transforms in runs:
        live = [k for k, state in enumerate(states) if state is not None]
        inputs = [states[k] for k in live]
        run = partial(_apply, transforms)
        outputs = map_in_threads(run, inputs, threads) if parallel else [run(x) for x in inputs]
        for k, output in zip(live, outputs):
            states[k] = output
    return [dataset[idx] if state is None else state for idx, state in zip(chunk, states)]
