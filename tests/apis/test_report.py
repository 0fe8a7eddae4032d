import json
import os
import shutil
import subprocess

import cv2
import numpy as np
import pytest

from mmaction_ft.apis.eval_outputs import write_eval_outputs
from mmaction_ft.apis.report import SECTIONS, build_report, write_report

# A run log as mmengine writes it (the head-swap line is one line in a real log).
LOG = """2026/12/06 10:00:00 - mmengine - INFO -
------------------------------------------------------------
System environment:
    sys.platform: linux
    Python: 3.11.7
    CUDA available: False
    PyTorch: 2.14.1
    PyTorch compiling details: PyTorch built with:
  - Build settings: BLAS_INFO=mkl
    OpenCV: 5.1.0
Runtime environment:
    seed: 0
------------------------------------------------------------
2026/12/06 10:00:01 - mmengine - INFO - cls_head.fc_cls: checkpoint has 8 classes, model has 3 \
-> re-initialised
2026/12/06 10:00:01 - mmengine - INFO - Recognizer2D: loaded 120/122 tensors from src.pth
2026/12/06 10:05:00 - mmengine - INFO - Epoch(val) [2][5/5]    acc/top1: 0.6000
"""


@pytest.fixture
def work_dir(tmp_path):
    work = tmp_path / 'tsn_demo'
    vis = work / '20261206_100000' / 'vis_data'
    vis.mkdir(parents=True)
    records = [
        dict(lr=0.01, loss=2.0 - i / 4, time=0.5, epoch=(i + 1) // 2, iter=i, step=i)
        for i in range(1, 5)
    ]
    records.insert(2, {'acc/top1': 0.4, 'acc/mean1': 0.35, 'step': 1})
    records.append({'acc/top1': 0.6, 'acc/mean1': 0.55, 'step': 2})
    (vis / 'scalars.json').write_text(''.join(json.dumps(r) + '\n' for r in records))
    (work / '20261206_100000' / '20261206_100000.log').write_text(LOG)
    (work / 'tsn_demo.py').write_text("model = dict(type='Recognizer2D')  # <the config>\n")
    scores = np.array([[0.8, 0.1, 0.1], [0.2, 0.7, 0.1], [0.5, 0.4, 0.1], [0.1, 0.2, 0.7]])
    write_eval_outputs(
        scores,
        [0, 1, 1, 2],
        ['a.mp4', 'b.mp4', 'c.mp4', 'd.mp4'],
        str(work / 'test'),
        class_names=['walk', 'run & jump', 'sit'],
        metrics={'acc/top1': 0.75},
    )
    return work


def test_every_section_is_filled_from_the_work_dir(work_dir):
    page = build_report(str(work_dir))
    for key, heading in SECTIONS:
        assert f'<section id="{key}"><h2>{heading.replace("&", "&amp;")}</h2>' in page
    assert 'class="missing"' not in page
    assert 'run &amp; jump' in page  # class names escaped
    assert 'checkpoint has 8 classes, model has 3 -&gt; re-initialised' in page
    assert 'loaded 120/122 tensors' in page
    assert 'CUDA available: False' in page and 'BLAS_INFO' not in page
    assert '&lt;the config&gt;' in page
    assert page.count('src="data:image/png;base64,') == 2  # curves and confusion matrix
    assert '0.7500' in page  # the test top-1 from metrics.json


def test_missing_sources_are_named_not_dropped(tmp_path):
    (tmp_path / 'empty').mkdir()
    page = build_report(str(tmp_path / 'empty'))
    assert page.count('class="missing"') == len(SECTIONS) - 1  # summary always has the work dir
    assert 'run tools/test.py CONFIG CKPT --out-dir EVAL_DIR' in page
    with pytest.raises(FileNotFoundError, match='no such work dir'):
        build_report(str(tmp_path / 'nowhere'))


CHROMIUM = shutil.which('chromium') or shutil.which('chromium-browser')


@pytest.mark.skipif(CHROMIUM is None, reason='needs Chromium (Debian package chromium)')
def test_the_page_renders_in_headless_chromium(work_dir, tmp_path):
    out = write_report(str(work_dir), str(tmp_path / 'report.html'))
    flags = [
        CHROMIUM,
        '--headless',
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
        f'--user-data-dir={tmp_path / "profile"}',
    ]
    env = dict(os.environ, HOME=str(tmp_path))
    dom = subprocess.run(
        flags + ['--dump-dom', f'file://{out}'],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
    )
    assert dom.returncode == 0, dom.stderr[-2000:]
    for key, _ in SECTIONS:
        assert f'id="{key}"' in dom.stdout
    shot = tmp_path / 'shot.png'
    subprocess.run(
        flags + [f'--screenshot={shot}', '--window-size=1200,4000', f'file://{out}'],
        capture_output=True,
        timeout=120,
        env=env,
        check=True,
    )
    image = cv2.imread(str(shot))
    assert image.shape[:2] == (4000, 1200)
    assert image.std() > 10  # text, tables and plots, not a blank page
