"""The 0.x translation only names optimizer wrapper constructors that exist."""

import pytest

from mmaction_ft.config.legacy import RULES
from mmaction_ft.config.legacy_optim import CONSTRUCTORS
from mmaction_ft.registry import OPTIM_WRAPPER_CONSTRUCTORS


@pytest.mark.parametrize('old, new', sorted(CONSTRUCTORS.items()))
def test_every_translated_constructor_is_registered(old, new):
    OPTIM_WRAPPER_CONSTRUCTORS.import_from_location()
    assert OPTIM_WRAPPER_CONSTRUCTORS.get(new) is not None, f'{old} -> {new}: not registered'


def test_rules_are_a_tuple_of_functions_ending_with_the_scope():
    assert isinstance(RULES, tuple) and all(callable(rule) for rule in RULES)
    assert len(set(RULES)) == len(RULES)
    assert RULES[-1].__name__ == 'translate_scope_and_imports'
