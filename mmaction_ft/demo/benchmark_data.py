"""Data and the source model for benchmarks on the demo motions (``tools/analysis/``).

The demo itself (:mod:`.finetune`) keeps its own lists under ``data/demo``; a benchmark renders
its videos with other indices into its own folder, so that it neither reads nor changes them.
"""

import os
import os.path as osp
from typing import Dict, List, Mapping, Sequence

import numpy as np

from mmaction_ft.datasets.video_io import write_video
from mmaction_ft.demo.data import render_video
from mmaction_ft.demo.finetune import prepare_demo_data, train_source_model

SOURCE_MODEL = 'work_dirs/tsn_r18_demo_pretrain/demo_source_model.pth'  # as run_demo writes it
FPS = 12  # the demo data's frame rate


def unbalanced_counts(num_classes: int, fewest: int, most: int) -> List[int]:
    """Training videos per class, evenly spread from ``fewest`` (first class) to ``most`` (last).

    ``unbalanced_counts(5, 2, 12)`` is ``[2, 5, 7, 10, 12]`` (4.5 and 9.5 round up).
    """
    if num_classes < 1 or not 1 <= fewest <= most:
        raise ValueError(
            f'need num_classes >= 1 and 1 <= fewest <= most, got num_classes={num_classes}, '
            f'fewest={fewest}, most={most}'
        )
    # Round half up (np.round would round 6.5 and 9.5 to the even neighbour).
    return [int(np.floor(c + 0.5)) for c in np.linspace(fewest, most, num_classes)]


def write_video_lists(
    root: str,
    classes: Mapping[str, str],
    split_indices: Mapping[str, Sequence[Sequence[int]]],
) -> Dict[str, str]:
    """Render videos of demo motions under ``root`` and write MMAction2-style lists for them.

    Videos already there are kept (the same motion and index always render the same frames).

    Args:
        root: Output folder: ``videos/<motion>/<motion>_<index>.mp4``, ``classes.txt`` and one
            ``<split>_list_videos.txt`` per split (lines ``<motion>/<file>.mp4 <label>``).
        classes: Label name (as ``classes.txt`` spells it) -> the demo motion its videos show,
            in label order.
        split_indices: Split name -> per class (in the order of ``classes``) the video indices
            to render. The demo data uses indices below 100.

    Returns:
        ``videos`` (the ``data_prefix``), ``label_map`` and one list path per split.
    """
    paths = dict(videos=osp.join(root, 'videos'), label_map=osp.join(root, 'classes.txt'))
    for split, per_class in split_indices.items():
        if len(per_class) != len(classes):
            raise ValueError(
                f'split {split!r} gives indices for {len(per_class)} classes, '
                f'classes has {len(classes)}'
            )
        lines = []
        for label, (motion, indices) in enumerate(zip(classes.values(), per_class)):
            os.makedirs(osp.join(paths['videos'], motion), exist_ok=True)
            for index in indices:
                video = f'{motion}/{motion}_{index:04d}.mp4'
                if not osp.isfile(osp.join(paths['videos'], video)):
                    write_video(osp.join(paths['videos'], video), render_video(motion, index), FPS)
                lines.append(f'{video} {label}\n')
        paths[split] = osp.join(root, f'{split}_list_videos.txt')
        with open(paths[split], 'w') as f:
            f.writelines(lines)
    with open(paths['label_map'], 'w') as f:
        f.writelines(name + '\n' for name in classes)
    return paths


def source_model(path: str = SOURCE_MODEL) -> str:
    """The demo's source model at ``path``, pretrained and exported first when missing."""
    if not osp.isfile(path):
        prepare_demo_data()
        train_source_model(path)
    return path
