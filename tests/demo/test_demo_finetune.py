import json
from types import SimpleNamespace

import pytest
import torch
from mmengine.logging import MessageHub

from mmaction_ft.demo.finetune import best_checkpoint, export_model, format_summary, val_history


def test_val_history_keeps_only_validation_records(tmp_path):
    (tmp_path / 'vis_data').mkdir()
    records = [
        {'lr': 0.01, 'loss': 1.2, 'step': 5},
        {'acc/top1': 0.5, 'step': 1},
        {'lr': 0.01, 'loss': 0.9, 'step': 10},
        {'acc/top1': 0.75, 'step': 2},
    ]
    (tmp_path / 'vis_data' / 'scalars.json').write_text(
        '\n'.join(json.dumps(r) for r in records) + '\n'
    )
    assert [r['acc/top1'] for r in val_history(str(tmp_path))] == [0.5, 0.75]


def test_export_model_keeps_meta_and_weights_only(tmp_path):
    weights = {'backbone.w': torch.arange(3.0)}
    torch.save(
        {
            'meta': {'epoch': 8},
            'state_dict': weights,
            'optimizer': {'state': {}},
            'message_hub': {},
        },
        tmp_path / 'epoch_8.pth',
    )
    out = export_model(str(tmp_path / 'epoch_8.pth'), str(tmp_path / 'zoo' / 'model.pth'))
    exported = torch.load(out, weights_only=True)
    assert set(exported) == {'meta', 'state_dict'}
    assert exported['meta'] == {'epoch': 8}
    assert torch.equal(exported['state_dict']['backbone.w'], weights['backbone.w'])


def test_best_checkpoint_is_the_runs_own_not_an_earlier_runs(tmp_path):
    # A rerun (another seed) in the same work dir leaves the first run's best file beside it.
    (tmp_path / 'best_acc_top1_epoch_8.pth').write_bytes(b'')
    (tmp_path / 'best_acc_top1_epoch_12.pth').write_bytes(b'')
    hub = MessageHub(f'demo-best-{tmp_path.name}')
    runner = SimpleNamespace(message_hub=hub, work_dir=str(tmp_path))
    with pytest.raises(FileNotFoundError, match='kept no best checkpoint'):
        best_checkpoint(runner)
    hub.update_info('best_ckpt', str(tmp_path / 'best_acc_top1_epoch_12.pth'))
    assert best_checkpoint(runner) == str(tmp_path / 'best_acc_top1_epoch_12.pth')


def test_summary_names_head_swap_val_curve_and_test_accuracy():
    result = dict(
        source_model='src.pth',
        best_checkpoint='w/best_acc_top1_epoch_2.pth',
        head_swap=['cls_head.fc_cls: checkpoint has 8 classes, model has 5 -> re-initialised'],
        val_top1=[0.4, 0.6],
        test={'acc/top1': 0.7, 'acc/top5': 1.0, 'acc/mean1': 0.65},
    )
    text = format_summary(result, num_classes=5)
    assert 'checkpoint has 8 classes, model has 5 -> re-initialised' in text
    assert 'val top-1 per epoch: 0.400, 0.600' in text
    assert 'top-1 0.700' in text and 'mean-class 0.650' in text and 'chance 0.200' in text
