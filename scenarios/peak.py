"""peak: the Black Friday burst. Customers write in at once through the mock (signed webhooks); the vendor
auto-replies. Measures reply latency over time and its drift from minute 1 to minute 5.

market-figures.md #1: 3,000 consumers ask "discount code?" at once; system A drifted 1.2 s → 8.5 s by minute 5,
system B held 2 s ± 0.3 s.
"""

from __future__ import annotations

from pydantic import Field

from harness.loadgen.rates import spike_shape
from scenarios.base import Criterion, LoadPlan, Phase, Scenario, ScenarioParams, TaskWeight

SOURCE = "market-figures.md #1 (peak burst: reply held at 2 s ± 0.3 s by the winner)"


class PeakParams(ScenarioParams):
    duration_s: float = Field(300.0, ge=5, le=4 * 3600)
    rate: float = Field(20.0, gt=0, le=5000, description="baseline customer messages per second")
    spike_factor: float = Field(5.0, ge=1, le=100, description="the burst's rate as a multiple of the baseline")
    customers: int = Field(3000, ge=1, le=1_000_000)
    reply_p95_ms: float = Field(2000.0, gt=0, description="SLA: reply latency p95")


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
    return LoadPlan(
        scenario="peak",
        **params.engine_fields(),
        phases=(Phase("burst", shape),),
        mix=(TaskWeight("customer_message"),),
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
    quick={"duration_s": 20, "rate": 5, "spike_factor": 3, "customers": 200, "drain_s": 3},
)
