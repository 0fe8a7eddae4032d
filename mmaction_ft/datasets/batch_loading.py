"""The samples of one batch loaded side by side in the main process.

With ``num_workers=0`` (debugging, small datasets, prediction) the main process loads a batch
one sample after another while the other cores wait. Opening and decoding files release the
GIL, so :func:`load_batch` runs them for several samples of the batch at once, on the threads
of :func:`~mmaction_ft.utils.threads.map_in_threads`. In a dataloader worker, where the workers
already load one sample each in parallel, datasets keep loading one sample at a time
(:func:`~mmaction_ft.utils.threads.sample_threads` gives 1 there).

The pipeline is cut into runs. A run of transforms whose own class says ``batch_parallel =
True`` (they draw no random numbers and keep nothing between calls: the ``*Init`` / ``*Decode``
transforms, deterministic resizes and crops, formatting) runs for several samples at once; any
other run (random sampling, crops and flips, anything unknown) runs for one sample after another
in the batch's order, in the calling thread. So the batch's random draws happen in one fixed
order, the first random run for every sample, then the next run for every sample ...: a seed
gives the same batches every time, though not those of loading one whole sample after another
(which draws sample by sample).

A sample that raises or is dropped (a transform returns ``None``) on the way is loaded again the
usual way in its place in the batch, ``dataset[idx]``: its error is raised from there, or with
``on_bad_sample='skip'`` it is recorded and replaced, as without this module.
"""

from itertools import groupby
from typing import Any, Callable, List, Optional, Sequence, Tuple

from mmaction_ft.utils.threads import map_in_threads

Transform = Callable[[dict], Optional[dict]]


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


def load_batch(dataset: Any, indices: Sequence[int], threads: int) -> List[Any]:
    """The samples ``[dataset[idx] for idx in indices]``, their ``batch_parallel`` runs on
    ``threads`` threads (see the module doc).

    Args:
        dataset: A dataset whose ``prepare_data`` is mmengine's (``get_data_info``, then the
            ``pipeline``'s transforms in turn).
        indices: The batch's sample indices.
        threads: Threads for the parallel runs, the caller's among them.
    """
    states: List[Optional[dict]] = [dataset.get_data_info(idx) for idx in indices]
    for parallel, transforms in pipeline_runs(dataset.pipeline.transforms):
        live = [k for k, state in enumerate(states) if state is not None]

        def step(k: int, transforms: Sequence[Transform] = transforms) -> Optional[dict]:
            return _apply(transforms, states[k])

        if parallel:
            outputs = map_in_threads(step, live, threads)
        else:
            outputs = [step(k) for k in live]
        for k, output in zip(live, outputs):
            states[k] = output
    return [dataset[idx] if state is None else state for idx, state in zip(indices, states)]
