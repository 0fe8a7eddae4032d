"""init_recognizer / inference_recognizer / the timeline on a tiny random TSN (CPU, seconds)."""

import os
import pickle
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch

from mmaction_ft.apis import (
    checkpoint_config,
    detect_frame_template,
    inference_autocast,
    inference_recognizer,
    inference_settings,
    init_recognizer,
    plot_timeline,
    prepare_test_cfg,
    video_timeline,
    write_timeline,
)
from mmaction_ft.apis import (
    test_checkpoint as run_test_loop,
)
from mmaction_ft.apis.inference import build_inference_pipeline
from mmaction_ft.apis.timeline import sliding_windows
from mmaction_ft.config import load_config
from mmaction_ft.datasets.video_io import DecodeError, import_decord
from mmaction_ft.demo.data import make_demo_dataset
from mmaction_ft.engine import CheckpointMismatchError, UnsafeCheckpointError
from mmaction_ft.registry import MODELS
from mmaction_ft.utils import cpu

REPO = Path(__file__).resolve().parents[2]
CONFIG = str(REPO / 'configs/demo/tsn_r18_demo_pretrain.py')


@pytest.fixture(scope='module')
def demo(tmp_path_factory):
    root = tmp_path_factory.mktemp('inference')
    data = make_demo_dataset(
        str(root / 'data'),
        class_set='source',
        videos_per_class=2,
        val_per_class=1,
        num_frames=12,
        size=64,
        formats=('videos', 'rawframes'),
    )
    prefix = dict(video=data['videos_prefix'])
    options = {
        'test_dataloader.dataset.ann_file': data['val_list_videos'],
        'test_dataloader.dataset.data_prefix': prefix,
        'test_dataloader.dataset.label_map': data['label_map'],
        'test_dataloader.batch_size': 4,
        'test_dataloader.num_workers': 0,
        'test_dataloader.persistent_workers': False,
    }
    cfg, _ = load_config(CONFIG, options)
    cfg.test_dataloader.dataset.pipeline = cfg.val_pipeline  # single view, 3 segments
    torch.manual_seed(0)
    model = MODELS.build(cfg.model)
    with torch.no_grad():  # a head that is not near-uniform, so scores tell videos apart
        model.cls_head.fc_cls.weight.mul_(100)
    # What mmengine's Runner writes into every checkpoint it saves.
    meta = dict(cfg=cfg.pretty_text, dataset_meta=dict(classes=tuple(data['classes'])))
    checkpoint = root / 'tiny.pth'
    torch.save(dict(meta=meta, state_dict=model.state_dict()), checkpoint)
    bare = root / 'bare.pth'
    torch.save(dict(state_dict=model.state_dict()), bare)
    config = root / 'tiny.py'
    cfg.dump(str(config))
    videos = [
        os.path.join(data['videos_prefix'], line.split()[0])
        for line in open(data['val_list_videos'])
    ]
    frames = [
        os.path.join(data['rawframes_prefix'], line.split()[0])
        for line in open(data['val_list_rawframes'])
    ]
    return dict(
        data, root=root, cfg=cfg, checkpoint=str(checkpoint), bare=str(bare), config=str(config),
        videos=videos, frame_dirs=frames,
    )  # fmt: skip


@pytest.fixture(scope='module')
def model(demo):
    return init_recognizer(demo['checkpoint'])


def _decode_all(path: str) -> np.ndarray:
    reader = import_decord().VideoReader(path)
    return reader.get_batch(list(range(len(reader)))).asnumpy()  # [T, H, W, 3]


def _write_lossless(path: str, frames: np.ndarray, fps: float = 12) -> str:
    """FFV1 in avi: decoded back bit for bit, so window scores can be compared exactly."""
    writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*'FFV1'), fps, frames.shape[2:0:-1])
    for frame in frames:
        writer.write(cv2.cvtColor(frame, cv2.COLOR_RGB2BGR))
    writer.release()
    return path


# ----------------------------------------------------------------------------- checkpoint meta


def test_checkpoint_alone_gives_config_classes_and_weights(demo, model):
    assert model.dataset_meta == {'classes': demo['classes']}
    assert model.cfg.model.cls_head.num_classes == 8
    assert not model.training
    saved = torch.load(demo['checkpoint'], weights_only=True)['state_dict']
    assert torch.equal(
        model.state_dict()['cls_head.fc_cls.weight'], saved['cls_head.fc_cls.weight']
    )


def test_config_text_gives_back_test_pipeline_and_normalisation(demo):
    cfg = checkpoint_config(torch.load(demo['checkpoint'], weights_only=True))
    settings = inference_settings(cfg)
    assert [step['type'] for step in settings['test_pipeline']] == [
        step['type'] for step in demo['cfg'].val_pipeline
    ]
    preprocessor = settings['data_preprocessor']
    assert preprocessor['mean'] == [123.675, 116.28, 103.53]
    assert preprocessor['std'] == [58.395, 57.12, 57.375]
    assert settings['num_classes'] == 8


