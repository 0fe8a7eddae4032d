"""Each row of the 0.x -> mmengine table (COMPAT.md section 6): translated value == expected."""

import pytest

from mmaction_ft.config import ConfigError, translate_legacy
from mmaction_ft.config.dialect import LEGACY_KEYS

IMG_NORM = dict(mean=[123.675, 116.28, 103.53], std=[58.395, 57.12, 57.375], to_bgr=False)


def legacy_pipeline(**norm):
    return [
        dict(type='SampleFrames', clip_len=1, frame_interval=1, num_clips=3),
        dict(type='RawFrameDecode'),
        dict(type='Normalize', **(norm or IMG_NORM)),
        dict(type='FormatShape', input_format='NCHW'),
        dict(type='Collect', keys=['imgs', 'label'], meta_keys=[]),
        dict(type='ToTensor', keys=['imgs', 'label']),
    ]


def dataset(ann='a.txt', **kw):
    return dict(type='RawframeDataset', ann_file=ann, data_prefix='root', **kw)


def translate(cfg):
    out, report = translate_legacy(cfg)
    assert not set(out) & LEGACY_KEYS, 'every 0.x key must be consumed'
    return out, report


def test_optimizer_becomes_optim_wrapper_with_paramwise_cfg():
    out, report = translate(
        dict(
            optimizer=dict(
                type='SGD',
                lr=0.01,
                momentum=0.9,
                weight_decay=1e-4,
                paramwise_cfg=dict(fc_lr5=True),
            )
        )
    )
    assert out['optim_wrapper'] == dict(
        type='OptimWrapper',
        optimizer=dict(type='SGD', lr=0.01, momentum=0.9, weight_decay=1e-4),
        paramwise_cfg=dict(fc_lr5=True),
    )
    assert 'optimizer -> optim_wrapper.optimizer' in report.lines


def test_optimizer_constructor_moves_to_the_wrapper_with_its_1x_name():
    out, _ = translate(
        dict(optimizer=dict(type='SGD', lr=0.1, constructor='TSMOptimizerConstructor'))
    )
    assert out['optim_wrapper']['constructor'] == 'TSMOptimWrapperConstructor'
    assert 'constructor' not in out['optim_wrapper']['optimizer']


@pytest.mark.parametrize(
    'grad_clip', [dict(max_norm=40, norm_type=2), None], ids=['clip', 'no-clip']
)
def test_optimizer_config_grad_clip_becomes_clip_grad(grad_clip):
    out, _ = translate(
        dict(optimizer=dict(type='SGD', lr=0.1), optimizer_config=dict(grad_clip=grad_clip))
    )
    assert out['optim_wrapper']['clip_grad'] == grad_clip


def test_grad_clip_none_overrides_clipping_inherited_in_1x_style():
    cfg = dict(
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1), clip_grad=dict(max_norm=40)),
        optimizer_config=dict(grad_clip=None),
    )
    out, _ = translate(cfg)
    assert out['optim_wrapper']['clip_grad'] is None


def test_fp16_becomes_amp_optim_wrapper_keeping_the_optimizer():
    out, _ = translate(dict(optimizer=dict(type='SGD', lr=0.1), fp16=dict(loss_scale=512.0)))
    assert out['optim_wrapper']['type'] == 'AmpOptimWrapper'
    assert out['optim_wrapper']['loss_scale'] == 512.0
    assert out['optim_wrapper']['optimizer'] == dict(type='SGD', lr=0.1)


def test_fp16_dynamic_loss_scale_dict_maps_to_grad_scaler_names():
    out, _ = translate(
        dict(fp16=dict(loss_scale=dict(init_scale=256.0, mode='dynamic', scale_window=100)))
    )
    assert out['optim_wrapper']['loss_scale'] == dict(init_scale=256.0, growth_interval=100)


def test_gradient_cumulative_hook_becomes_accumulative_counts():
    out, _ = translate(
        dict(optimizer_config=dict(type='GradientCumulativeOptimizerHook', cumulative_iters=4))
    )
    assert out['optim_wrapper']['accumulative_counts'] == 4


