import importlib.util
import json
import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from mmaction_ft.datasets.preparation import (
    DATASETS,
    Sample,
    format_line,
    parse_activitynet,
    parse_hmdb51,
    parse_kinetics,
    parse_mit,
    parse_mmit,
    parse_sthv2,
    parse_thumos14,
    parse_ucf101,
    write_file_lists,
)

BUILD_FILE_LIST = Path(__file__).resolve().parents[3] / 'tools' / 'data' / 'build_file_list.py'


def load_build_file_list():
    spec = importlib.util.spec_from_file_location('tool_build_file_list', BUILD_FILE_LIST)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def make_frames(root, frame_dir, num_frames, tmpl='img_{:05d}.jpg'):
    """An (empty-file) frame folder: only the names matter for counting."""
    path = root / frame_dir
    path.mkdir(parents=True)
    for i in range(1, num_frames + 1):
        (path / tmpl.format(i)).write_bytes(b'')


def read(path):
    return path.read_text().splitlines()


UCF_CLASSES = ['ApplyEyeMakeup', 'ApplyLipstick', 'HandstandPushups']
UCF_VIDEOS = {
    # video -> split in which it is a test video
    'ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi': 1,
    'ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01.avi': 2,
    'ApplyLipstick/v_ApplyLipstick_g02_c03.avi': 3,
    'HandstandPushups/v_HandStandPushups_g05_c02.avi': 1,
}


@pytest.fixture
def ucf101(tmp_path):
    """ucfTrainTestlist/ in the official format (CRLF, 1-based classInd)."""
    ann = tmp_path / 'annotations'
    ann.mkdir()
    class_ind = ''.join(f'{i} {name}\r\n' for i, name in enumerate(UCF_CLASSES, 1))
    (ann / 'classInd.txt').write_bytes(class_ind.encode())
    for split in (1, 2, 3):
        train = [v for v, s in UCF_VIDEOS.items() if s != split]
        test = [v for v, s in UCF_VIDEOS.items() if s == split]
        label = {v: UCF_CLASSES.index(v.split('/')[0]) + 1 for v in UCF_VIDEOS}
        lines = ''.join(f'{v} {label[v]}\r\n' for v in train)
        (ann / f'trainlist{split:02d}.txt').write_bytes(lines.encode())
        (ann / f'testlist{split:02d}.txt').write_bytes(''.join(f'{v}\r\n' for v in test).encode())
    frames = tmp_path / 'rawframes'
    make_frames(frames, 'ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01', 121)
    make_frames(frames, 'ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01', 5)
    make_frames(frames, 'ApplyLipstick/v_ApplyLipstick_g02_c03', 7)
    # The extraction's frame_counts.txt is preferred to counting files.
    (frames / 'frame_counts.txt').write_text('HandstandPushups/v_HandStandPushups_g05_c02 64\n')
    return tmp_path


def test_ucf101_lists_for_all_splits(ucf101):
    lists = parse_ucf101(str(ucf101 / 'annotations'))
    assert sorted(lists) == [f'{s}_split_{n}' for s in ('train', 'val') for n in (1, 2, 3)]

    report = write_file_lists('ucf101', lists, str(ucf101), frames_root=str(ucf101 / 'rawframes'))
    assert not report.skipped
    assert len(report.written) == 12
    assert read(ucf101 / 'ucf101_train_split_1_rawframes.txt') == [
        'ApplyEyeMakeup/v_ApplyEyeMakeup_g01_c01 5 0',
        'ApplyLipstick/v_ApplyLipstick_g02_c03 7 1',
    ]
    assert read(ucf101 / 'ucf101_val_split_1_rawframes.txt') == [
        'ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01 121 0',
        'HandstandPushups/v_HandStandPushups_g05_c02 64 2',
    ]
    assert read(ucf101 / 'ucf101_val_split_1_videos.txt') == [
        'ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01.avi 0',
        'HandstandPushups/v_HandStandPushups_g05_c02.avi 2',
    ]
    assert 'ApplyEyeMakeup/v_ApplyEyeMakeup_g08_c01 121 0' in read(
        ucf101 / 'ucf101_train_split_2_rawframes.txt'
    )
    assert read(ucf101 / 'ucf101_val_split_3_videos.txt') == [
        'ApplyLipstick/v_ApplyLipstick_g02_c03.avi 1'
    ]
    for split in (1, 2, 3):  # every video is in exactly one of train / val of each split
        names = read(ucf101 / f'ucf101_train_split_{split}_videos.txt') + read(
            ucf101 / f'ucf101_val_split_{split}_videos.txt'
        )
        assert sorted(n.split()[0] for n in names) == sorted(UCF_VIDEOS)


