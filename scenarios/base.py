"""What a scenario is: validated parameters, a quick size, and the function that builds its load plan.

A scenario module defines a parameter model (a :class:`plan.params.ScenarioParams` subclass: defaults from
market-figures.md where this machine allows, bounds as pydantic constraints), a ``quick`` override set that runs
in well under two minutes, and ``build_plan`` that turns parameters into a :class:`plan.load.LoadPlan` (the plan
floor: the load shape, the operation mix, the fault schedule, the setup actions, the default SLA criteria).
"""

from __future__ import annotations

import importlib
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from pydantic import ValidationError

from ground.errors import ScenarioError
from ground.loading import validation_error
from ground.registry import Registry

if TYPE_CHECKING:
    from plan.load import LoadPlan
    from plan.params import ScenarioParams

# `scrmbench run` options that set a shared parameter (harness/commands/run.py), for messages that name them.
CLI_OPTIONS = {"duration_s": "--duration", "rate": "--rate", "users": "--users"}


@dataclass(frozen=True)
class Scenario:
    name: str
    summary: str
    params_model: type[ScenarioParams]
    build_plan: Callable[[Any], LoadPlan]
    quick: Mapping[str, Any] = field(default_factory=dict)
    needs: tuple[str, ...] = ()  # vendor operations the scenario cannot run without
    # Shared parameters this scenario's shape does not use (e.g. broadcast's length follows from its recipients),
    # each with what to set instead: an override of one is refused, never silently ignored.
    unused: Mapping[str, str] = field(default_factory=dict)

    def params(
        self, overrides: Mapping[str, Any] | None = None, *, quick: bool = False, recorded: bool = False
    ) -> ScenarioParams:
        """Defaults, then the quick size if asked, then the user's overrides; bounds checked at this edge.

        ``recorded``: ``overrides`` are a run's recorded, fully validated parameters (every shared field, used or
        not, with its value), not what a user typed, so unused fields are not refused.
        """
        if not recorded:
            self._refuse_unused(overrides or {})
        data: dict[str, Any] = dict(self.quick) if quick else {}
        data.update({k: v for k, v in (overrides or {}).items() if v is not None})
        try:
            return self.params_model.model_validate(data)
        except ValidationError as exc:
            error = validation_error(exc, data, source=f"scenario {self.name}")
            raise ScenarioError(
                exc.errors()[0]["msg"],
                source=f"scenario {self.name}",
                field=error.field,
                value=error.value,
                fix=error.fix or f"see `scrmbench scenarios list` and the {self.name} module's parameters",
            ) from None

    def _refuse_unused(self, overrides: Mapping[str, Any]) -> None:
        for name, instead in self.unused.items():
            if overrides.get(name) is not None:
                option = CLI_OPTIONS.get(name, f"--param {name}")
                raise ScenarioError(
                    f"the {self.name} scenario does not use {option} ({name}); it would be silently ignored",
                    source=f"scenario {self.name}",
                    field=option,
                    value=overrides[name],
                    fix=f"drop {option} and {instead}",
                )

    def plan(
        self, overrides: Mapping[str, Any] | None = None, *, quick: bool = False, recorded: bool = False
    ) -> LoadPlan:
        return self.build_plan(self.params(overrides, quick=quick, recorded=recorded))


# Every scenario module adds its ``SCENARIO`` here at its end; ``scenarios.registry`` imports them in listing order.
SCENARIOS: Registry[Scenario] = Registry(
    "scenario",
    message="unknown scenario",
    fix="use one of: {names} (see `scrmbench scenarios list`)",
    ordered=True,
    error=ScenarioError,
)


# The plan's parts moved to the plan floor; their old names here work for one more release.
_MOVED = {
    "ArrivalName": "plan.load",
    "Criterion": "plan.load",
    "FaultStep": "plan.load",
    "LoadModel": "plan.load",
    "LoadPlan": "plan.load",
    "Phase": "plan.load",
    "SetupStep": "plan.load",
    "TaskWeight": "plan.load",
    "TaskOperation": "plan.operations",
    "ScenarioParams": "plan.params",
    "MAX_DURATION_S": "plan.params",
    "MAX_RATE": "plan.params",
    "MAX_USERS": "plan.params",
}


def __getattr__(name: str) -> Any:
    if name in _MOVED:
        warnings.warn(
            f"scenarios.base.{name} moved to {_MOVED[name]}.{name}; the old name goes in the next release",
            DeprecationWarning,
            stacklevel=2,
        )
        return getattr(importlib.import_module(_MOVED[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