@pytest.mark.parametrize(
    'lr_config, expected',
    [
        (
            dict(policy='step', step=[20, 40], gamma=0.1),
            [dict(type='MultiStepLR', milestones=[20, 40], gamma=0.1, by_epoch=True)],
        ),
        (
            dict(policy='step', step=30),
            [dict(type='StepLR', step_size=30, gamma=0.1, by_epoch=True)],
        ),
        (dict(policy='step', step=[]), []),
        (dict(policy='fixed'), []),
        (
            dict(policy='CosineAnnealing', min_lr=0),
            [dict(type='CosineAnnealingLR', T_max=50, eta_min=0, begin=0, end=50, by_epoch=True)],
        ),
        (
            dict(policy='CosineAnnealing', min_lr_ratio=0.01, by_epoch=False),
            [
                dict(
                    type='CosineAnnealingLR',
                    T_max=50,
                    eta_min_ratio=0.01,
                    begin=0,
                    end=50,
                    by_epoch=True,
                    convert_to_iter_based=True,
                ),
            ],
        ),
        (dict(policy='exp', gamma=0.9), [dict(type='ExponentialLR', gamma=0.9, by_epoch=True)]),
        (
            dict(policy='poly', power=0.9, min_lr=1e-4),
            [dict(type='PolyLR', power=0.9, eta_min=1e-4, begin=0, end=51, by_epoch=True)],
        ),
    ],
    ids=['step-list', 'step-int', 'step-empty', 'fixed', 'cosine', 'cosine-by-iter', 'exp', 'poly'],
)
def test_lr_config_policies(lr_config, expected):
    out, _ = translate(dict(total_epochs=50, lr_config=lr_config))
    assert out['param_scheduler'] == expected


@pytest.mark.parametrize(
    'warmup, by_epoch, expected',
    [
        (
            'linear',
            False,
            dict(
                type='LinearLR', start_factor=0.1, end_factor=1.0, begin=0, end=501, by_epoch=False
            ),
        ),
        ('constant', False, dict(type='ConstantLR', factor=0.1, begin=0, end=501, by_epoch=False)),
        (
            'exp',
            False,
            dict(type='LegacyWarmupLR', mode='exp', ratio=0.1, begin=0, end=500, by_epoch=False),
        ),
        (
            'linear',
            True,
            dict(
                type='LegacyWarmupLR',
                mode='linear',
                ratio=0.1,
                begin=0,
                end=500,
                by_epoch=True,
                convert_to_iter_based=True,
            ),
        ),
    ],
)
def test_lr_config_warmup_comes_first(warmup, by_epoch, expected):
    lr_config = dict(
        policy='step',
        step=[20],
        warmup=warmup,
        warmup_iters=500,
        warmup_ratio=0.1,
        warmup_by_epoch=by_epoch,
    )
    out, _ = translate(dict(total_epochs=50, lr_config=lr_config))
    assert out['param_scheduler'][0] == expected
    assert out['param_scheduler'][1]['type'] == 'MultiStepLR'
    uses_custom = expected['type'] == 'LegacyWarmupLR'
    imports = out.get('custom_imports', {}).get('imports', [])
    assert ('mmaction_ft.config.legacy_warmup' in imports) == uses_custom


def test_lr_config_errors_name_the_key():
    with pytest.raises(ConfigError, match=r"lr_config.policy='cyclic'"):
        translate(dict(total_epochs=5, lr_config=dict(policy='cyclic')))
    with pytest.raises(
        ConfigError, match=r"unknown key 'lr_config.stpe'.*did you mean 'lr_config.step'"
    ):
        translate(dict(total_epochs=5, lr_config=dict(policy='step', stpe=[2])))
    with pytest.raises(ConfigError, match='needs the training length'):
        translate(dict(lr_config=dict(policy='CosineAnnealing', min_lr=0)))


def test_step_min_lr_is_dropped_only_when_never_reached():
    cfg = dict(optimizer=dict(type='SGD', lr=0.1), total_epochs=50)
    out, report = translate(dict(cfg, lr_config=dict(policy='step', step=[20], min_lr=1e-3)))
    assert out['param_scheduler'][0]['type'] == 'MultiStepLR'
    assert any('never reached' in line for line in report.lines)
    with pytest.raises(ConfigError, match='min_lr'):
        translate(dict(cfg, lr_config=dict(policy='step', step=[20, 40], min_lr=1e-2)))