def test_missing_frame_folders_are_left_out_and_reported(ucf101):
    lists = parse_ucf101(str(ucf101 / 'annotations'), splits=(1,))
    os.remove(ucf101 / 'rawframes' / 'frame_counts.txt')
    report = write_file_lists(
        'ucf101', lists, str(ucf101), formats=('rawframes',), frames_root=str(ucf101 / 'rawframes')
    )
    assert [s[1] for s in report.skipped] == ['HandstandPushups/v_HandStandPushups_g05_c02.avi']
    assert 'no frames' in report.skipped[0][2]
    assert len(read(ucf101 / 'ucf101_val_split_1_rawframes.txt')) == 1


def test_ucf101_unknown_class_names_file_and_line(ucf101):
    (ucf101 / 'annotations' / 'testlist02.txt').write_text(
        'a.avi\nJuggling/v_Juggling_g01_c01.avi\n'
    )
    with pytest.raises(ValueError, match=r'testlist02.txt:1: unknown class'):
        parse_ucf101(str(ucf101 / 'annotations'))


def test_ucf101_reads_the_splits_that_are_present(ucf101):
    for name in ('trainlist02.txt', 'testlist02.txt', 'testlist03.txt'):
        os.remove(ucf101 / 'annotations' / name)
    lists = parse_ucf101(str(ucf101 / 'annotations'))
    assert sorted(lists) == ['train_split_1', 'val_split_1']
    with pytest.raises(
        FileNotFoundError, match=r'split\(s\) \[3\] incomplete .*complete splits there: \[1\]'
    ):
        parse_ucf101(str(ucf101 / 'annotations'), splits=(1, 3))
    with pytest.raises(ValueError, match=r'has splits \[1, 2, 3\], not \[4\]'):
        parse_ucf101(str(ucf101 / 'annotations'), splits=(4,))


def test_build_file_list_split_option(ucf101):
    build_file_list = load_build_file_list()
    os.remove(ucf101 / 'annotations' / 'testlist03.txt')
    out = ucf101 / 'lists'
    args = ['ucf101', str(ucf101 / 'annotations'), '--out-dir', str(out), '--formats', 'videos']
    assert build_file_list.main(args) == 0  # splits 1 and 2: split 3 lacks its test list
    assert sorted(p.name for p in out.iterdir()) == sorted(
        f'ucf101_{s}_split_{n}_videos.txt' for n in (1, 2) for s in ('train', 'val')
    )
    with pytest.raises(SystemExit, match=r'split\(s\) \[3\] incomplete'):
        build_file_list.main(args + ['--split', '3'])
    with pytest.raises(SystemExit, match='kinetics400 has no numbered splits'):
        build_file_list.main(['kinetics400', *args[1:], '--split', '1'])


def test_hmdb51_split_files(tmp_path):
    ann = tmp_path / 'testTrainMulti_7030_splits'
    ann.mkdir()
    for split in (1, 2):
        (ann / f'ride_bike_test_split{split}.txt').write_text(
            'Bike_ride_u_cm_np1_fr_med_0.avi 1 \nbike_1_ride_bike_f_cm_np1_ba_med_2.avi 2 \n'
        )
        (ann / f'brush_hair_test_split{split}.txt').write_text(
            f'April_09_brush_hair_u_nm_np1_ba_goo_0.avi {split} \n'
            'Blonde_being_brushed_brush_hair_f_nm_np2_ri_med_0.avi 0 \n'
        )
    lists = parse_hmdb51(str(tmp_path), splits=(1, 2))
    # Classes in sorted order: brush_hair = 0, ride_bike = 1; "0" lines are unused.
    assert [(s.video, s.labels) for s in lists['train_split_1']] == [
        ('brush_hair/April_09_brush_hair_u_nm_np1_ba_goo_0.avi', (0,)),
        ('ride_bike/Bike_ride_u_cm_np1_fr_med_0.avi', (1,)),
    ]
    assert [s.video for s in lists['val_split_2']] == [
        'brush_hair/April_09_brush_hair_u_nm_np1_ba_goo_0.avi',
        'ride_bike/bike_1_ride_bike_f_cm_np1_ba_med_2.avi',
    ]
    write_file_lists('hmdb51', lists, str(tmp_path), formats=('videos',))
    assert read(tmp_path / 'hmdb51_val_split_1_videos.txt') == [
        'ride_bike/bike_1_ride_bike_f_cm_np1_ba_med_2.avi 1'
    ]


