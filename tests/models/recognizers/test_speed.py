"""Speed settings every recognizer shares: the weights' memory format, BatchNorm folding in eval
mode and inference mode for validation and testing. None of them may change what a model
computes beyond float rounding, nor the weights a seed initialises."""

import copy

import pytest
import torch

from mmaction_ft.models.recognizers.speed import (
    cpu_views_per_chunk,
    fold_batch_norms_in_eval,
    preferred_memory_format,
)
from mmaction_ft.registry import MODELS
from mmaction_ft.structures import ActionDataSample
from mmaction_ft.utils import register_all_modules

register_all_modules()

TSN_R18 = dict(
    type='Recognizer2D',
    backbone=dict(type='ResNet', depth=18, pretrained=None),
    cls_head=dict(type='TSNHead', num_classes=5, in_channels=512, average_clips='prob'),
    data_preprocessor=dict(
        type='ActionDataPreprocessor', mean=[128.0] * 3, std=[64.0] * 3, format_shape='NCHW'
    ),
)
I3D_R18 = dict(
    type='Recognizer3D',
    backbone=dict(
        type='ResNet3d', depth=18, pretrained=None, pretrained2d=False, inflate=(1, 1, 1, 1)
    ),
    cls_head=dict(type='I3DHead', num_classes=5, in_channels=512, average_clips='prob'),
    data_preprocessor=dict(
        type='ActionDataPreprocessor', mean=[128.0] * 3, std=[64.0] * 3, format_shape='NCTHW'
    ),
)


def _build(cfg, seed=0, **changes):
    cfg = copy.deepcopy(cfg)
    cfg.update(changes)
    torch.manual_seed(seed)
    model = MODELS.build(cfg)
    model.init_weights()
    return model


def _randomise_batch_norms(model, seed=1):
    """Running statistics and affine parameters away from identity, so folding them matters."""
    gen = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for module in model.modules():
            if isinstance(module, torch.nn.modules.batchnorm._BatchNorm):
                shape = module.running_mean.shape
                module.running_mean.copy_(torch.randn(shape, generator=gen) * 0.2)
                module.running_var.copy_(torch.rand(shape, generator=gen) + 0.5)
                module.weight.copy_(torch.rand(shape, generator=gen) + 0.5)
                module.bias.copy_(torch.randn(shape, generator=gen) * 0.1)


def _batch(views_shape, num_videos=2, seed=2):
    gen = torch.Generator().manual_seed(seed)
    return {
        'inputs': [
            torch.randint(0, 256, views_shape, dtype=torch.uint8, generator=gen)
            for _ in range(num_videos)
        ],
        'data_samples': [ActionDataSample().set_gt_label(i % 5) for i in range(num_videos)],
    }


def _conv_weights(model):
    return [m.weight for m in model.backbone.modules() if isinstance(m, torch.nn.Conv2d)]


def test_preferred_memory_format_by_backbone_kind():
    assert preferred_memory_format(MODELS.build(TSN_R18['backbone'])) is torch.channels_last
    assert preferred_memory_format(MODELS.build(I3D_R18['backbone'])) is torch.contiguous_format
    # A transformer's single patch-embedding conv is not a convnet.
    patch_embed = torch.nn.Sequential(torch.nn.Conv2d(3, 8, 4, 4), torch.nn.LayerNorm(8))
    assert preferred_memory_format(patch_embed) is torch.contiguous_format


def test_auto_puts_a_2d_convnet_in_channels_last_and_contiguous_keeps_it():
    fast = _build(TSN_R18)
    assert fast.memory_format is torch.channels_last
    assert all(w.is_contiguous(memory_format=torch.channels_last) for w in _conv_weights(fast))
    assert not all(w.is_contiguous() for w in _conv_weights(fast))
    plain = _build(TSN_R18, memory_format='contiguous')
    assert all(w.is_contiguous() for w in _conv_weights(plain))


