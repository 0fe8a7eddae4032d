"""Classifier rows reused by class name against a re-initialised classifier, early in finetuning.

    OMP_NUM_THREADS=1 python tools/analysis/head_reuse_benchmark.py [--seeds 0 1 2]

The demo's source model (TSN-R18 trained on 8 motions, made as ``tools/demo_finetune.py`` makes
it when missing) is finetuned on 4 classes: 3 of its own motions, spelt as another label map
would spell them (``MoveLeft`` for ``move_left``, matched by normalised name), and one it has
never seen (``Grow``). Videos are rendered for this benchmark (indices the demo data does not
use): 5 per class to train on, 10 per class to validate on. Each seed finetunes twice from the
same model, data order and fresh init: ``load_cfg.reuse_classes=True`` (the 3 shared rows copied)
and ``False`` (the whole classifier re-initialised). Validation top-1 is measured before the
first step and after each of the first 10 steps (5 steps = one epoch; SGD, batch 4, lr 0.0025:
the finetune config's 0.01 for batch 16 scaled linearly; ``--lr`` to change it),
over all classes and over the shared and the new classes apart. Takes about 1 minute per seed
on 2 CPU cores, plus the source model once.
"""

import argparse
import os.path as osp
import statistics
from typing import Dict, List, Sequence, Tuple

from mmengine.hooks import Hook

from mmaction_ft.apis.run_setup import prepare_train_cfg
from mmaction_ft.config import load_config
from mmaction_ft.demo.benchmark_data import source_model, write_video_lists
from mmaction_ft.demo.finetune import FINETUNE_CONFIG
from mmaction_ft.engine.runner import ActionRunner

# Target label map -> the demo class whose motion the videos show.
CLASSES = {
    'MoveLeft': 'move_left',
    'MoveUp': 'move_up',
    'MoveDownRight': 'move_down_right',
    'Grow': 'grow',
}
TRAIN_INDICES = range(1000, 1005)  # the demo data uses indices below 100
VAL_INDICES = range(1100, 1110)
NEW_CLASSES = ('Grow',)  # not among the source model's classes
BATCH_SIZE = 4
STEPS_PER_EPOCH = 5  # 4 classes x 5 videos / batch 4
STEPS = 2 * STEPS_PER_EPOCH


class ValidateFromTheStart(Hook):
    """Validates once before the first step too; records each validation's top-1, overall and
    on the shared and the new classes apart."""

    def __init__(self, new_labels: Sequence[int]) -> None:
        self.new_labels = set(new_labels)
        self.results: List[Tuple[float, float, float]] = []  # (all, shared, new)
        self._right: Dict[bool, List[bool]] = {}

    def before_train(self, runner) -> None:
        runner.val_loop.run()

    def before_val_epoch(self, runner) -> None:
        self._right = {False: [], True: []}  # is the class new -> was each video right

    def after_val_iter(self, runner, batch_idx, data_batch=None, outputs=None) -> None:
        for sample in outputs:
            label = int(sample.gt_label.reshape(-1)[0])
            predicted = int(sample.pred_score.argmax())
            self._right[label in self.new_labels].append(predicted == label)

    def after_val_epoch(self, runner, metrics=None) -> None:
        shared, new = (statistics.mean(self._right[is_new]) for is_new in (False, True))
        self.results.append((metrics['acc/top1'], shared, new))


def finetune(
    data: Dict[str, str], work_dir: str, seed: int, reuse: bool, lr: float
) -> List[Tuple[float, float, float]]:
    """Validation top-1 (all, shared, new classes) before the first step and after each."""
    cfg, _ = load_config(FINETUNE_CONFIG)
    cfg.model.cls_head.num_classes = len(CLASSES)
    for split in ('train', 'val', 'test'):
        loader = cfg[f'{split}_dataloader']
        loader.dataset.update(
            ann_file=data['val' if split == 'test' else split],
            data_prefix=dict(video=data['videos']),
            label_map=data['label_map'],
        )
        loader.update(num_workers=0, persistent_workers=False)
    cfg.train_dataloader.batch_size = BATCH_SIZE
    cfg.optim_wrapper.optimizer.lr = lr
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=STEPS, val_interval=1)
    cfg.param_scheduler = None  # constant over these few steps
    cfg.log_processor = dict(type='LogProcessor', window_size=1, by_epoch=False)
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=-1, save_last=False)
    cfg.load_from = source_model()
    cfg.load_cfg = dict(reuse_classes=reuse)
    prepare_train_cfg(cfg, FINETUNE_CONFIG, work_dir=work_dir, seed=seed)
    runner = ActionRunner.from_cfg(cfg)
    hook = ValidateFromTheStart([list(CLASSES).index(name) for name in NEW_CLASSES])
    runner.register_hook(hook, priority='LOWEST')
    runner.train()
    return hook.results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--work-root', default='work_dirs/head_reuse_benchmark')
    # The finetune config's lr 0.01 is for batch 16; the linear scaling rule gives 0.0025 for 4.
    parser.add_argument('--lr', type=float, default=0.01 * BATCH_SIZE / 16)
    args = parser.parse_args()

    per_class = len(CLASSES) * [TRAIN_INDICES], len(CLASSES) * [VAL_INDICES]
    data = write_video_lists(
        osp.join(args.work_root, 'data'), CLASSES, dict(train=per_class[0], val=per_class[1])
    )
    rows = {}
    for seed in args.seeds:
        for reuse in (True, False):
            name = 'reused rows' if reuse else 're-initialised'
            work_dir = osp.join(args.work_root, f'{"reuse" if reuse else "reinit"}_seed{seed}')
            rows[seed, name] = finetune(data, work_dir, seed, reuse, args.lr)

    print(
        f'\nval top-1 on {", ".join(CLASSES)} ({len(VAL_INDICES)} videos each, chance '
        f'{1 / len(CLASSES):.3f}) after N steps of lr {args.lr:g}; 0 = as loaded, '
        f'{STEPS_PER_EPOCH} = end of epoch 1'
    )
    header = ''.join(f'{step:>6}' for step in range(STEPS + 1))
    print(f'{"seed":>4}  {"classifier":<15}{"classes":<8}{header}')
    for (seed, name), results in rows.items():
        print(f'{seed:>4}  {name:<15}{"all":<8}' + ''.join(f'{r[0]:>6.3f}' for r in results))
    for part, column in (('all', 0), ('shared', 1), ('new', 2)):
        for name in ('reused rows', 're-initialised'):
            runs = [results for (_, n), results in rows.items() if n == name]
            means = [statistics.mean(r[column] for r in step) for step in zip(*runs)]
            print(f'{"mean":>4}  {name:<15}{part:<8}' + ''.join(f'{v:>6.3f}' for v in means))


if __name__ == '__main__':
    main()
