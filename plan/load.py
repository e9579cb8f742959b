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
class AgentsPlan:
    """The vendor's side of a contact-centre run: a closed population of agents with shifts (harness.loadgen.agents).

    ``first_shift`` agents come online before the load starts; at ``shift_at_s`` (on the load's clock)
    ``second_shift`` more come online and ``leaving`` of the first go offline (they finish their open conversations
    first). Each handles at most ``cap`` conversations at once, reads its inbox every ``poll_s`` (seeded jitter of
    ±20%), reads a new conversation for a lognormal time (median ``read_s``, σ 0.5), types ``reply_chars``
    characters at ``typing_cps`` (lognormal, σ 0.3, on the time) and replies carrying the customer's correlation
    token, then closes it when ``close_after_reply``. Every draw comes from one generator per agent, seeded by the
    run's seed and the agent's number.

    ``segment_tag``/``segment_size``: before the load, that many customers are tagged at the vendor, and at
    ``broadcast_at_s`` one template broadcast goes to the tag (the segment accounting then checks who got it).
    """

    first_shift: int
    cap: int = 6
    shift_at_s: float | None = None
    second_shift: int = 0
    leaving: int = 0
    skills: tuple[tuple[str, ...], ...] = ()  # cycled over the agents; () = no skills
    poll_s: float = 1.0
    read_s: float = 2.0
    typing_cps: float = 5.0
    reply_chars: int = 60
    close_after_reply: bool = True
    abandon_s: float = 60.0
    segment_tag: str | None = None
    segment_size: int = 0
    broadcast_at_s: float | None = None
    broadcast_template: str = "promo_segment"

    @property
    def total(self) -> int:
        return self.first_shift + self.second_shift

    def shift_of(self, index: int) -> tuple[float | None, float | None]:
        """Agent ``index``'s (online_at, offline_at) in seconds on the load's clock; None: before the load starts
        (online) or never (offline). Agents ``0..leaving-1`` of the first shift leave at the shift change, agents
        from ``first_shift`` on come online then."""
        if index < self.first_shift:
            leaves = index < self.leaving and self.shift_at_s is not None
            return None, self.shift_at_s if leaves else None
        return self.shift_at_s or 0.0, None

    @staticmethod
    def agent_name(run_tag: str, index: int) -> str:
        """Agent ``index``'s id at the vendor: the run's tag and its global number (the same on any worker)."""
        return f"agent-{run_tag or '000000'}-{index:03d}"

    def indexes_on(self, worker_index: int, worker_count: int) -> list[int]:
        """The agents one load process simulates: agent ``i`` on worker ``i mod worker_count``, so every agent runs on
        exactly one of ``worker_count`` workers and each worker gets its share of both shifts and of the leavers. A
        worker index outside ``0..worker_count-1`` (a late replacement) gets none rather than a duplicate."""
        if worker_count < 1 or not 0 <= worker_index < worker_count:
            return []
        return list(range(worker_index, self.total, worker_count))


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
    agents: AgentsPlan | None = None  # contact-centre runs: the agents answering the customers

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