@pytest.mark.parametrize(
    'legacy, loop',
    [
        (dict(total_epochs=50), dict(type='EpochBasedTrainLoop', max_epochs=50)),
        (
            dict(runner=dict(type='EpochBasedRunner', max_epochs=7)),
            dict(type='EpochBasedTrainLoop', max_epochs=7),
        ),
        (
            dict(runner=dict(type='IterBasedRunner', max_iters=900)),
            dict(type='IterBasedTrainLoop', max_iters=900),
        ),
    ],
    ids=['total_epochs', 'epoch-runner', 'iter-runner'],
)
def test_training_length_becomes_train_loop(legacy, loop):
    out, _ = translate(legacy)
    assert out['train_cfg'] == loop


def test_total_epochs_keeps_the_inherited_loop_settings():
    cfg = dict(
        train_cfg=dict(type='EpochBasedTrainLoop', max_epochs=100, val_begin=3), total_epochs=50
    )
    out, _ = translate(cfg)
    assert out['train_cfg'] == dict(type='EpochBasedTrainLoop', max_epochs=50, val_begin=3)


def test_checkpoint_config_becomes_checkpoint_hook():
    out, _ = translate(dict(checkpoint_config=dict(interval=5, max_keep_ckpts=3)))
    assert out['default_hooks']['checkpoint'] == dict(
        type='CheckpointHook', interval=5, max_keep_ckpts=3
    )


def test_checkpoint_config_updates_the_inherited_hook():
    cfg = dict(
        default_hooks=dict(checkpoint=dict(type='CheckpointHook', interval=1, save_best='auto')),
        checkpoint_config=dict(interval=5),
    )
    out, report = translate(cfg)
    assert out['default_hooks']['checkpoint'] == dict(
        type='CheckpointHook', interval=5, save_best='auto'
    )
    assert 'checkpoint_config -> default_hooks.checkpoint  (overrides interval=1)' in report.lines


def test_log_config_sets_logger_interval_and_tensorboard_backend():
    log_config = dict(
        interval=20, hooks=[dict(type='TextLoggerHook'), dict(type='TensorboardLoggerHook')]
    )
    out, _ = translate(dict(log_config=log_config))
    assert out['default_hooks']['logger'] == dict(type='LoggerHook', interval=20)
    assert out['visualizer'] == dict(
        type='Visualizer',
        vis_backends=[dict(type='LocalVisBackend'), dict(type='TensorboardVisBackend')],
    )


def test_log_config_unknown_hook_fails():
    with pytest.raises(ConfigError, match='PaviLoggerHook'):
        translate(dict(log_config=dict(interval=5, hooks=[dict(type='PaviLoggerHook')])))


def loaders(**data):
    return dict(
        data=dict(
            videos_per_gpu=8,
            workers_per_gpu=2,
            train=dataset('train.txt', pipeline=legacy_pipeline()),
            val=dataset('val.txt', pipeline=legacy_pipeline()),
            **data,
        )
    )


def test_evaluation_becomes_val_interval_evaluators_and_save_best():
    evaluation = dict(
        interval=5, metrics=['top_k_accuracy', 'mean_class_accuracy'], save_best='auto'
    )
    out, _ = translate(dict(total_epochs=50, evaluation=evaluation, **loaders()))
    assert out['train_cfg']['val_interval'] == 5
    assert out['val_evaluator'] == dict(
        type='AccMetric', metric_list=('top_k_accuracy', 'mean_class_accuracy')
    )
    assert out['default_hooks']['checkpoint'] == dict(
        type='CheckpointHook', save_best='acc/top1', rule='greater'
    )
    assert 'test_evaluator' not in out  # no test split


@pytest.mark.parametrize(
    'save_best, metrics, expected',
    [
        ('auto', ['mean_class_accuracy', 'top_k_accuracy'], 'acc/mean1'),
        ('top1_acc', ['top_k_accuracy'], 'acc/top1'),
        ('top5_acc', ['top_k_accuracy'], 'acc/top5'),
        ('mean_class_accuracy', ['top_k_accuracy', 'mean_class_accuracy'], 'acc/mean1'),
        ('auto', ['mean_average_precision'], 'acc/mean_average_precision'),
    ],
)
def test_save_best_names_the_acc_metric_key(save_best, metrics, expected):
    evaluation = dict(interval=1, metrics=metrics, save_best=save_best)
    out, _ = translate(dict(total_epochs=5, evaluation=evaluation, **loaders()))
    assert out['default_hooks']['checkpoint']['save_best'] == expected


