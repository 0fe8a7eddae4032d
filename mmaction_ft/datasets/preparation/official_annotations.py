"""Readers of the annotation files that datasets ship with (UCF101, HMDB51, Kinetics, ...).

Every ``parse_*`` function reads the official files of one dataset (formats shown in its
docstring) and returns ``{list_key: [Sample, ...]}``, which :mod:`.file_lists` writes as
MMAction2 lists. Labels are 0-based.
"""

import csv
import glob
import json
import os.path as osp
import re
from dataclasses import dataclass
from typing import Dict, Iterator, List, Optional, Sequence, Tuple


@dataclass(frozen=True)
class Sample:
    """One annotated video (or segment of one) before it is formatted as a list line.

    Attributes:
        video: Video path relative to the videos root of its subset, with extension
            (without one for frame-only datasets such as Something-Something V1).
        labels: 0-based class indices (several for multi-label datasets).
        subset_dir: Sub-folder of the videos / frames root that holds this subset
            ('training/' for Moments in Time); list lines stay relative to it, as the
            dataset config points ``data_prefix`` at ``<root>/<subset_dir>``.
        segment: ``(start, end)`` in seconds for a segment of an untrimmed video.
        duration: Video duration in seconds, when the annotation gives it.
    """

    video: str
    labels: Tuple[int, ...]
    subset_dir: str = ''
    segment: Optional[Tuple[float, float]] = None
    duration: Optional[float] = None

    @property
    def frame_dir(self) -> str:
        """The frame folder: the video path without its extension."""
        return osp.splitext(self.video)[0]


SampleLists = Dict[str, List[Sample]]


def _read_lines(path: str) -> Iterator[Tuple[int, str]]:
    """Yield ``(line_no, stripped line)`` for non-blank lines (official files use CRLF)."""
    if not osp.isfile(path):
        raise FileNotFoundError(f'annotation file not found: {path}')
    with open(path, encoding='utf-8-sig') as f:
        for line_no, line in enumerate(f, 1):
            if line.strip():
                yield line_no, line.strip()


def _find(ann_dir: str, *names: str) -> str:
    """Return the first of ``names`` present in ``ann_dir`` (searched recursively)."""
    for name in names:
        hits = _glob(ann_dir, name)
        if hits:
            return hits[0]
    raise FileNotFoundError(f'none of {list(names)} found under {ann_dir}')


# UCF101 and HMDB51 come with three train/test splits.
OFFICIAL_SPLITS = (1, 2, 3)


def _glob(ann_dir: str, name: str) -> List[str]:
    return sorted(glob.glob(osp.join(ann_dir, '**', name), recursive=True))


def _choose_splits(
    dataset: str, ann_dir: str, splits: Optional[Sequence[int]], present: List[int], files: str
) -> List[int]:
    """The splits to read: those asked for, or the ones present; each must be complete."""
    if splits is None:
        if not present:
            raise FileNotFoundError(f'no complete {dataset} split under {ann_dir} (needs {files})')
        return present
    unknown = [split for split in splits if split not in OFFICIAL_SPLITS]
    if unknown:
        raise ValueError(f'{dataset} has splits {list(OFFICIAL_SPLITS)}, not {unknown}')
    missing = [split for split in splits if split not in present]
    if missing:
        raise FileNotFoundError(
            f'{dataset} split(s) {missing} incomplete under {ann_dir} (needs {files}); '
            f'complete splits there: {present or "none"}'
        )
    return list(splits)


def _class_index(mapping: Dict[str, int], name: str, path: str, line_no: int) -> int:
    if name not in mapping:
        raise ValueError(f'{path}:{line_no}: unknown class {name!r}')
    return mapping[name]


