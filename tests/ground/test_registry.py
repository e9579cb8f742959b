"""``Registry[T]``: one shape for every plug-in kind; an unknown name is a ConfigError naming the known ones."""

from __future__ import annotations

import pytest

from ground.errors import ConfigError, ScenarioError
from ground.registry import Registry


def test_add_get_names_and_the_decorator() -> None:
    things: Registry[object] = Registry("thing")
    things.add("b", 2)

    @things.register("a")
    class A:
        pass

    assert things.get("a") is A and things.get("b") == 2
    assert things.names() == ["a", "b"] and list(things) == ["a", "b"] and "a" in things and len(things) == 2


def test_an_unknown_name_is_a_config_error_naming_the_known_ones() -> None:
    things: Registry[int] = Registry("thing")
    things.add("one", 1)
    with pytest.raises(ConfigError) as caught:
        things.get("two")
    error = caught.value
    assert (error.message, error.field, error.value) == ("unknown thing", "thing", "two")
    assert error.fix == "use one of: one"


def test_wording_order_and_error_class_are_the_kind_s_own() -> None:
    kinds: Registry[int] = Registry("kind", message="no kind has this name", fix="try {names}", ordered=True)
    kinds.add("z", 1)
    kinds.add("a", 2)
    assert kinds.names() == ["z", "a"]
    scenarios: Registry[int] = Registry("scenario", error=ScenarioError)
    with pytest.raises(ScenarioError):
        scenarios.get("nope")
    with pytest.raises(ConfigError, match="no kind has this name") as caught:
        kinds.get("b")
    assert caught.value.fix == "try z, a"


def test_a_name_taken_by_another_item_is_a_programming_error() -> None:
    things: Registry[str] = Registry("thing")
    things.add("x", "first")
    things.add("x", "first")  # the same again (a re-imported module): fine
    with pytest.raises(ValueError, match="registered twice"):
        things.add("x", "second")
