"""peak: the Black Friday burst. Customers write in at once through the mock (signed webhooks); the vendor
auto-replies. Measures reply latency over time and its drift from minute 1 to minute 5.

market-figures.md #1: 3,000 consumers ask "discount code?" at once; system A drifted 1.2 s → 8.5 s by minute 5,
system B held 2 s ± 0.3 s.

On top of the arrival-rate shape, ``burst_customers`` customers write in at the same instant (``burst_at_s``,
by default when the spike begins): one call to the mock's batch route queues all their messages at once (the
``customer-burst`` step of the fault schedule, on the load's clock). The default is the research's 3,000,
scaled down on a small machine (1,000 per CPU core); 0 turns the burst off.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from ground.cores import usable_cores
from plan.load import Criterion, FaultStep, LoadPlan, Phase, TaskWeight
from plan.params import ScenarioParams
from plan.rates import spike_shape
from scenarios.base import SCENARIOS, Scenario

SOURCE = "market-figures.md #1 (peak burst: reply held at 2 s ± 0.3 s by the winner)"
RESEARCH_BURST = 3000  # market-figures.md #1: 3,000 consumers ask "discount code?" at once
BURST_PER_CORE = 1000


def default_burst() -> int:
    """The research's 3,000 where the machine allows, else 1,000 per CPU core."""
    return min(RESEARCH_BURST, BURST_PER_CORE * (usable_cores()))


class PeakParams(ScenarioParams):
    duration_s: float = Field(300.0, ge=5, le=4 * 3600)
    rate: float = Field(20.0, gt=0, le=5000, description="baseline customer messages per second")
    spike_factor: float = Field(5.0, ge=1, le=100, description="the burst's rate as a multiple of the baseline")
    customers: int = Field(3000, ge=1, le=1_000_000)
    reply_p95_ms: float = Field(2000.0, gt=0, description="SLA: reply latency p95")
    burst_customers: int = Field(
        default_factory=default_burst, ge=0, le=100_000, description="customers writing in at the same instant"
    )
    burst_at_s: float | None = Field(None, ge=0, description="when the burst happens; default: the spike's start")

    @model_validator(mode="after")
    def _burst_inside_run(self) -> PeakParams:
        if self.burst_at_s is not None and self.burst_at_s >= self.duration_s:
            raise ValueError(f"burst_at_s ({self.burst_at_s:g}) must fall inside duration_s ({self.duration_s:g})")
        return self


def build(params: PeakParams) -> LoadPlan:
    d = params.duration_s
    shape = spike_shape(
        base=params.rate,
        spike=params.rate * params.spike_factor,
        ramp_s=0.1 * d,
        hold_s=0.2 * d,
        spike_s=0.3 * d,
        recover_s=0.4 * d,
    )
    burst_at = 0.3 * d if params.burst_at_s is None else params.burst_at_s  # after ramp and hold
    burst = FaultStep(burst_at, "customer-burst", target="mock", params={"count": params.burst_customers})
    return LoadPlan(
        scenario="peak",
        **params.engine_fields(),
        phases=(Phase("burst", shape),),
        mix=(TaskWeight("customer_message"),),
        faults=(burst,) if params.burst_customers else (),
        criteria=(
            Criterion(
                "reply_latency_ms",
                params.reply_p95_ms,
                aggregation="p95",
                warn=params.reply_p95_ms * 1.5,
                weight=3,
                source=SOURCE,
            ),
            Criterion("reply_latency_drift_ratio", 1.5, aggregation="last_over_first_minute", weight=2, source=SOURCE),
            Criterion("error_rate", 0.01, aggregation="ratio", weight=2, source="market-figures.md #9"),
            Criterion("unanswered_ratio", 0.01, aggregation="ratio", weight=2, source=SOURCE),
        ),
    )


SCENARIO = Scenario(
    name="peak",
    summary="Black Friday burst: customers write in at once via signed webhooks; reply latency and its drift",
    params_model=PeakParams,
    build_plan=build,
    quick={"duration_s": 20, "rate": 5, "spike_factor": 3, "customers": 200, "drain_s": 3, "burst_customers": 100},
)
SCENARIOS.add(SCENARIO.name, SCENARIO)
