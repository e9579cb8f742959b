"""The load plan: what a run will do, as plain data the runner and every Locust worker follow.

A scenario's ``build_plan`` turns its parameters into a :class:`LoadPlan`: the phases with their load shape,
the operation mix, the fault schedule, the setup actions on the mock and the vendor, and the default SLA
criteria. Plans are plain data, so the same plan is rebuilt on every Locust worker from the recorded parameters
and recorded in the manifest.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from plan.operations import TaskOperation
from plan.rates import RateProfile

LoadModel = Literal["open", "closed"]
ArrivalName = Literal["constant", "poisson"]


@dataclass(frozen=True)
class TaskWeight:
    operation: TaskOperation
    weight: int = 1


@dataclass(frozen=True)
class Criterion:
    """A default SLA criterion (the SLA file's fields; analysis evaluates it)."""

    metric: str
    target: float
    aggregation: str = "value"
    comparison: Literal["<=", ">="] = "<="
    warn: float | None = None
    weight: float = 1.0
    critical: bool = False
    min_samples: int = 1
    scope: str | None = None  # an operation name, or None for the whole run
    source: str = ""  # the market figure it comes from

    def as_dict(self) -> dict[str, Any]:
        return {k: v for k, v in self.__dict__.items() if v is not None and v != ""}


@dataclass(frozen=True)
class SetupStep:
    """An action before the load starts: ``mock-limits``, ``mock-subscribe``, ``vendor-seed``, ``note``."""

    action: str
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Phase:
    """A stretch of load with its own shape; most scenarios have one, data-volume has one per store size."""

    name: str
    profile: RateProfile
    setup: tuple[SetupStep, ...] = ()


@dataclass(frozen=True)
class FaultStep:
    """ "At ``at_s`` inject ``fault`` on ``target`` for ``duration_s``" (``harness.faults.schedule.at``).

    ``fault`` may be the placeholder ``"failover"``: the runner swaps in the kill that the vendor profile's
    ``failover.method`` names (process, container or proxy).
    """

    at_s: float
    fault: str
    target: str = ""
    duration_s: float = 0.0
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class LoadPlan:
    scenario: str
    load_model: LoadModel
    arrival: ArrivalName
    phases: tuple[Phase, ...]
    mix: tuple[TaskWeight, ...]
    pool_size: int
    think_time_s: float
    customers: int
    drain_s: float
    faults: tuple[FaultStep, ...] = ()
    setup: tuple[SetupStep, ...] = ()
    criteria: tuple[Criterion, ...] = ()
    options: Mapping[str, Any] = field(default_factory=dict)  # scenario-specific knobs for the users
    # Merged into the run's mock config (e.g. webhook-storm's status ladder); the run's own settings win.
    mock_settings: Mapping[str, Any] = field(default_factory=dict)

    def mock_settings_with(self, extra: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The scenario's mock settings with ``extra`` merged over them, mapping by mapping."""
        return _deep_merge(self.mock_settings, extra or {})

    @property
    def duration_s(self) -> float:
        return sum(phase.profile.duration_s for phase in self.phases)

    @property
    def operations(self) -> tuple[str, ...]:
        return tuple(task.operation for task in self.mix)


def _deep_merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    merged = dict(base)
    for key, value in extra.items():
        old = merged.get(key)
        merged[key] = _deep_merge(old, value) if isinstance(old, Mapping) and isinstance(value, Mapping) else value
    return merged