def test_unknown_memory_format_names_the_key():
    with pytest.raises(ValueError, match=r"model.memory_format must be one of .*'channels_lats'"):
        _build(TSN_R18, memory_format='channels_lats')


def test_same_seed_same_initial_weights_in_either_layout():
    """A random initialiser fills memory in order; the channels-last model must still get the
    contiguous (MMAction2) model's values for a seed."""
    fast = _build(TSN_R18, seed=3)
    plain = _build(TSN_R18, seed=3, memory_format='contiguous')
    for (key, a), b in zip(fast.state_dict().items(), plain.state_dict().values()):
        assert torch.equal(a, b), key
    assert fast.backbone.conv1.conv.weight.is_contiguous(memory_format=torch.channels_last)


@pytest.mark.parametrize('cfg, views', [(TSN_R18, (3, 3, 32, 32)), (I3D_R18, (2, 3, 4, 32, 32))])
def test_fast_settings_give_the_plain_models_scores(cfg, views):
    """Channels-last and folded BatchNorms against MMAction2's way (contiguous, unfolded) on
    the same weights: test scores equal within 1e-4."""
    plain = _build(cfg, memory_format='contiguous', fold_bn=False)
    _randomise_batch_norms(plain)
    fast = _build(cfg)
    fast.load_state_dict(plain.state_dict())
    plain.eval()
    fast.eval()
    batch = _batch(views)
    expected = torch.stack([s.pred_score for s in plain.test_step(copy.deepcopy(batch))])
    got = torch.stack([s.pred_score for s in fast.test_step(copy.deepcopy(batch))])
    assert expected.shape == (2, 5)
    assert torch.allclose(got, expected, atol=1e-4, rtol=0)
    feats_plain, _ = plain.extract_feat(plain.data_preprocessor(batch)['inputs'], 'backbone')
    feats_fast, _ = fast.extract_feat(fast.data_preprocessor(batch)['inputs'], 'backbone')
    scale = feats_plain.abs().max()
    assert scale > 0
    assert (feats_fast - feats_plain).abs().max() / scale < 1e-4


def test_fold_batch_norms_counts_conv_bn_pairs_and_skips_shift_wrappers():
    resnet18 = MODELS.build(TSN_R18['backbone'])
    # conv1, 8 blocks x 2 convs, 3 downsample convs.
    assert fold_batch_norms_in_eval(resnet18) == 20
    tsm = MODELS.build(
        dict(type='ResNetTSM', depth=18, pretrained=None, num_segments=2, shift_place='blockres')
    )
    # The first conv of each block is wrapped by the temporal shift and keeps its BatchNorm.
    assert fold_batch_norms_in_eval(tsm) == 20 - 8
    tsm.eval()
    with torch.no_grad():
        assert tsm(torch.randn(4, 3, 32, 32)).shape == (4, 512, 1, 1)


def test_folding_skips_the_batch_norm_pass_in_eval_only():
    model = _build(TSN_R18)
    calls = []
    first_bn = model.backbone.conv1.bn
    first_bn.register_forward_hook(lambda *args: calls.append(first_bn.training))
    inputs = torch.randn(1, 2, 3, 32, 32)
    model.train()
    model.extract_feat(inputs)
    model.eval()
    with torch.no_grad():
        model.extract_feat(inputs)
    assert calls == [True]  # run in training, folded into the conv in eval


def test_frozen_batch_norms_train_the_same_folded():
    """With norm_eval the BatchNorms stay in eval mode while training, so folding applies
    there too: losses and every gradient must match the unfolded model's."""
    backbone = dict(TSN_R18['backbone'], norm_eval=True)
    plain = _build(TSN_R18, backbone=backbone, fold_bn=False)
    _randomise_batch_norms(plain)
    fast = _build(TSN_R18, backbone=backbone)
    fast.load_state_dict(plain.state_dict())
    batch = _batch((3, 3, 32, 32))
    grads = []
    for model in (plain, fast):
        model.train()
        model.cls_head.dropout = torch.nn.Identity()
        data = model.data_preprocessor(copy.deepcopy(batch), True)
        loss = model(**data, mode='loss')['loss_cls']
        loss.backward()
        grads.append({k: p.grad for k, p in model.named_parameters()})
    assert grads[0].keys() == grads[1].keys()
    for key in grads[0]:
        a, b = grads[0][key], grads[1][key]
        assert torch.allclose(a, b, atol=1e-5 * max(1.0, a.abs().max().item())), key
    assert grads[1]['backbone.conv1.bn.weight'].abs().sum() > 0


