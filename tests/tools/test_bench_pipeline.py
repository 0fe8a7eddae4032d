import importlib.util

import cv2
import pytest
from conftest import REPO, run_tool
from mmengine.config import Config

from mmaction_ft.utils.benchmarking import clips_per_video, draw, runner_process_settings

SCRIPT = REPO / 'tools' / 'analysis' / 'bench_pipeline.py'


def _load_tool():
    spec = importlib.util.spec_from_file_location('bench_pipeline', SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_clips_per_video_reads_the_sampler():
    pipeline = [dict(type='DecordInit'), dict(type='SampleFrames', clip_len=1, num_clips=3)]
    assert clips_per_video(pipeline) == 3
    assert clips_per_video([dict(type='DecordInit')]) == 1


def test_draw_counts_videos_across_epochs():
    loader = [{'inputs': [0, 1, 2]}, {'inputs': [3, 4]}]  # 2 batches per epoch
    counts = draw(loader, num_batches=3)  # runs into a second epoch
    assert (counts['batches'], counts['videos']) == (3, 3 + 2 + 3)


def test_opencv_threads_are_set_as_the_runner_sets_them():
    before = cv2.getNumThreads()
    try:
        cv2.setNumThreads(2)
        runner_process_settings(Config(dict(env_cfg=dict(mp_cfg=dict(opencv_num_threads=0)))))
        assert cv2.getNumThreads() == 1  # 0: OpenCV runs on the calling thread
        runner_process_settings(Config(dict(env_cfg=dict(mp_cfg=dict(opencv_num_threads=2)))))
        assert cv2.getNumThreads() == 2
    finally:
        cv2.setNumThreads(before)


def test_bench_on_tiny_demo(tiny_demo, capsys):
    tool = _load_tool()
    config = str(tiny_demo['config'])
    result = tool.main([config, '--split', 'val', '--workers', '0', '--num-batches', '3'])
    out = capsys.readouterr().out
    assert 'val_dataloader' in out and '0 workers, 3 clips per video' in out
    # 3 batches of 8 videos (16 val videos: the third batch starts a second epoch).
    assert '3 batches, 24 videos' in out
    assert result['clips_per_s'] == pytest.approx(3 * result['videos_per_s'])
    assert result['main_peak_mib'] > 50 and result['worker_peak_mib'] == 0


def test_bench_cli_with_a_worker(tiny_demo):
    done = run_tool(
        str(SCRIPT), str(tiny_demo['config']), '--workers', '1', '--num-batches', '2',
        '--warmup', '1', cwd=REPO, timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-2000:]
    assert 'train_dataloader' in done.stdout and '1 workers' in done.stdout
    assert 'each worker' in done.stdout and 'clips/s' in done.stdout