def test_kinetics_csv(tmp_path):
    (tmp_path / 'train.csv').write_text(
        'label,youtube_id,time_start,time_end,split,is_cc\n'
        'abseiling,0347ZoDXyP0,95,105,train,0\n'
        '"passing American football (in game)",--GkrdYZ9Tc,0,10,train,0\n'
        'air drumming,-VtLx-mcPds,14,24,train,0\n'
    )
    (tmp_path / 'validate.csv').write_text(
        'label,youtube_id,time_start,time_end,split\nair drumming,--nQbRBEz2s,104.0,114.0,val\n'
    )
    lists = parse_kinetics(str(tmp_path))
    assert [(s.video, s.labels) for s in lists['train_list']] == [
        ('abseiling/0347ZoDXyP0_000095_000105.mp4', (0,)),
        ('passing_American_football_(in_game)/--GkrdYZ9Tc_000000_000010.mp4', (2,)),
        ('air_drumming/-VtLx-mcPds_000014_000024.mp4', (1,)),
    ]
    write_file_lists('kinetics400', lists, str(tmp_path), formats=('videos',))
    assert read(tmp_path / 'kinetics400_val_list_videos.txt') == [
        'air_drumming/--nQbRBEz2s_000104_000114.mp4 1'
    ]

    # One folder per subset ({subset} = train / val); downloads may be .webm or missing.
    make_frames(tmp_path / 'rawframes_train', 'abseiling/0347ZoDXyP0_000095_000105', 250)
    make_frames(tmp_path / 'rawframes_val', 'air_drumming/--nQbRBEz2s_000104_000114', 300)
    (tmp_path / 'videos_train' / 'abseiling').mkdir(parents=True)
    (tmp_path / 'videos_train' / 'abseiling' / '0347ZoDXyP0_000095_000105.webm').write_bytes(b'')
    report = write_file_lists(
        'kinetics400',
        lists,
        str(tmp_path),
        frames_root=str(tmp_path / 'rawframes_{subset}'),
        videos_root=str(tmp_path / 'videos_{subset}'),
    )
    assert read(tmp_path / 'kinetics400_train_list_rawframes.txt') == [
        'abseiling/0347ZoDXyP0_000095_000105 250 0'
    ]
    assert read(tmp_path / 'kinetics400_val_list_rawframes.txt') == [
        'air_drumming/--nQbRBEz2s_000104_000114 300 1'
    ]
    assert read(tmp_path / 'kinetics400_train_list_videos.txt') == [
        'abseiling/0347ZoDXyP0_000095_000105.webm 0'
    ]
    assert len(report.skipped) == 2 + 2 + 1  # no frames (train 2), not downloaded (2 + 1)
    assert report.skipped[-1][1:] == (
        'air_drumming/--nQbRBEz2s_000104_000114.mp4',
        'video not found',
    )


def test_sthv1_csv_and_its_frame_names(tmp_path):
    (tmp_path / 'something-something-v1-labels.csv').write_text(
        'Holding something\nTurning something upside down\n'
    )
    (tmp_path / 'something-something-v1-train.csv').write_text(
        '100218;Turning something upside down\n48032;Holding something\n'
    )
    (tmp_path / 'something-something-v1-validation.csv').write_text('9223;Holding something\n')
    frames = tmp_path / '20bn-something-something-v1'
    for video_id, n in (('100218', 37), ('48032', 40), ('9223', 12)):
        make_frames(frames, video_id, n, tmpl='{:05d}.jpg')
    spec = DATASETS['sthv1']
    write_file_lists(
        'sthv1', spec.parse(str(tmp_path)), str(tmp_path), formats=spec.formats,
        frames_root=str(frames), filename_tmpl=spec.filename_tmpl,
    )  # fmt: skip
    assert read(tmp_path / 'sthv1_train_list_rawframes.txt') == ['100218 37 1', '48032 40 0']
    assert read(tmp_path / 'sthv1_val_list_rawframes.txt') == ['9223 12 0']


