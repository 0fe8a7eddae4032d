"""``load_from`` keeps the classifier rows of the classes a checkpoint shares with the dataset:
class names from the checkpoint's meta or ``load_cfg.source_classes``, ``load_cfg.class_map``."""

import pytest
import torch
from mmengine.hooks import Hook
from test_runner_resume import TinyModel, runner_kwargs
from torch.utils.data import Dataset

from mmaction_ft.engine import ActionRunner
from mmaction_ft.engine.checkpoint_loading import _dataset_class_names, check_load_cfg


class NamedDataset(Dataset):
    """Eight samples of 4 features; ``metainfo['classes']`` only when names are given."""

    def __init__(self, classes=None, num_classes: int = 3) -> None:
        self.metainfo = dict(classes=tuple(classes)) if classes else {}
        self.num_classes = len(classes) if classes else num_classes

    def __len__(self) -> int:
        return 8

    def __getitem__(self, index: int) -> dict:
        generator = torch.Generator().manual_seed(index)
        return dict(inputs=torch.randn(4, generator=generator), label=index % self.num_classes)


class ClassifierBeforeTrain(Hook):
    """The classifier as training starts: after load_from was loaded."""

    def before_train(self, runner) -> None:
        fc = runner.model.cls_head.fc_cls
        self.weight, self.bias = fc.weight.detach().clone(), fc.bias.detach().clone()


def _runner(work_dir, classes, num_classes, load_cfg=None, **extra) -> ActionRunner:
    kwargs = runner_kwargs(work_dir, max_epochs=1, num_classes=num_classes, **extra)
    kwargs['train_dataloader']['dataset'] = NamedDataset(classes, num_classes)
    return ActionRunner(**kwargs, default_scope='mmaction_ft', cfg=dict(load_cfg=load_cfg or {}))


def _log(runner) -> str:
    with open(runner.logger.log_file) as f:
        return f.read()


@pytest.fixture(scope='module')
def source_checkpoint(tmp_path_factory):
    """A checkpoint that mmaction_ft wrote after training on classes A..H (one epoch)."""
    work_dir = tmp_path_factory.mktemp('source')
    _runner(work_dir, list('ABCDEFGH'), 8).train()
    return work_dir / 'epoch_1.pth'


def test_a_checkpoint_written_here_carries_its_classes_to_the_finetuning_run(
    source_checkpoint, tmp_path
):
    saved = torch.load(source_checkpoint, map_location='cpu', weights_only=False)
    assert saved['meta']['dataset_meta']['classes'] == tuple('ABCDEFGH')
    snapshot = ClassifierBeforeTrain()
    runner = _runner(
        tmp_path,
        ['c', 'F', 'X'],
        3,
        load_from=str(source_checkpoint),
        custom_hooks=[snapshot],
    )
    fresh = runner.model.cls_head.fc_cls.weight.detach().clone()

    runner.train()

    source = saved['state_dict']
    assert torch.equal(snapshot.weight[0], source['cls_head.fc_cls.weight'][2])  # c <- C
    assert torch.equal(snapshot.weight[1], source['cls_head.fc_cls.weight'][5])  # F <- F
    assert torch.equal(snapshot.bias[:2], source['cls_head.fc_cls.bias'][[2, 5]])
    assert torch.equal(snapshot.weight[2], fresh[2])  # X: the model's own init
    log = _log(runner)
    assert 'cls_head.fc_cls: reused 2 of 3 classifier rows from the checkpoint: c <- C, F <- F' in (
        log
    )
    assert "1 of 3 classifier rows re-initialised (not among the checkpoint's 8 classes): X" in log

    # load_cfg.reuse_classes=False: the whole classifier re-initialised, as before.
    runner = _runner(tmp_path / 'off', ['c', 'F', 'X'], 3, load_cfg=dict(reuse_classes=False))
    runner.load_checkpoint(str(source_checkpoint))
    assert runner.last_load_report.reinitialised == [
        'cls_head.fc_cls.weight',
        'cls_head.fc_cls.bias',
    ]
    assert '-> re-initialised (load_cfg.reuse_classes=False)' in _log(runner)