def test_old_checkpoint_without_meta_loads_with_config(demo):
    model = init_recognizer(demo['config'], demo['bare'])
    # No class names in the file: the config's test dataset label_map provides them.
    assert model.dataset_meta['classes'] == demo['classes']


def test_checkpoint_without_meta_and_config_says_what_to_pass(demo):
    with pytest.raises(ValueError, match='class names nor a config.*--config'):
        init_recognizer(demo['bare'])


def test_config_class_names_from_metainfo_or_class_ind(tmp_path):
    from mmengine.config import Config

    from mmaction_ft.apis.checkpoint_meta import classes_from_config

    cfg = Config(dict(train_dataloader=dict(dataset=dict(metainfo=dict(classes=('a', 'b'))))))
    assert classes_from_config(cfg) == ['a', 'b']
    class_ind = tmp_path / 'classInd.txt'
    class_ind.write_text('1 ApplyEyeMakeup\n2 ApplyLipstick\n')
    wrapped = dict(type='RepeatDataset', times=2, dataset=dict(label_map=str(class_ind)))
    cfg = Config(dict(train_dataloader=dict(dataset=wrapped)))
    assert classes_from_config(cfg) == ['ApplyEyeMakeup', 'ApplyLipstick']


def test_loading_is_strict(demo):
    with pytest.raises(CheckpointMismatchError, match='num_classes=8'):
        init_recognizer(demo['config'], demo['bare'], cfg_options={'model.cls_head.num_classes': 5})


# ----------------------------------------------------------------------------- inference


def test_video_scores_equal_the_test_loop(demo, model, tmp_path):
    cfg = demo['cfg'].copy()
    dump = str(tmp_path / 'preds.pkl')
    prepare_test_cfg(cfg, demo['config'], work_dir=str(tmp_path), dump=dump)
    run_test_loop(cfg, demo['checkpoint'])
    with open(dump, 'rb') as f:
        dumped = pickle.load(f)
    assert len(dumped) == len(demo['videos'])
    for video, sample in zip(demo['videos'], dumped):
        result = inference_recognizer(model, video)
        assert result.pred_score.shape == (8,)
        torch.testing.assert_close(result.pred_score, sample['pred_score'], atol=1e-5, rtol=0)


def test_array_input_equals_video_file(demo, model):
    video = demo['videos'][0]
    from_file = inference_recognizer(model, video).pred_score
    from_array = inference_recognizer(model, _decode_all(video)).pred_score
    torch.testing.assert_close(from_array, from_file)


@pytest.mark.parametrize(
    'name, template', [('image_{:05}.jpg', 'image_{:05}.jpg'), ('{:03}.jpg', '{:03}.jpg'),
                       ('f{}.jpg', 'f{}.jpg')]
)  # fmt: skip
def test_frame_folder_template_is_detected(demo, model, tmp_path, name, template):
    source = demo['frame_dirs'][0]
    assert detect_frame_template(source) == dict(
        filename_tmpl='img_{:05}.jpg', start_index=1, total_frames=12
    )
    renamed = tmp_path / 'frames'
    renamed.mkdir()
    for i in range(1, 13):  # renumbered from 0 as well
        shutil.copy(os.path.join(source, f'img_{i:05}.jpg'), renamed / name.format(i - 1))
    (renamed / 'notes.txt').write_text('not a frame')
    assert detect_frame_template(str(renamed)) == dict(
        filename_tmpl=template, start_index=0, total_frames=12
    )
    torch.testing.assert_close(
        inference_recognizer(model, str(renamed)).pred_score,
        inference_recognizer(model, source).pred_score,
    )


def test_frame_folder_with_a_missing_frame_names_it(demo, tmp_path):
    folder = tmp_path / 'gap'
    shutil.copytree(demo['frame_dirs'][0], folder)
    (folder / 'img_00005.jpg').unlink()
    with pytest.raises(ValueError, match=r'frames \[5\] are missing'):
        detect_frame_template(str(folder))


def test_video_pipeline_for_frame_folder_configs():
    rawframe_pipeline = [
        dict(type='SampleFrames', clip_len=1, num_clips=3, test_mode=True),
        dict(type='RawFrameDecode'),
        dict(type='CenterCrop', crop_size=56),
    ]
    steps = build_inference_pipeline(rawframe_pipeline, 'video')
    assert [s['type'] for s in steps] == [
        'DecordInit',
        'SampleFrames',
        'DecordDecode',
        'CenterCrop',
    ]
    steps = build_inference_pipeline([dict(type='PyAVInit')] + rawframe_pipeline, 'array')
    assert [s['type'] for s in steps] == ['SampleFrames', 'ArrayDecode', 'CenterCrop']


def test_short_video_is_padded_and_said_so(model, demo):
    frames = _decode_all(demo['videos'][0])[:2]  # 2 frames, 3 segments sampled
    result = inference_recognizer(model, frames)
    assert 'shorter than one clip' in result.metainfo['short_video']
    assert result.pred_score.shape == (8,)
    full = inference_recognizer(model, _decode_all(demo['videos'][0]))
    assert 'short_video' not in full.metainfo