def test_sthv2_json(tmp_path):
    labels = {
        'Approaching something with your camera': '0',
        'Holding something next to something': '1',
    }
    (tmp_path / 'something-something-v2-labels.json').write_text(json.dumps(labels))
    item = {
        'id': '78687',
        'label': 'holding potato next to vicks vaporub bottle',
        'template': 'Holding [something] next to [something]',
        'placeholders': ['potato', 'vicks vaporub bottle'],
    }
    other = {
        'id': '42326',
        'label': 'approaching a lamp with your camera',
        'template': 'Approaching [something] with your camera',
        'placeholders': ['a lamp'],
    }
    (tmp_path / 'something-something-v2-train.json').write_text(json.dumps([item, other]))
    (tmp_path / 'something-something-v2-validation.json').write_text(json.dumps([other]))
    lists = parse_sthv2(str(tmp_path))
    write_file_lists('sthv2', lists, str(tmp_path), formats=('videos',))
    assert read(tmp_path / 'sthv2_train_list_videos.txt') == ['78687.webm 1', '42326.webm 0']
    assert read(tmp_path / 'sthv2_val_list_videos.txt') == ['42326.webm 0']


def test_moments_in_time_csv(tmp_path):
    (tmp_path / 'moments_categories.txt').write_text('adult+female+singing,0\napplauding,1\n')
    (tmp_path / 'trainingSet.csv').write_text(
        'applauding/-_uVBaj2A0c_40.mp4,applauding,3,0\n'
        'adult+female+singing/yt-0b2a_1.mp4,adult+female+singing,2,1\n'
    )
    (tmp_path / 'validationSet.csv').write_text('applauding/flickr-1-5-3.mp4,applauding,3,0\n')
    lists = parse_mit(str(tmp_path))
    assert lists['train_list'][0].subset_dir == 'training'
    frames = tmp_path / 'rawframes'
    make_frames(frames, 'validation/applauding/flickr-1-5-3', 90)
    write_file_lists('mit', lists, str(tmp_path), formats=('videos',))
    write_file_lists(
        'mit', {'val_list': lists['val_list']}, str(tmp_path), formats=('rawframes',),
        frames_root=str(frames),
    )  # fmt: skip
    assert read(tmp_path / 'mit_train_list_videos.txt') == [
        'applauding/-_uVBaj2A0c_40.mp4 1',
        'adult+female+singing/yt-0b2a_1.mp4 0',
    ]
    # Paths stay relative to the subset folder (data_prefix = rawframes/validation).
    assert read(tmp_path / 'mit_val_list_rawframes.txt') == ['applauding/flickr-1-5-3 90 1']


def test_multi_moments_multi_label(tmp_path):
    (tmp_path / 'trainingSet.txt').write_text(
        'yawning/flickr-1-0-8.mp4,312,45\nbarking/yt-abc_2.mp4,20\n'
    )
    (tmp_path / 'validationSet.txt').write_text('yawning/giphy-x.mp4,312\n')
    lists = parse_mmit(str(tmp_path))
    write_file_lists('mmit', lists, str(tmp_path), formats=('videos',))
    assert read(tmp_path / 'mmit_train_list_videos.txt') == [
        'yawning/flickr-1-0-8.mp4 312 45',
        'barking/yt-abc_2.mp4 20',
    ]