def test_no_names_on_either_side_reinitialises_and_says_why(tmp_path):
    path = tmp_path / 'zoo.pth'
    torch.save({'state_dict': TinyModel(8).state_dict()}, path)  # no meta, as model-zoo files
    runner = _runner(tmp_path / 'work', None, 3)
    runner.load_checkpoint(str(path))
    assert runner.last_load_report.reinitialised == [
        'cls_head.fc_cls.weight',
        'cls_head.fc_cls.bias',
    ]
    assert (
        'cls_head.fc_cls: checkpoint has 8 classes, model has 3 -> re-initialised (neither the '
        'checkpoint nor the dataset names its classes)' in _log(runner)
    )


def test_source_classes_and_class_map_files_name_a_nameless_checkpoint(tmp_path):
    torch.manual_seed(4)
    source = TinyModel(8).state_dict()
    path = tmp_path / 'zoo.pth'
    torch.save({'state_dict': source}, path)
    labels = tmp_path / 'label_map.txt'
    labels.write_text('\n'.join('ABCDEFGH') + '\n')
    class_map = tmp_path / 'map.txt'
    class_map.write_text('X,B\n')
    load_cfg = dict(source_classes=str(labels), class_map=str(class_map))

    runner = _runner(tmp_path / 'work', ['c', 'F', 'X'], 3, load_cfg=load_cfg)
    runner.load_checkpoint(str(path))

    weight = runner.model.cls_head.fc_cls.weight
    assert torch.equal(weight, source['cls_head.fc_cls.weight'][[2, 5, 1]])
    assert 'reused 3 of 3 classifier rows from the checkpoint: c <- C, F <- F, X <- B' in (
        _log(runner)
    )

    class_map.write_text('X,B\nY,A\n')
    runner = _runner(tmp_path / 'bad', ['c', 'F', 'X'], 3, load_cfg=load_cfg)
    with pytest.raises(ValueError, match=f"{class_map}:2: 'Y' is not a class of the dataset"):
        runner.load_checkpoint(str(path))


@pytest.mark.parametrize(
    'load_cfg, error, message',
    [
        (dict(reuse_classes='yes'), TypeError, 'load_cfg.reuse_classes must be True or False'),
        (dict(class_map=['X', 'B']), TypeError, 'load_cfg.class_map must be a file path or a'),
        (dict(source_classes=[1, 2]), TypeError, 'load_cfg.source_classes must be a file path'),
        (dict(reuse_class=True), KeyError, "did you mean 'reuse_classes'"),
    ],
)
def test_bad_load_cfg_values_name_the_key(load_cfg, error, message):
    with pytest.raises(error, match=message):
        check_load_cfg(load_cfg)


def test_missing_files_name_their_load_cfg_key(tmp_path):
    path = tmp_path / 'zoo.pth'
    torch.save({'state_dict': TinyModel(8).state_dict()}, path)
    for key in ('source_classes', 'class_map'):
        runner = _runner(tmp_path / key, ['a', 'b', 'c'], 3, load_cfg={key: 'nowhere.txt'})
        with pytest.raises(FileNotFoundError, match=f"load_cfg.{key}: no such file 'nowhere.txt'"):
            runner.load_checkpoint(str(path))


def test_dataset_classes_are_found_through_wrappers_and_configs(tmp_path):
    class Repeat:  # like mmengine's RepeatDataset, without metainfo of its own
        def __init__(self, dataset):
            self.dataset = dataset

    assert _dataset_class_names(Repeat(NamedDataset(['a', 'b']))) == ['a', 'b']
    label_map = tmp_path / 'classInd.txt'
    label_map.write_text('1 Run\n2 Swim\n')
    config = dict(
        type='ConcatDataset', datasets=[dict(type='VideoDataset', label_map=str(label_map))]
    )
    assert _dataset_class_names(config) == ['Run', 'Swim']
    assert _dataset_class_names(dict(metainfo=dict(classes=('x',)))) == ['x']
    assert _dataset_class_names(NamedDataset()) is None
