"""Draw a confusion matrix with class names on both axes, legible up to UCF101's 101 classes."""

from typing import Optional, Sequence

import numpy as np

__all__ = ['plot_confusion_matrix']

CELL_INCHES = 0.12  # a 101-class matrix is 12 in wide: one 5 pt name per cell fits
MIN_SIDE_INCHES = 3.0  # a few classes still get a readable square
ANNOTATE_UP_TO = 30  # classes; with more, numbers in the cells would be too small to read
DPI = 150


def plot_confusion_matrix(
    confusion: np.ndarray,
    class_names: Sequence[str],
    out: str,
    normalize: bool = False,
    title: Optional[str] = None,
) -> str:
    """Draw ``confusion`` (rows true classes, columns predicted) as a heat map into ``out``.

    The figure grows with the class count (``CELL_INCHES`` per class) and the names shrink to
    fit one cell, so every class stays labelled; predicted-class names are written vertically.
    Up to ``ANNOTATE_UP_TO`` classes each cell also shows its value.

    Args:
        confusion: ``[C, C]`` counts.
        class_names: C names, in class-index order.
        out: Image path (``.png``, ``.pdf``, ``.svg``).
        normalize: Divide each row by its sum (the share of a true class's videos predicted as
            each class; a class without videos stays 0), on a fixed 0-1 colour scale.
        title: Figure title; default 'confusion matrix (counts)' or '(row-normalised)'.

    Returns:
        ``out``.
    """
    import matplotlib

    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    from mpl_toolkits.axes_grid1 import make_axes_locatable

    confusion = np.asarray(confusion)
    num_classes = len(class_names)
    if confusion.shape != (num_classes, num_classes):
        raise ValueError(
            f'confusion has shape {confusion.shape} but there are {num_classes} class names'
        )
    values = confusion.astype(np.float64)
    if normalize:
        totals = values.sum(axis=1, keepdims=True)
        values = np.divide(values, totals, out=np.zeros_like(values), where=totals > 0)

    side = max(MIN_SIDE_INCHES, CELL_INCHES * num_classes)
    # 72 pt per inch; a name takes at most ~60% of its cell's height.
    fontsize = float(np.clip(side / num_classes * 72 * 0.6, 4, 9))
    longest = max((len(str(name)) for name in class_names), default=1)
    margin = longest * fontsize * 0.6 / 72 + 0.8  # name width (~0.6 em per character) + label
    fig, ax = plt.subplots(figsize=(side + margin + 1.2, side + margin + 0.6))
    image = ax.imshow(
        values,
        cmap='Blues',
        interpolation='nearest',
        vmin=0,
        vmax=1 if normalize else max(values.max(), 1),
    )
    # A colour bar as tall as the matrix, whatever the figure size.
    fig.colorbar(image, cax=make_axes_locatable(ax).append_axes('right', size=0.15, pad=0.1))
    ticks = np.arange(num_classes)
    ax.set_xticks(ticks, [str(name) for name in class_names], rotation=90, fontsize=fontsize)
    ax.set_yticks(ticks, [str(name) for name in class_names], fontsize=fontsize)
    ax.set_xlabel('predicted class')
    ax.set_ylabel('true class')
    ax.set_title(title or f'confusion matrix ({"row-normalised" if normalize else "counts"})')

    if num_classes <= ANNOTATE_UP_TO:
        threshold = (1 if normalize else max(values.max(), 1)) / 2
        for (row, col), value in np.ndenumerate(values):
            text = f'{value:.2f}' if normalize else f'{int(confusion[row, col])}'
            color = 'white' if value > threshold else 'black'
            ax.text(col, row, text, ha='center', va='center', fontsize=fontsize, color=color)

    fig.tight_layout()
    fig.savefig(out, dpi=DPI)
    plt.close(fig)
    return out
