"""SlowOnly (Feichtenhofer et al., ICCV 2019, sec. 5.1): the slow pathway of SlowFast alone.

A :class:`ResNet3dPathway` without laterals whose stem and first two stages are 2D
(``conv1_kernel=(1, 7, 7)``, ``inflate=(0, 0, 1, 1)``) and without I3D's ``pool2``: on few
frames sampled far apart, temporal kernels only help in the deeper stages (paper, table 1).
"""

from typing import Sequence

from mmaction_ft.registry import MODELS

from .resnet3d_slowfast import ResNet3dPathway


@MODELS.register_module()
class ResNet3dSlowOnly(ResNet3dPathway):
    """SlowOnly backbone: ``[N, C, T, H, W]`` clips -> stage feature maps (T is kept).

    Args:
        conv1_kernel: Stem kernel ``(t, h, w)``.
        conv1_stride_t: Temporal stride of the stem.
        pool1_stride_t: Temporal stride of the max pool after the stem.
        inflate: Temporal kernels per stage (or per block).
        with_pool2: Whether to halve the time after stage 1.
        **kwargs: :class:`ResNet3dPathway` / :class:`ResNet3d` arguments; ``lateral`` must stay
            False (a pathway with laterals needs the other pathway: use ``ResNet3dSlowFast``).
    """

    def __init__(
        self,
        conv1_kernel: Sequence[int] = (1, 7, 7),
        conv1_stride_t: int = 1,
        pool1_stride_t: int = 1,
        inflate: Sequence = (0, 0, 1, 1),
        with_pool2: bool = False,
        **kwargs,
    ):
        if kwargs.get('lateral', False):
            raise ValueError(
                'ResNet3dSlowOnly has no lateral connections (lateral=True needs a fast '
                'pathway: use ResNet3dSlowFast)'
            )
        super().__init__(
            conv1_kernel=conv1_kernel,
            conv1_stride_t=conv1_stride_t,
            pool1_stride_t=pool1_stride_t,
            inflate=inflate,
            with_pool2=with_pool2,
            **kwargs,
        )
