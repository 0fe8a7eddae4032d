import subprocess
import sys

SCRIPT = """
from mmaction_ft.utils.decord_loader import import_decord
decord = import_decord()
maps = open('/proc/self/maps').read()
print('nvblas' in maps, hasattr(decord, 'VideoReader'))
"""


def test_decord_imports_without_the_blas_interposer():
    # A fresh interpreter: this test process may already hold decord.
    out = subprocess.run(
        [sys.executable, '-c', SCRIPT], capture_output=True, text=True, timeout=120, check=True
    ).stdout.split()
    assert out == ['False', 'True']
