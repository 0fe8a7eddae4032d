"""TensorBoard logging that says how to install TensorBoard before training starts."""

import importlib.util

from mmengine.visualization import TensorboardVisBackend as MMEngineTensorboardVisBackend

from mmaction_ft.registry import VISBACKENDS

INSTALL_HINT = 'pip install -e ".[tensorboard]" (or pip install tensorboard)'


@VISBACKENDS.register_module()
class TensorboardVisBackend(MMEngineTensorboardVisBackend):
    """mmengine's TensorBoard backend, checked when it is built.

    mmengine's backend imports TensorBoard at its first write, so a missing package stops the run
    after the first logging interval; this one fails when the visualizer is built, naming the
    install command. Config use is unchanged::

        visualizer = dict(type='ActionVisualizer',
                          vis_backends=[dict(type='LocalVisBackend'),
                                        dict(type='TensorboardVisBackend')])

    Args:
        save_dir: Where the event files go (the run's ``vis_data`` dir when built by the runner).
        **kwargs: See mmengine's ``TensorboardVisBackend``.
    """

    def __init__(self, save_dir: str, **kwargs) -> None:
        if importlib.util.find_spec('tensorboard') is None:
            raise ImportError(
                f'TensorboardVisBackend (in visualizer.vis_backends) needs the tensorboard '
                f'package, which is not installed: {INSTALL_HINT}'
            )
        super().__init__(save_dir, **kwargs)