def parse_ucf101(ann_dir: str, splits: Optional[Sequence[int]] = None) -> SampleLists:
    """UCF101 from ``ucfTrainTestlist/``::

        classInd.txt       1 ApplyEyeMakeup                          (1-based)
        trainlist01.txt    ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 1
        testlist01.txt     ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi   (label = folder)

    Args:
        ann_dir: Folder holding the files (searched recursively).
        splits: Split numbers to read; None reads every split whose two files are present.

    Returns:
        Lists ``train_split_N`` and ``val_split_N`` for each split N.
    """
    present = [
        split
        for split in OFFICIAL_SPLITS
        if all(_glob(ann_dir, f'{name}{split:02d}.txt') for name in ('trainlist', 'testlist'))
    ]
    splits = _choose_splits('UCF101', ann_dir, splits, present, 'trainlist0N.txt + testlist0N.txt')
    class_file = _find(ann_dir, 'classInd.txt')
    classes = {}
    for line_no, line in _read_lines(class_file):
        parts = line.split()
        if len(parts) != 2 or not parts[0].isdigit():
            raise ValueError(f'{class_file}:{line_no}: expected "<index> <class>", got {line!r}')
        classes[parts[1]] = int(parts[0]) - 1
    lists: SampleLists = {}
    for split in splits:
        for subset, name in (('train', 'trainlist'), ('val', 'testlist')):
            path = _find(ann_dir, f'{name}{split:02d}.txt')
            samples = []
            for line_no, line in _read_lines(path):
                parts = line.split()
                label = _class_index(classes, parts[0].split('/')[0], path, line_no)
                if len(parts) > 1 and parts[1] != str(label + 1):
                    raise ValueError(
                        f'{path}:{line_no}: label {parts[1]} disagrees with classInd.txt '
                        f'({parts[0].split("/")[0]} = {label + 1})'
                    )
                samples.append(Sample(parts[0], (label,)))
            lists[f'{subset}_split_{split}'] = samples
    return lists


def parse_hmdb51(ann_dir: str, splits: Optional[Sequence[int]] = None) -> SampleLists:
    """HMDB51 from ``testTrainMulti_7030_splits/``, one file per class and split::

        brush_hair_test_split1.txt    April_09_brush_hair_u_nm_np1_ba_goo_0.avi 1

    1 = train, 2 = test, 0 = unused. Classes are numbered in sorted name order, which is
    also the sorted order of the ``videos/<class>/`` folders.

    Args:
        ann_dir: Folder holding the files (searched recursively).
        splits: Split numbers to read; None reads every split whose files are present for
            every class.

    Returns:
        Lists ``train_split_N`` and ``val_split_N`` for each split N.
    """
    pattern = re.compile(r'(.+)_test_split(\d+)\.txt\Z')
    files = {}
    for path in glob.glob(osp.join(ann_dir, '**', '*_test_split*.txt'), recursive=True):
        match = pattern.match(osp.basename(path))
        if match:
            files[match.group(1), int(match.group(2))] = path
    classes = sorted({name for name, _ in files})
    if not classes:
        raise FileNotFoundError(f'no <class>_test_split<N>.txt files under {ann_dir}')
    present = [
        split for split in OFFICIAL_SPLITS if all((name, split) in files for name in classes)
    ]
    splits = _choose_splits('HMDB51', ann_dir, splits, present, '<class>_test_splitN.txt')
    lists: SampleLists = {}
    for split in splits:
        train, val = [], []
        for label, name in enumerate(classes):
            path = files[name, split]
            for line_no, line in _read_lines(path):
                parts = line.split()
                if len(parts) != 2 or parts[1] not in ('0', '1', '2'):
                    raise ValueError(
                        f'{path}:{line_no}: expected "<video>.avi <0|1|2>", got {line!r}'
                    )
                if parts[1] == '1':
                    train.append(Sample(f'{name}/{parts[0]}', (label,)))
                elif parts[1] == '2':
                    val.append(Sample(f'{name}/{parts[0]}', (label,)))
        lists[f'train_split_{split}'] = train
        lists[f'val_split_{split}'] = val
    return lists


def kinetics_class_dir(name: str) -> str:
    """Folder name of a Kinetics class: quotes dropped, spaces -> underscores."""
    return name.replace('"', '').replace(' ', '_')


def parse_kinetics(ann_dir: str) -> SampleLists:
    """Kinetics-400/600/700 csv files (``train.csv``/``validate.csv`` or ``kinetics_*.csv``)::

        label,youtube_id,time_start,time_end,split
        abseiling,0347ZoDXyP0,95,105,train

    Videos are ``<class_dir>/<youtube_id>_<start:06d>_<end:06d>.mp4`` with the class folder
    from :func:`kinetics_class_dir`; classes are numbered in sorted folder-name order of
    the training csv.

    Returns:
        Lists ``train_list`` and ``val_list``.
    """
    sources = {
        'train': _find(ann_dir, 'kinetics_train.csv', 'train.csv'),
        'val': _find(ann_dir, 'kinetics_val.csv', 'validate.csv', 'val.csv'),
    }
    rows = {}
    for subset, path in sources.items():
        with open(path, encoding='utf-8-sig', newline='') as f:
            reader = csv.DictReader(f)
            missing = {'label', 'youtube_id', 'time_start', 'time_end'} - set(
                reader.fieldnames or []
            )
            if missing:
                raise ValueError(f'{path}:1: header lacks columns {sorted(missing)}')
            rows[subset] = [(line_no, row) for line_no, row in enumerate(reader, 2)]
    classes = sorted({kinetics_class_dir(row['label']) for _, row in rows['train']})
    mapping = {name: index for index, name in enumerate(classes)}
    lists: SampleLists = {}
    for subset, path in sources.items():
        samples = []
        for line_no, row in rows[subset]:
            class_dir = kinetics_class_dir(row['label'])
            label = _class_index(mapping, class_dir, path, line_no)
            start, end = int(float(row['time_start'])), int(float(row['time_end']))
            video = f'{class_dir}/{row["youtube_id"]}_{start:06d}_{end:06d}.mp4'
            samples.append(Sample(video, (label,)))
        lists[f'{subset}_list'] = samples
    return lists


