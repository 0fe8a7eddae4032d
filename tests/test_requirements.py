"""The install puts exactly one OpenCV distribution into the environment.

A fresh venv resolving the README's install command is checked by hand in the issue notes; this
keeps the requirements from naming a second one.
"""

import importlib.metadata
import re
from pathlib import Path

OPENCV_DISTRIBUTIONS = ('opencv-python', 'opencv-python-headless')
REQUIREMENTS = Path(__file__).resolve().parents[1] / 'requirements.txt'


def _names(requirements):
    """Distribution names of requirement strings, markers and extras-only lines left out."""
    names = set()
    for line in requirements:
        line = line.split('#', 1)[0].strip()
        if not line or 'extra ==' in line:
            continue
        names.add(re.split(r'[ <>=!~;\[]', line, maxsplit=1)[0].lower())
    return names


def test_requirements_name_the_opencv_that_mmcv_lite_pulls_in():
    ours = _names(REQUIREMENTS.read_text().splitlines()) & set(OPENCV_DISTRIBUTIONS)
    theirs = _names(importlib.metadata.requires('mmcv-lite')) & set(OPENCV_DISTRIBUTIONS)
    assert len(ours) == 1, f'requirements.txt names {sorted(ours)}'
    # Two different names would install two packages writing the same cv2/ folder.
    assert ours == theirs