def test_evaluation_metric_options_reach_the_metric():
    options = dict(top_k_accuracy=dict(topk=(1, 3)))
    evaluation = dict(metrics='top_k_accuracy', metric_options=options, save_best='auto')
    out, _ = translate(dict(total_epochs=5, evaluation=evaluation, **loaders()))
    assert out['val_evaluator']['metric_options'] == options
    assert out['default_hooks']['checkpoint']['save_best'] == 'acc/top1'


def test_data_becomes_dataloaders():
    out, _ = translate(loaders(test=dataset('test.txt'), test_dataloader=dict(videos_per_gpu=1)))
    train, val, test = out['train_dataloader'], out['val_dataloader'], out['test_dataloader']
    assert train == dict(
        batch_size=8,
        num_workers=2,
        persistent_workers=True,
        sampler=dict(type='DefaultSampler', shuffle=True),
        dataset=dataset('train.txt', pipeline=train['dataset']['pipeline']),
    )
    assert (val['batch_size'], val['sampler']['shuffle']) == (8, False)
    assert (test['batch_size'], test['sampler']['shuffle']) == (1, False)
    assert test['dataset']['ann_file'] == 'test.txt'
    assert out['val_cfg'] == dict(type='ValLoop') and out['test_cfg'] == dict(type='TestLoop')
    assert out['val_evaluator'] == out['test_evaluator'] == dict(type='AccMetric')


def test_data_defaults_and_no_workers():
    out, _ = translate(dict(data=dict(workers_per_gpu=0, train=dataset())))
    train = out['train_dataloader']
    assert (train['batch_size'], train['num_workers'], train['persistent_workers']) == (1, 0, False)


def test_data_without_val_has_no_val_loop_even_if_a_base_set_one():
    cfg = dict(
        val_cfg=dict(type='ValLoop'),
        val_evaluator=dict(type='AccMetric'),
        data=dict(videos_per_gpu=2, train=dataset()),
    )
    out, _ = translate(cfg)
    assert {'val_dataloader', 'val_cfg', 'val_evaluator'}.isdisjoint(out)


def test_data_list_of_train_datasets_becomes_concat_dataset():
    out, _ = translate(dict(data=dict(train=[dataset('a.txt'), dataset('b.txt')])))
    concat = out['train_dataloader']['dataset']
    assert concat['type'] == 'ConcatDataset'
    assert [d['ann_file'] for d in concat['datasets']] == ['a.txt', 'b.txt']


def test_data_unknown_key_fails_with_suggestion():
    with pytest.raises(
        ConfigError, match=r"'data.videos_per_gpus'.*did you mean 'data.videos_per_gpu'"
    ):
        translate(dict(data=dict(videos_per_gpus=2, train=dataset())))


def test_workflow_is_dropped_and_reported():
    out, report = translate(dict(workflow=[('train', 1)]))
    assert 'workflow' not in out
    assert report.lines[0].startswith('workflow -> (dropped)')


def test_resume_from_becomes_load_from_and_resume():
    out, _ = translate(dict(resume_from='work_dirs/x/epoch_3.pth', load_from=None))
    assert out['load_from'] == 'work_dirs/x/epoch_3.pth'
    assert out['resume'] is True


def test_environment_keys_become_env_cfg():
    out, _ = translate(
        dict(
            dist_params=dict(backend='nccl'),
            cudnn_benchmark=True,
            opencv_num_threads=0,
            mp_start_method='fork',
        )
    )
    assert out['env_cfg'] == dict(
        dist_cfg=dict(backend='nccl'),
        cudnn_benchmark=True,
        mp_cfg=dict(opencv_num_threads=0, mp_start_method='fork'),
    )


def head_model(**kw):
    return dict(type='Recognizer2D', cls_head=dict(type='TSNHead', num_classes=4), **kw)


def test_model_test_cfg_average_clips_moves_to_the_head():
    out, _ = translate(dict(model=head_model(train_cfg=None, test_cfg=dict(average_clips='score'))))
    assert out['model']['cls_head']['average_clips'] == 'score'
    assert out['model']['test_cfg'] is None
    assert out['model']['train_cfg'] is None


def test_model_test_cfg_keeps_its_other_keys():
    model = head_model(test_cfg=dict(average_clips=None, max_testing_views=4))
    out, _ = translate(dict(model=model))
    assert out['model']['cls_head']['average_clips'] is None
    assert out['model']['test_cfg'] == dict(max_testing_views=4)


