"""Every registry of mmaction_ft, each a child of mmengine's root registry.

Configs set ``default_scope='mmaction_ft'``; a name is looked up here first and then in
mmengine's roots (``SGD``, ``MultiStepLR``, ``CheckpointHook`` ...). ``locations`` makes a
registry import the modules that fill it the first time it builds something, so building never
depends on which modules the caller happened to import.
"""

import contextlib
from typing import Iterator, Optional

from mmengine.registry import DATA_SAMPLERS as MMENGINE_DATA_SAMPLERS
from mmengine.registry import DATASETS as MMENGINE_DATASETS
from mmengine.registry import EVALUATOR as MMENGINE_EVALUATOR
from mmengine.registry import FUNCTIONS as MMENGINE_FUNCTIONS
from mmengine.registry import HOOKS as MMENGINE_HOOKS
from mmengine.registry import LOG_PROCESSORS as MMENGINE_LOG_PROCESSORS
from mmengine.registry import LOOPS as MMENGINE_LOOPS
from mmengine.registry import METRICS as MMENGINE_METRICS
from mmengine.registry import MODEL_WRAPPERS as MMENGINE_MODEL_WRAPPERS
from mmengine.registry import MODELS as MMENGINE_MODELS
from mmengine.registry import OPTIM_WRAPPER_CONSTRUCTORS as MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS
from mmengine.registry import OPTIM_WRAPPERS as MMENGINE_OPTIM_WRAPPERS
from mmengine.registry import OPTIMIZERS as MMENGINE_OPTIMIZERS
from mmengine.registry import PARAM_SCHEDULERS as MMENGINE_PARAM_SCHEDULERS
from mmengine.registry import RUNNERS as MMENGINE_RUNNERS
from mmengine.registry import TRANSFORMS as MMENGINE_TRANSFORMS
from mmengine.registry import VISBACKENDS as MMENGINE_VISBACKENDS
from mmengine.registry import VISUALIZERS as MMENGINE_VISUALIZERS
from mmengine.registry import WEIGHT_INITIALIZERS as MMENGINE_WEIGHT_INITIALIZERS
from mmengine.registry import DefaultScope, Registry

SCOPE = 'mmaction_ft'


@contextlib.contextmanager
def building_scope(scope: Optional[str] = None) -> Iterator[None]:
    """Build in ``scope`` (a config's ``default_scope``) when given; otherwise in mmaction_ft's
    scope unless a project scope is current.

    mmengine builds in the current default scope. Without one, or with mmengine's own (a Runner
    made without ``default_scope`` leaves ``'mmengine'`` current), ``SampleFrames`` would not be
    found; any other scope (``'mmaction_ft'``, a user's project) stays as it is.
    """
    if scope:
        with DefaultScope.overwrite_default_scope(scope):
            yield
        return
    current = DefaultScope.get_current_instance()
    if current is not None and current.scope_name not in ('mmengine', ''):
        yield
        return
    with DefaultScope.overwrite_default_scope(SCOPE):
        yield


class ActionRegistry(Registry):
    """A registry whose ``build`` runs in :func:`building_scope`.

    So ``MODELS.build(dict(type='Recognizer3D', ...))`` works from plain Python also after a
    Runner made without ``default_scope`` left mmengine's scope current.
    """

    def build(self, cfg: dict, *args, **kwargs):
        with building_scope():
            return super().build(cfg, *args, **kwargs)


RUNNERS = ActionRegistry(
    'runner', parent=MMENGINE_RUNNERS, scope=SCOPE, locations=['mmaction_ft.engine']
)
LOOPS = ActionRegistry('loop', parent=MMENGINE_LOOPS, scope=SCOPE, locations=['mmaction_ft.engine'])
HOOKS = ActionRegistry(
    'hook',
    parent=MMENGINE_HOOKS,
    scope=SCOPE,
    locations=['mmaction_ft.engine', 'mmaction_ft.visualization'],
)
LOG_PROCESSORS = ActionRegistry(
    'log_processor', parent=MMENGINE_LOG_PROCESSORS, scope=SCOPE, locations=['mmaction_ft.engine']
)
OPTIMIZERS = ActionRegistry(
    'optimizer', parent=MMENGINE_OPTIMIZERS, scope=SCOPE, locations=['mmaction_ft.engine']
)
OPTIM_WRAPPERS = ActionRegistry(
    'optim_wrapper', parent=MMENGINE_OPTIM_WRAPPERS, scope=SCOPE, locations=['mmaction_ft.engine']
)
OPTIM_WRAPPER_CONSTRUCTORS = ActionRegistry(
    'optimizer wrapper constructor',
    parent=MMENGINE_OPTIM_WRAPPER_CONSTRUCTORS,
    scope=SCOPE,
    locations=['mmaction_ft.engine'],
)
PARAM_SCHEDULERS = ActionRegistry(
    'parameter scheduler',
    parent=MMENGINE_PARAM_SCHEDULERS,
    scope=SCOPE,
    locations=['mmaction_ft.engine'],
)

DATASETS = ActionRegistry(
    'dataset', parent=MMENGINE_DATASETS, scope=SCOPE, locations=['mmaction_ft.datasets']
)
DATA_SAMPLERS = ActionRegistry(
    'data sampler', parent=MMENGINE_DATA_SAMPLERS, scope=SCOPE, locations=['mmaction_ft.datasets']
)
TRANSFORMS = ActionRegistry(
    'transform',
    parent=MMENGINE_TRANSFORMS,
    scope=SCOPE,
    locations=['mmaction_ft.datasets.transforms'],
)
FUNCTIONS = ActionRegistry(
    'function', parent=MMENGINE_FUNCTIONS, scope=SCOPE, locations=['mmaction_ft.datasets']
)

MODELS = ActionRegistry(
    'model', parent=MMENGINE_MODELS, scope=SCOPE, locations=['mmaction_ft.models']
)
MODEL_WRAPPERS = ActionRegistry(
    'model_wrapper', parent=MMENGINE_MODEL_WRAPPERS, scope=SCOPE, locations=['mmaction_ft.engine']
)
WEIGHT_INITIALIZERS = ActionRegistry(
    'weight initializer',
    parent=MMENGINE_WEIGHT_INITIALIZERS,
    scope=SCOPE,
    locations=['mmaction_ft.models'],
)

METRICS = ActionRegistry(
    'metric', parent=MMENGINE_METRICS, scope=SCOPE, locations=['mmaction_ft.evaluation']
)
EVALUATOR = ActionRegistry(
    'evaluator', parent=MMENGINE_EVALUATOR, scope=SCOPE, locations=['mmaction_ft.evaluation']
)

VISUALIZERS = ActionRegistry(
    'visualizer',
    parent=MMENGINE_VISUALIZERS,
    scope=SCOPE,
    locations=['mmaction_ft.visualization'],
)
VISBACKENDS = ActionRegistry(
    'vis_backend',
    parent=MMENGINE_VISBACKENDS,
    scope=SCOPE,
    locations=['mmaction_ft.visualization'],
)