def parse_sthv1(ann_dir: str) -> SampleLists:
    """Something-Something V1 (frames only, ``<id>/00001.jpg``)::

        something-something-v1-labels.csv       Holding something      (line i = class i-1)
        something-something-v1-train.csv        100218;Holding something
        something-something-v1-validation.csv   same as train

    Returns:
        Lists ``train_list`` and ``val_list``.
    """
    label_file = _find(ann_dir, 'something-something-v1-labels.csv')
    mapping = {line: index for index, (_, line) in enumerate(_read_lines(label_file))}
    lists: SampleLists = {}
    for subset, name in (('train', 'train'), ('val', 'validation')):
        path = _find(ann_dir, f'something-something-v1-{name}.csv')
        samples = []
        for line_no, line in _read_lines(path):
            video_id, _, class_name = line.partition(';')
            samples.append(Sample(video_id, (_class_index(mapping, class_name, path, line_no),)))
        lists[f'{subset}_list'] = samples
    return lists


def parse_sthv2(ann_dir: str) -> SampleLists:
    """Something-Something V2 json files (videos ``<id>.webm``)::

        something-something-v2-labels.json      {"Approaching something with your camera": "0", ...}
        something-something-v2-train.json       [{"id": "78687", "label": "holding potato next to
            vicks vaporub bottle", "template": "Holding [something] next to [something]",
            "placeholders": ["potato", "vicks vaporub bottle"]}, ...]
        something-something-v2-validation.json  same as train

    The class is the template without brackets.

    Returns:
        Lists ``train_list`` and ``val_list``.
    """
    with open(_find(ann_dir, 'something-something-v2-labels.json'), encoding='utf-8') as f:
        mapping = {name: int(index) for name, index in json.load(f).items()}
    lists: SampleLists = {}
    for subset, name in (('train', 'train'), ('val', 'validation')):
        path = _find(ann_dir, f'something-something-v2-{name}.json')
        with open(path, encoding='utf-8') as f:
            items = json.load(f)
        samples = []
        for index, item in enumerate(items):
            class_name = item['template'].replace('[', '').replace(']', '')
            if class_name not in mapping:
                raise ValueError(
                    f'{path}: item {index} (id {item["id"]}): unknown class {class_name!r}'
                )
            samples.append(Sample(f'{item["id"]}.webm', (mapping[class_name],)))
        lists[f'{subset}_list'] = samples
    return lists


def _read_categories(path: str) -> Dict[str, int]:
    """``class,index`` lines (Moments in Time ``moments_categories.txt``)."""
    mapping = {}
    for line_no, line in _read_lines(path):
        name, _, index = line.rpartition(',')
        if not index.strip().isdigit():
            raise ValueError(f'{path}:{line_no}: expected "<class>,<index>", got {line!r}')
        mapping[name] = int(index)
    return mapping


def parse_mit(ann_dir: str) -> SampleLists:
    """Moments in Time (videos under ``training/`` and ``validation/``)::

        moments_categories.txt   applauding,4
        trainingSet.csv          applauding/-_uVBaj2A0c_40.mp4,applauding,3,0
        validationSet.csv        same as training

    Returns:
        Lists ``train_list`` and ``val_list``, paths relative to the subset folder.
    """
    mapping = _read_categories(_find(ann_dir, 'moments_categories.txt'))
    lists: SampleLists = {}
    for subset, name, subset_dir in (
        ('train', 'trainingSet.csv', 'training'),
        ('val', 'validationSet.csv', 'validation'),
    ):
        path = _find(ann_dir, name)
        samples = []
        for line_no, line in _read_lines(path):
            video = next(csv.reader([line]))[0]
            label = _class_index(mapping, osp.dirname(video), path, line_no)
            samples.append(Sample(video, (label,), subset_dir=subset_dir))
        lists[f'{subset}_list'] = samples
    return lists


