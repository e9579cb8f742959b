"""What moved to the plan floor still imports from its old place for one release, with a DeprecationWarning, and
is the very same object (so monkeypatching either name patches both)."""

from __future__ import annotations

import importlib
import warnings

import pytest

from tests.fixtures.shims import assert_moved

MOVED_MODULES = {
    "harness.loadgen.rates": "plan.rates",
    "harness.loadgen.schedule": "plan.arrivals",
}

MOVED_NAMES = {
    "LoadPlan": "plan.load",
    "Phase": "plan.load",
    "FaultStep": "plan.load",
    "SetupStep": "plan.load",
    "Criterion": "plan.load",
    "TaskWeight": "plan.load",
    "TaskOperation": "plan.operations",
    "ScenarioParams": "plan.params",
    "MAX_DURATION_S": "plan.params",
}


@pytest.mark.parametrize(("old", "new"), MOVED_MODULES.items())
def test_the_old_module_path_is_the_new_module_with_a_warning(old: str, new: str) -> None:
    assert_moved(old, new)


@pytest.mark.parametrize(("name", "new"), MOVED_NAMES.items())
def test_the_old_name_in_scenarios_base_is_the_plan_floors_with_a_warning(name: str, new: str) -> None:
    import scenarios.base

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        value = getattr(scenarios.base, name)
    assert value is getattr(importlib.import_module(new), name)
    assert any(issubclass(w.category, DeprecationWarning) and new in str(w.message) for w in caught)


def test_scenarios_base_still_refuses_an_unknown_name() -> None:
    import scenarios.base

    with pytest.raises(AttributeError):
        _ = scenarios.base.NoSuchThing  # type: ignore[attr-defined]
