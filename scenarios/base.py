"""What a scenario is: validated parameters, a quick size, and the plan the runner and the load engine follow.

A scenario module defines a parameter model (defaults from market-figures.md where this machine allows, bounds
as pydantic constraints), a ``quick`` override set that runs in well under two minutes, and ``build_plan`` that
turns parameters into a :class:`LoadPlan`: the load shape, the operation mix, the fault schedule, the setup
actions on the mock and the vendor, and the default SLA criteria. Plans are plain data, so the same plan is sent
to every Locust worker as JSON and recorded in the manifest.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

from pydantic import ConfigDict, Field, ValidationError

from ground.durations import HumanDurations
from ground.errors import ScenarioError
from ground.loading import validation_error
from ground.registry import Registry
from harness.loadgen.rates import RateProfile

LoadModel = Literal["open", "closed"]
ArrivalName = Literal["constant", "poisson"]

# Operations a scenario's users perform. The vendor operations go through the profile's adapter; the
# ``customer_message`` one asks the mock to deliver a customer's message to the vendor as a signed webhook.
TaskOperation = Literal[
    "send_text", "send_template", "send_media", "upload_media", "search_conversations", "health", "customer_message"
]

MAX_DURATION_S = 7 * 24 * 3600  # every scenario is bounded in time (design.md, Safety)
MAX_RATE = 20_000.0
MAX_USERS = 20_000
# `scrmbench run` options that set a shared parameter (harness/commands/run.py), for messages that name them.
CLI_OPTIONS = {"duration_s": "--duration", "rate": "--rate", "users": "--users"}


class ScenarioParams(HumanDurations):
    """Parameters every scenario shares; scenario modules subclass it with their own fields and defaults.

    Its ``*_s`` and ``*_ms`` fields also take human durations: ``--param drain_s=30s``, ``reply_p95_ms=2s``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    duration_s: float = Field(60.0, gt=0, le=MAX_DURATION_S, description="length of the load phase")
    load_model: LoadModel = Field("open", description="open: arrival rate; closed: users with think time")
    rate: float = Field(10.0, gt=0, le=MAX_RATE, description="open model: arrivals per second (the shape's level)")
    users: int = Field(10, ge=1, le=MAX_USERS, description="closed model: concurrent users")
    think_time_s: float = Field(1.0, ge=0, le=3600, description="closed model: pause between a user's requests")
    arrival: ArrivalName = Field("constant", description="open model: evenly spaced or Poisson arrivals")
    pool_size: int = Field(
        200, ge=1, le=MAX_USERS, description="open model: users ready per worker; a slot with none idle is dropped"
    )
    customers: int = Field(1000, ge=1, le=10_000_000, description="simulated customers (Faker, seeded)")
    drain_s: float = Field(5.0, ge=0, le=3600, description="wait after the load for late deliveries and webhooks")

    def engine_fields(self, **overrides: Any) -> dict[str, Any]:
        """The LoadPlan fields every scenario takes straight from these shared parameters."""
        fields = {
            "load_model": self.load_model,
            "arrival": self.arrival,
            "pool_size": self.pool_size,
            "think_time_s": self.think_time_s,
            "customers": self.customers,
            "drain_s": self.drain_s,
        }
        return {**fields, **overrides}


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