def test_missing_and_undecodable_videos_name_the_path(model, tmp_path):
    with pytest.raises(FileNotFoundError, match='nothere.mp4'):
        inference_recognizer(model, str(tmp_path / 'nothere.mp4'))
    broken = tmp_path / 'broken.mp4'
    broken.write_bytes(b'not a video' * 100)
    with pytest.raises(DecodeError, match='broken.mp4'):
        inference_recognizer(model, str(broken))


# ----------------------------------------------------------------------------- timeline


def test_sliding_windows_cover_the_video():
    assert sliding_windows(48, 12, 1, 1) == [(0, 12), (12, 24), (24, 36), (36, 48)]
    assert sliding_windows(50, 12, 1, 1)[-1] == (38, 50)  # tail window
    assert sliding_windows(5, 12, 1, 0.5) == [(0, 5)]
    with pytest.raises(ValueError, match='> 0'):
        sliding_windows(10, 12, 0, 1)


def test_timeline_windows_score_like_their_frames(model, demo, tmp_path):
    a, b = (_decode_all(v) for v in demo['videos'][:2])
    long_video = _write_lossless(str(tmp_path / 'long.avi'), np.concatenate([a, a, b]))
    rows = video_timeline(model, long_video, window=1.0, stride=1.0)
    assert [(r['start'], r['end']) for r in rows] == [(0, 1), (1, 2), (2, 3)]
    expected = [inference_recognizer(model, clip) for clip in (a, a, b)]
    for row, result in zip(rows, expected):
        assert row['label'] == int(result.pred_score.argmax())
        assert row['top_class'] == demo['classes'][row['label']]
        assert row['score'] == pytest.approx(float(result.pred_score.max()), abs=1e-5)
    write_timeline(rows, str(tmp_path / 'timeline.csv'))
    header = (tmp_path / 'timeline.csv').read_text().splitlines()[0]
    assert header == 'start,end,top_class,score'
    png = plot_timeline(rows, str(tmp_path / 'timeline.png'))
    assert cv2.imread(png) is not None


@pytest.mark.parametrize(
    'text, why',
    [
        ("model = dict(type=__import__('os').system('touch pwned'))", 'a call other than dict'),
        ('import os\nmodel = dict()', 'a Import statement'),
        ("_base_ = ['other.py']", '_base_ reads other files'),
        ("custom_imports = dict(imports=['os'])", 'custom_imports reads other files or modules'),
    ],
)
def test_a_stored_config_that_is_code_is_refused_not_run(tmp_path, monkeypatch, text, why):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(UnsafeCheckpointError, match=why) as error:
        checkpoint_config({'meta': {'cfg': text}})
    assert '--config' in str(error.value)
    assert not (tmp_path / 'pwned').exists()


def test_every_shipped_config_dumped_by_training_reads_back():
    configs = Path(__file__).resolve().parents[2] / 'configs'
    for path in sorted(p for p in configs.rglob('*.py') if '_base_' not in p.parts):
        cfg, _ = load_config(str(path))
        assert checkpoint_config({'meta': {'cfg': cfg.pretty_text}}).model == cfg.model, path


def test_timeline_needs_a_frame_rate(model, monkeypatch):
    from mmaction_ft.datasets import video_io

    class NoRate:
        fps = 0.0

        def __len__(self):
            return 24

    monkeypatch.setattr(video_io, 'open_video', lambda path, backend: NoRate())
    with pytest.raises(ValueError, match='reports a frame rate of 0.0.*fps=N'):
        video_timeline(model, 'clip.mp4', window=1, stride=1)


@pytest.mark.skipif(torch.cuda.is_available(), reason='checks the CPU choice')
def test_inference_autocast_runs_bf16_only_where_the_cpu_computes_it(demo, model, monkeypatch):
    """``tools/predict.py --amp``: bfloat16 on a CPU with AVX-512 BF16 / AMX, float32 elsewhere;
    the stored scores are float32 either way and name the same class."""
    seen = []
    hook = model.backbone.register_forward_hook(lambda m, i, out: seen.append(out.dtype))
    video = demo['videos'][0]
    try:
        plain = inference_recognizer(model, video)
        monkeypatch.setattr(cpu, 'has_native_bf16', lambda: True)
        context, what = inference_autocast('cpu')
        assert what.startswith('bfloat16 autocast, because the CPU computes bfloat16 natively')
        with context:
            mixed = inference_recognizer(model, video)
        monkeypatch.setattr(cpu, 'has_native_bf16', lambda: False)
        context, what = inference_autocast('cpu')
        assert what.startswith('float32, because this CPU has no bfloat16 instructions')
        with context:
            inference_recognizer(model, video)
    finally:
        hook.remove()
    assert seen == [torch.float32, torch.bfloat16, torch.float32]
    assert mixed.pred_score.dtype == torch.float32
    assert mixed.pred_label == plain.pred_label
    torch.testing.assert_close(mixed.pred_score, plain.pred_score, atol=0.05, rtol=0)
