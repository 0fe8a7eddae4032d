import matplotlib.pyplot as plt
import numpy as np
import pytest

from mmaction_ft.visualization import plot_confusion_matrix
from mmaction_ft.visualization.confusion_matrix import CELL_INCHES, DPI

CONFUSION = np.array([[3, 1, 0], [0, 2, 2], [1, 0, 4]])


def _image(path) -> np.ndarray:
    return plt.imread(str(path))[..., :3]  # [H, W, RGB] floats in [0, 1]


@pytest.mark.parametrize('normalize', [False, True])
def test_three_classes_draw_a_real_plot(tmp_path, normalize):
    out = tmp_path / 'cm.png'
    path = plot_confusion_matrix(CONFUSION, ['a', 'b', 'c'], str(out), normalize=normalize)
    assert path == str(out)
    image = _image(out)
    assert image.shape[0] >= 400 and image.shape[1] >= 400
    assert image.std() > 0.1  # not a blank canvas
    # The darkest cell holds the largest value: some pixels are a deep blue.
    assert (image[..., 2] - image[..., 0] > 0.5).any()


def test_the_figure_grows_with_the_class_count(tmp_path):
    rng = np.random.default_rng(0)
    confusion = rng.integers(0, 3, (101, 101)) + np.diag(rng.integers(5, 30, 101))
    names = [f'ApplyEyeMakeup_{i}' for i in range(101)]
    out = tmp_path / 'cm101.png'
    plot_confusion_matrix(confusion, names, str(out), normalize=True)
    image = _image(out)
    # Every class gets at least CELL_INCHES of the figure: wider and taller than 101 cells.
    cells = 101 * CELL_INCHES * DPI
    assert image.shape[0] > cells and image.shape[1] > cells
    assert image.std() > 0.1


def test_names_must_match_the_matrix(tmp_path):
    with pytest.raises(ValueError, match=r'shape \(3, 3\) but there are 2 class names'):
        plot_confusion_matrix(CONFUSION, ['a', 'b'], str(tmp_path / 'cm.png'))