def test_top_level_0x_train_and_test_cfg_move_into_the_model():
    cfg = dict(model=head_model(), train_cfg=None, test_cfg=dict(average_clips='prob'))
    out, report = translate(cfg)
    assert 'train_cfg' not in out and 'test_cfg' not in out
    assert out['model']['cls_head']['average_clips'] == 'prob'
    assert 'test_cfg -> model.test_cfg  (the 0.x recognizer setting, not a loop)' in report.lines


def test_top_level_1x_loops_are_left_alone():
    cfg = dict(
        model=head_model(),
        train_cfg=dict(type='EpochBasedTrainLoop', max_epochs=3),
        val_cfg=dict(),
        test_cfg=dict(type='TestLoop'),
    )
    out, report = translate(cfg)
    assert out == cfg
    assert len(report) == 0


def test_model_train_cfg_blending_moves_to_the_preprocessor():
    blending = dict(type='MixupBlending', num_classes=4, alpha=0.2)
    out, _ = translate(dict(model=head_model(train_cfg=dict(blending=blending))))
    assert out['model']['data_preprocessor']['blending'] == blending
    assert out['model']['train_cfg'] is None


def test_pipelines_lose_normalize_and_pack_once():
    out, report = translate(dict(model=head_model(), **loaders()))
    for split in ('train', 'val'):
        types = [step['type'] for step in out[f'{split}_dataloader']['dataset']['pipeline']]
        assert types == ['SampleFrames', 'RawFrameDecode', 'FormatShape', 'PackActionInputs']
    assert out['model']['data_preprocessor'] == dict(
        type='ActionDataPreprocessor',
        mean=IMG_NORM['mean'],
        std=IMG_NORM['std'],
        to_rgb=False,
        format_shape='NCHW',
    )
    assert any(line.startswith('Normalize -> model.data_preprocessor') for line in report.lines)


def test_pipeline_to_bgr_flips_channels_in_the_preprocessor():
    norm = dict(IMG_NORM, to_bgr=True)
    cfg = dict(
        model=head_model(),
        data=dict(
            train=dataset(pipeline=legacy_pipeline(**norm)),
            val=dataset(pipeline=legacy_pipeline(**norm)),
        ),
    )
    out, _ = translate(cfg)
    assert out['model']['data_preprocessor']['to_rgb'] is True


def test_pipelines_that_disagree_on_normalize_fail():
    other = dict(mean=[0, 0, 0], std=[1, 1, 1])
    cfg = dict(
        model=head_model(),
        data=dict(
            train=dataset(pipeline=legacy_pipeline()),
            val=dataset(pipeline=legacy_pipeline(**other)),
        ),
    )
    with pytest.raises(ConfigError, match='pipelines disagree on Normalize'):
        translate(cfg)


def test_collect_meta_keys_and_extra_keys_are_packed():
    pipeline = [
        dict(type='Collect', keys=['imgs', 'label', 'proposals'], meta_keys=['frame_dir']),
        dict(type='ToTensor', keys=['imgs']),
    ]
    out, _ = translate(dict(data=dict(train=dataset(pipeline=pipeline))))
    assert out['train_dataloader']['dataset']['pipeline'] == [
        dict(type='PackActionInputs', algorithm_keys=('proposals',), meta_keys=('frame_dir',))
    ]


def test_find_unused_parameters_and_gpu_ids():
    out, report = translate(dict(find_unused_parameters=True, gpu_ids=range(1)))
    assert out['model_wrapper_cfg'] == dict(
        type='MMDistributedDataParallel', find_unused_parameters=True
    )
    assert 'gpu_ids' not in out


def test_unsupported_0x_key_fails_with_advice():
    with pytest.raises(ConfigError, match="'precise_bn' .*no mmaction_ft equivalent"):
        translate(dict(precise_bn=dict(num_iters=200, interval=1)))


def test_pure_1x_config_is_unchanged():
    cfg = dict(
        default_scope='mmaction_ft',
        model=head_model(),
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        train_cfg=dict(type='EpochBasedTrainLoop', max_epochs=2),
    )
    out, report = translate_legacy(cfg)
    assert out == cfg
    assert len(report) == 0
    assert 'nothing translated' in report.summary()


def test_legacy_config_gets_the_default_scope():
    out, report = translate(dict(total_epochs=3))
    assert out['default_scope'] == 'mmaction_ft'
    assert "(none) -> default_scope='mmaction_ft'" in report.lines[-1]