def parse_mmit(ann_dir: str) -> SampleLists:
    """Multi-Moments in Time (multi-label; videos under ``training/`` and ``validation/``)::

        trainingSet.txt (or .csv)   yawning/flickr-1-0-8-2-4-2-1-5-40.mp4,312,45
        validationSet.txt           same, 0-based class indices after the path

    Returns:
        Lists ``train_list`` and ``val_list``, paths relative to the subset folder.
    """
    lists: SampleLists = {}
    for subset, stem, subset_dir in (
        ('train', 'trainingSet', 'training'),
        ('val', 'validationSet', 'validation'),
    ):
        path = _find(ann_dir, f'{stem}.txt', f'{stem}.csv')
        samples = []
        for line_no, line in _read_lines(path):
            fields = next(csv.reader([line]))
            try:
                labels = tuple(int(x) for x in fields[1:] if x.strip())
            except ValueError:
                raise ValueError(
                    f'{path}:{line_no}: labels must be integers, got {line!r}'
                ) from None
            if not labels:
                raise ValueError(f'{path}:{line_no}: no label in {line!r}')
            samples.append(Sample(fields[0], labels, subset_dir=subset_dir))
        lists[f'{subset}_list'] = samples
    return lists


def parse_activitynet(ann_dir: str) -> SampleLists:
    """ActivityNet v1.3 ``activity_net.v1-3.min.json`` (untrimmed, videos ``v_<id>.mp4``)::

        {"database": {"<id>": {"subset": "training", "duration": 82.73,
            "annotations": [{"segment": [0.01, 57.59], "label": "Ballet"}]}, ...}}

    One sample per annotated segment; classes are numbered in sorted name order.

    Returns:
        Lists ``train_list`` and ``val_list`` of segment samples.
    """
    path = _find(ann_dir, 'activity_net.v1-3.min.json', 'activity_net.v1-2.min.json')
    with open(path, encoding='utf-8') as f:
        database = json.load(f)['database']
    classes = sorted({a['label'] for v in database.values() for a in v.get('annotations', [])})
    mapping = {name: index for index, name in enumerate(classes)}
    lists: SampleLists = {'train_list': [], 'val_list': []}
    subsets = {'training': 'train_list', 'validation': 'val_list'}
    for video_id in sorted(database):
        info = database[video_id]
        if info.get('subset') not in subsets:
            continue
        for ann in info.get('annotations', []):
            start, end = (float(t) for t in ann['segment'])
            lists[subsets[info['subset']]].append(
                Sample(
                    f'v_{video_id}.mp4',
                    (mapping[ann['label']],),
                    segment=(start, end),
                    duration=float(info['duration']),
                )
            )
    return lists


def parse_thumos14(ann_dir: str) -> SampleLists:
    """THUMOS14 temporal annotations (untrimmed; videos under ``val/`` and ``test/``)::

        annotation/BaseballPitch_val.txt    video_validation_0000051 67.5 75.9
        annotation/BaseballPitch_test.txt   video_test_0000004 0.2 1.1

    ``Ambiguous_*.txt`` is ignored; classes are numbered in sorted name order (the 20
    detection classes).

    Returns:
        Lists ``val_list`` and ``test_list`` of segment samples.
    """
    pattern = re.compile(r'(.+)_(val|test)\.txt\Z')
    files = []
    for path in sorted(glob.glob(osp.join(ann_dir, '**', '*_*.txt'), recursive=True)):
        match = pattern.match(osp.basename(path))
        if match and match.group(1) != 'Ambiguous':
            files.append((match.group(1), match.group(2), path))
    if not files:
        raise FileNotFoundError(f'no <Class>_val.txt / <Class>_test.txt files under {ann_dir}')
    mapping = {name: index for index, name in enumerate(sorted({f[0] for f in files}))}
    lists: SampleLists = {'val_list': [], 'test_list': []}
    for class_name, subset, path in files:
        for line_no, line in _read_lines(path):
            parts = line.split()
            if len(parts) != 3:
                raise ValueError(
                    f'{path}:{line_no}: expected "<video> <start> <end>", got {line!r}'
                )
            sample = Sample(
                f'{parts[0]}.mp4',
                (mapping[class_name],),
                subset_dir=subset,
                segment=(float(parts[1]), float(parts[2])),
            )
            lists[f'{subset}_list'].append(sample)
    for samples in lists.values():
        samples.sort(key=lambda s: (s.video, s.segment))
    return lists
