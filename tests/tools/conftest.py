"""A tiny demo dataset and config shared by the end-to-end tool tests."""

import subprocess
import sys
from pathlib import Path

import pytest

from mmaction_ft.demo.data import make_demo_dataset

REPO = Path(__file__).resolve().parents[2]


def run_tool(*args: str, cwd: Path, timeout: int = 600) -> subprocess.CompletedProcess:
    """Run a script of tools/ in a fresh interpreter, as a user would."""
    return subprocess.run(
        [sys.executable, *args], cwd=cwd, capture_output=True, text=True, timeout=timeout
    )


@pytest.fixture(scope='session')
def tiny_demo(tmp_path_factory) -> dict:
    """4 train + 2 val videos for each of the 8 source motions, 32 px, and a config for them."""
    root = tmp_path_factory.mktemp('tiny_demo')
    data = make_demo_dataset(
        str(root / 'data'),
        class_set='source',
        videos_per_class=6,
        val_per_class=2,
        num_frames=12,
        size=64,
        formats=('videos',),
    )
    config = root / 'tiny_tsn.py'
    config.write_text(f"""
_base_ = [{str(REPO / 'configs/demo/tsn_r18_demo_pretrain.py')!r}]
ann_train = {data['train_list_videos']!r}
ann_val = {data['val_list_videos']!r}
prefix = dict(video={data['videos_prefix']!r})
label_map = {data['label_map']!r}
train_dataloader = dict(batch_size=8, num_workers=0, persistent_workers=False,
    dataset=dict(ann_file=ann_train, data_prefix=prefix, label_map=label_map))
val_dataloader = dict(batch_size=8, num_workers=0, persistent_workers=False,
    dataset=dict(ann_file=ann_val, data_prefix=prefix, label_map=label_map))
# Tested with the validation views, so tools/test.py must reproduce the logged val accuracy.
test_dataloader = dict(batch_size=8, num_workers=0, persistent_workers=False,
    dataset=dict(ann_file=ann_val, data_prefix=prefix, label_map=label_map,
                 pipeline={{{{_base_.val_pipeline}}}}))
train_cfg = dict(max_epochs=3, val_interval=1)
optim_wrapper = dict(optimizer=dict(lr=0.001))
param_scheduler = [dict(type='MultiStepLR', milestones=[2], gamma=0.1, by_epoch=True)]
default_hooks = dict(logger=dict(interval=1), checkpoint=dict(interval=1, max_keep_ckpts=5))
""")
    return dict(root=root, config=config, **data)
