"""throttle: the mock throttles the business number (130429) and a customer pair (131056) while the vendor
sends; does it queue and retry without loss, and how late do messages arrive?

market-figures.md #12: 60–120 messages/minute per number, new numbers about 20/minute, a quality flag can cut a
number to 5/minute. The throttle is an upstream fault on the mock's limits for a window of the run.
"""

from __future__ import annotations

from pydantic import Field

from plan.load import Criterion, FaultStep, LoadPlan, Phase, TaskWeight
from plan.params import ScenarioParams
from plan.rates import ConstantRate
from scenarios.base import SCENARIOS, Scenario

SOURCE = "market-figures.md #12 (per-number limits; a flagged number cut to 5/minute)"


class ThrottleParams(ScenarioParams):
    duration_s: float = Field(120.0, ge=5, le=24 * 3600)
    rate: float = Field(20.0, gt=0, le=5000, description="sends offered per second")
    throttle_at_s: float = Field(20.0, ge=0)
    throttle_s: float = Field(60.0, gt=0)
    throughput_per_second: float = Field(5.0, gt=0, description="the number's limit while throttled")
    pair_share: float = Field(0.1, ge=0, le=1, description="share of sends aimed at one hot customer (131056)")
    delivery_p95_ms: float = Field(60_000.0, gt=0)
    drain_s: float = Field(60.0, ge=0, le=3600)


def build(params: ThrottleParams) -> LoadPlan:
    return LoadPlan(
        scenario="throttle",
        **params.engine_fields(),
        phases=(Phase("throttled", ConstantRate(params.rate, params.duration_s)),),
        mix=(TaskWeight("send_text"),),
        faults=(
            FaultStep(
                params.throttle_at_s,
                "upstream-throttle",
                target="mock",
                duration_s=params.throttle_s,
                params={"throughput_per_second": params.throughput_per_second},
            ),
        ),
        criteria=(
            Criterion("lost_messages", 0, aggregation="count", critical=True, weight=3, source=SOURCE),
            Criterion("delivery_latency_ms", params.delivery_p95_ms, aggregation="p95", weight=2, source=SOURCE),
            Criterion(
                "delivery_rate", 0.95, aggregation="ratio", comparison=">=", weight=2, source="market-figures.md #10"
            ),
        ),
        options={"pair_share": params.pair_share},
    )


SCENARIO = Scenario(
    name="throttle",
    summary="The mock throttles the number (130429) and a pair (131056); queue-and-retry without loss, lateness",
    params_model=ThrottleParams,
    build_plan=build,
    quick={
        "duration_s": 20,
        "rate": 10,
        "throttle_at_s": 4,
        "throttle_s": 8,
        "throughput_per_second": 3,
        "drain_s": 15,
    },
)
SCENARIOS.add(SCENARIO.name, SCENARIO)
