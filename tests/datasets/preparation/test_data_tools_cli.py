"""The tools/data command lines, end to end on a tiny UCF101-shaped dataset."""

import importlib.util
import os.path as osp

import cv2
import numpy as np
import pytest

REPO = osp.dirname(osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))


def load_tool(name):
    path = osp.join(REPO, 'tools', 'data', f'{name}.py')
    spec = importlib.util.spec_from_file_location(f'tool_{name}', path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def write_video(path, num_frames):
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*'mp4v'), 25, (64, 48))
    for i in range(num_frames):
        writer.write(np.full((48, 64, 3), 15 * i, np.uint8))
    writer.release()


@pytest.fixture
def ucf101(tmp_path):
    root = tmp_path / 'data' / 'ucf101'
    videos = {
        'ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi': (1, 4),
        'ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi': (1, 5),
        'Archery/v_Archery_g08_c02.avi': (2, 6),
        'Archery/v_Archery_g01_c01.avi': (2, 7),
    }
    for video, (_, n) in videos.items():
        write_video(root / 'videos' / video, n)  # AVI container (from the name), MPEG-4 video
    ann = root / 'annotations'
    ann.mkdir()
    (ann / 'classInd.txt').write_text('1 ApplyEyeMakeup\n2 Archery\n')
    for split in (1, 2, 3):
        train = [v for v in videos if '_g08_' in v]
        (ann / f'trainlist{split:02d}.txt').write_text(
            ''.join(f'{v} {videos[v][0]}\n' for v in train)
        )
        (ann / f'testlist{split:02d}.txt').write_text(
            ''.join(f'{v}\n' for v in videos if v not in train)
        )
    return root


def test_prepare_ucf101_with_the_three_tools(ucf101, capsys):
    extract, build, check = (
        load_tool(n) for n in ('extract_frames', 'build_file_list', 'check_dataset')
    )
    args = [str(ucf101 / 'videos'), str(ucf101 / 'rawframes'), '--short-side', '32']
    assert extract.main(args + ['--workers', '2', '--no-progress']) == 0
    assert 'extracted 4 videos, skipped 0' in capsys.readouterr().out
    assert extract.main(args + ['--no-progress']) == 0
    assert 'extracted 0 videos, skipped 4' in capsys.readouterr().out
    assert cv2.imread(str(ucf101 / 'rawframes/Archery/v_Archery_g01_c01/img_00007.jpg')).shape == (
        32,
        43,
        3,
    )

    assert build.main(
        ['ucf101', str(ucf101 / 'annotations'), '--out-dir', str(ucf101),
         '--frames-root', str(ucf101 / 'rawframes')]
    ) == 0  # fmt: skip
    assert (ucf101 / 'ucf101_train_split_1_rawframes.txt').read_text() == (
        'ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01 4 0\nArchery/v_Archery_g08_c02 6 1\n'
    )
    assert (ucf101 / 'ucf101_val_split_3_videos.txt').read_text() == (
        'ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi 0\nArchery/v_Archery_g01_c01.avi 1\n'
    )

    config = ucf101 / 'cfg.py'
    config.write_text(
        'model = dict(cls_head=dict(num_classes=2))\n'
        f"val_dataloader = dict(dataset=dict(type='RawframeDataset', data_root={str(ucf101)!r},\n"
        "    ann_file='ucf101_val_split_1_rawframes.txt', data_prefix=dict(img='rawframes')))\n"
    )
    assert check.main([str(config), '--split', 'val', '--no-progress']) == 0
    assert '2 lines, 2 usable, 0 with errors' in capsys.readouterr().out

    videos_list = ucf101 / 'ucf101_train_split_1_videos.txt'
    (ucf101 / 'videos/Archery/v_Archery_g08_c02.avi').write_bytes(b'')
    clean = ucf101 / 'clean.txt'
    status = check.main(
        ['--ann-file', str(videos_list), '--data-root', str(ucf101 / 'videos'), '--type', 'videos',
         '--num-classes', '2', '--out-clean', str(clean), '--workers', '2', '--no-progress']
    )  # fmt: skip
    out = capsys.readouterr().out
    assert status == 1 and 'empty_file' in out and 'v_Archery_g08_c02.avi has 0 bytes' in out
    assert clean.read_text() == 'ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 0\n'


def test_extract_cli_lists_failures(tmp_path, capsys):
    write_video(tmp_path / 'videos' / 'ok.mp4', 3)
    (tmp_path / 'videos' / 'bad.mp4').write_text('garbage')
    extract = load_tool('extract_frames')
    assert extract.main([str(tmp_path / 'videos'), str(tmp_path / 'out'), '--no-progress']) == 1
    assert 'FAILED bad.mp4' in capsys.readouterr().out
    assert (tmp_path / 'out' / 'extraction_failures.txt').read_text().startswith('bad.mp4\t')


def test_check_cli_needs_config_or_ann_file():
    check = load_tool('check_dataset')
    with pytest.raises(SystemExit):
        check.parse_args([])


def test_check_cli_reads_lists_as_the_dataset(tmp_path, capsys):
    check = load_tool('check_dataset')
    write_video(tmp_path / 'videos' / 'clip.mp4', 3)
    ann = tmp_path / 'test.txt'
    ann.write_bytes(b'\xef\xbb\xbfclip.mp4\r\nclip.mp4 1 2\r\n')  # BOM, CRLF, no label
    args = ['--ann-file', str(ann), '--data-root', str(tmp_path / 'videos'), '--type', 'videos']
    assert check.main(args + ['--test-mode', '--no-progress']) == 1
    out = capsys.readouterr().out
    assert '2 lines, 1 usable, 1 with errors' in out and 'line 2: parse_error' in out
    assert check.main(args + ['--no-progress']) == 1  # a training list must label every line
    assert 'line 1: parse_error: the line has no label' in capsys.readouterr().out
    assert check.main(['--ann-file', str(tmp_path / 'nowhere.txt'), '--no-progress']) == 2
    assert 'nowhere.txt' in capsys.readouterr().err
    config = tmp_path / 'cfg.py'
    config.write_text("train_dataloader = dict(dataset=dict(type='AVADataset'))\n")
    assert check.main([str(config), '--no-progress']) == 2
    err = capsys.readouterr().err
    assert 'AVADataset' in err and 'dataset.type' in err
    config.write_text("train_dataloader = dict(dataset=dict(type='RepeatAugDataset'))\n")
    assert check.main([str(config), '--no-progress']) == 2
    assert 'train_dataloader.dataset has no ann_file' in capsys.readouterr().err