def test_val_and_test_steps_run_in_inference_mode():
    model = _build(TSN_R18).eval()
    for step in (model.val_step, model.test_step):
        (sample, _) = step(_batch((3, 3, 32, 32)))
        assert sample.pred_score.is_inference()
    model.train()
    losses = model(**model.data_preprocessor(_batch((3, 3, 32, 32)), True), mode='loss')
    assert losses['loss_cls'].requires_grad


def test_cpu_views_per_chunk_fits_eight_frames_of_224_pixels():
    assert cpu_views_per_chunk((3, 224, 224)) == 8
    assert cpu_views_per_chunk((3, 8, 224, 224)) == 1
    assert cpu_views_per_chunk((3, 32, 256, 256)) == 1  # never below one view
    assert cpu_views_per_chunk((3, 112, 112)) == 32
    assert cpu_views_per_chunk((3, 224, 224), num_segments=3) == 9  # whole clips


def test_cpu_test_runs_the_backbone_in_chunks_with_the_same_scores():
    model = _build(TSN_R18).eval()
    _randomise_batch_norms(model)
    calls = []
    model.backbone.register_forward_hook(lambda module, args, out: calls.append(len(args[0])))
    batch = _batch((20, 3, 112, 112), num_videos=2)  # 40 views, 32 fit a chunk
    chunked = torch.stack([s.pred_score for s in model.test_step(copy.deepcopy(batch))])
    assert calls == [32, 8]
    calls.clear()
    model.test_cfg['max_testing_views'] = 40
    whole = torch.stack([s.pred_score for s in model.test_step(copy.deepcopy(batch))])
    assert calls == [40]
    assert torch.allclose(chunked, whole, atol=1e-5, rtol=0)
    calls.clear()
    model.train()  # training always runs the whole batch
    model(**model.data_preprocessor(copy.deepcopy(batch), True), mode='loss')
    assert calls == [40]


def test_folded_weights_are_kept_until_a_source_tensor_changes():
    model = _build(TSN_R18).eval()
    conv = model.backbone.conv1.conv
    batch = _batch((3, 3, 32, 32))
    first = model.test_step(copy.deepcopy(batch))[0].pred_score
    folded = conv.__dict__['_folded'][1]
    model.test_step(copy.deepcopy(batch))
    assert conv.__dict__['_folded'][1] is folded  # folded once, reused
    with torch.no_grad():
        model.backbone.conv1.bn.running_var.mul_(4)  # as a training step would change it
    changed = model.test_step(copy.deepcopy(batch))[0].pred_score
    assert conv.__dict__['_folded'][1] is not folded
    assert not torch.allclose(first, changed)
    plain = _build(TSN_R18, fold_bn=False).eval()
    plain.load_state_dict(model.state_dict())
    assert torch.allclose(plain.test_step(copy.deepcopy(batch))[0].pred_score, changed, atol=1e-5)
    model.train()
    assert '_folded' not in conv.__dict__  # training drops them


def test_weights_made_in_inference_mode_are_folded_without_caching():
    with torch.inference_mode():
        model = _build(TSN_R18).eval()  # every weight is an inference tensor
        scores = model.test_step(_batch((3, 3, 32, 32)))[0].pred_score
    assert scores.shape == (5,) and torch.isfinite(scores).all()
    assert '_folded' not in model.backbone.conv1.conv.__dict__