def test_activitynet_segments_with_offset(tmp_path):
    database = {
        'version': 'VERSION 1.3',
        'taxonomy': [],
        'database': {
            'sJFgo9H6zNo': {
                'subset': 'training', 'duration': 10.0, 'resolution': '640x360', 'url': '',
                'annotations': [{'segment': [2.0, 5.5], 'label': 'Ballet'},
                                {'segment': [8.0, 12.0], 'label': 'Zumba'}],
            },
            'V1q7b0YIvIs': {
                'subset': 'validation', 'duration': 4.0, 'resolution': '', 'url': '',
                'annotations': [{'segment': [0.0, 1.0], 'label': 'Zumba'}],
            },
            'testOnly123': {'subset': 'testing', 'duration': 3.0, 'annotations': []},
        },
    }  # fmt: skip
    (tmp_path / 'activity_net.v1-3.min.json').write_text(json.dumps(database))
    frames = tmp_path / 'rawframes'
    make_frames(frames, 'v_sJFgo9H6zNo', 300)  # 30 fps over 10 s
    make_frames(frames, 'v_V1q7b0YIvIs', 100)  # 25 fps over 4 s
    lists = parse_activitynet(str(tmp_path))
    with pytest.raises(ValueError, match='rawframes'):
        format_line(lists['train_list'][0], 'videos')
    write_file_lists(
        'activitynet', lists, str(tmp_path), formats=('rawframes',), frames_root=str(frames)
    )
    # <frame_dir> <offset> <total_frames> <label>; segment end clipped to the video.
    assert read(tmp_path / 'activitynet_train_list_rawframes.txt') == [
        'v_sJFgo9H6zNo 60 105 0',
        'v_sJFgo9H6zNo 240 60 1',
    ]
    assert read(tmp_path / 'activitynet_val_list_rawframes.txt') == ['v_V1q7b0YIvIs 0 25 1']


def test_thumos14_segments(tmp_path):
    val = tmp_path / 'TH14_Temporal_annotations_validation' / 'annotation'
    test = tmp_path / 'TH14_Temporal_Annotations_Test' / 'annotations' / 'annotation'
    val.mkdir(parents=True)
    test.mkdir(parents=True)
    (val / 'BaseballPitch_val.txt').write_text('video_validation_0000051 67.5 75.9\n')
    (val / 'Ambiguous_val.txt').write_text('video_validation_0000051 10.0 12.0\n')
    (val / 'VolleyballSpiking_val.txt').write_text('video_validation_0000051 1.0 2.0\n')
    (test / 'VolleyballSpiking_test.txt').write_text('video_test_0000004 0.2 1.1\n')
    lists = parse_thumos14(str(tmp_path))
    assert [(s.video, s.labels, s.subset_dir) for s in lists['val_list']] == [
        ('video_validation_0000051.mp4', (1,), 'val'),
        ('video_validation_0000051.mp4', (0,), 'val'),
    ]
    frames = tmp_path / 'rawframes'
    make_frames(frames, 'val/video_validation_0000051', 2400)
    make_frames(frames, 'test/video_test_0000004', 50)
    write_file_lists(
        'thumos14', lists, str(tmp_path), formats=('rawframes',), frames_root=str(frames), fps=30
    )
    assert read(tmp_path / 'thumos14_val_list_rawframes.txt') == [
        'video_validation_0000051 30 30 1',
        'video_validation_0000051 2025 252 0',
    ]
    assert read(tmp_path / 'thumos14_test_list_rawframes.txt') == ['video_test_0000004 6 27 1']


def test_untrimmed_frame_rate_read_from_the_video(tmp_path):
    (tmp_path / 'Diving_test.txt').write_text('video_test_0000004 1.0 2.0\n')
    (tmp_path / 'videos' / 'test').mkdir(parents=True)
    writer = cv2.VideoWriter(
        str(tmp_path / 'videos' / 'test' / 'video_test_0000004.mp4'),
        cv2.VideoWriter_fourcc(*'mp4v'),
        10,
        (64, 48),
    )
    for _ in range(30):
        writer.write(np.zeros((48, 64, 3), np.uint8))
    writer.release()
    make_frames(tmp_path / 'rawframes', 'test/video_test_0000004', 30)
    write_file_lists(
        'thumos14',
        parse_thumos14(str(tmp_path)),
        str(tmp_path),
        formats=('rawframes',),
        frames_root=str(tmp_path / 'rawframes'),
        videos_root=str(tmp_path / 'videos'),
    )
    assert read(tmp_path / 'thumos14_test_list_rawframes.txt') == ['video_test_0000004 10 10 0']


def test_format_line_rejects_what_the_list_cannot_hold():
    assert format_line(Sample('a/b.avi', (3, 7)), 'rawframes', num_frames=9) == 'a/b 9 3 7'
    with pytest.raises(ValueError, match='whitespace'):
        format_line(Sample('air drumming/x.mp4', (0,)), 'videos')
    with pytest.raises(ValueError, match='no frames'):
        format_line(Sample('a/b.avi', (0,)), 'rawframes', num_frames=0)
