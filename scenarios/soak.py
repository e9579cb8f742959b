"""soak: hours of business-day traffic, the week's curve compressed into the run; hourly drift of latency and
errors, and the candidate's memory when its process is observable.

market-figures.md #7 (8-hour operator day; system E degraded after hour 6) and "Traffic shape" (72% of traffic
Mon–Fri 09:00–18:00, busiest hour Monday 10:00).
"""

from __future__ import annotations

from pydantic import Field

from plan.load import Criterion, LoadPlan, Phase, TaskWeight
from plan.params import ScenarioParams
from plan.rates import BusinessDayRate
from scenarios.base import SCENARIOS, Scenario

SOURCE = "market-figures.md #7 (8-hour soak; degradation after hour 6 on system E)"


class SoakParams(ScenarioParams):
    duration_s: float = Field(8 * 3600.0, ge=10, le=7 * 24 * 3600, description="the compressed week's length")
    rate: float = Field(20.0, gt=0, le=5000, description="peak rate, reached in the Monday 10:00 hour")
    p95_slope_ms_per_hour: float = Field(50.0, gt=0)


def build(params: SoakParams) -> LoadPlan:
    return LoadPlan(
        scenario="soak",
        **params.engine_fields(),
        phases=(Phase("week", BusinessDayRate(peak_rate=params.rate, duration_s=params.duration_s)),),
        mix=(TaskWeight("send_text", 8), TaskWeight("customer_message", 2), TaskWeight("search_conversations", 1)),
        criteria=(
            Criterion(
                "latency_p95_slope_ms_per_hour",
                params.p95_slope_ms_per_hour,
                aggregation="theil_sen",
                weight=3,
                source=SOURCE,
            ),
            Criterion(
                "error_rate",
                0.008,
                aggregation="ratio",
                weight=2,
                source="market-figures.md #9 (0.8% API errors on cheap systems)",
            ),
            Criterion("lost_messages", 0, aggregation="count", critical=True, weight=2, source=SOURCE),
        ),
        options={"sample_vendor_memory": True},
    )


SCENARIO = Scenario(
    name="soak",
    summary="Business-day week compressed into the run; hourly latency and error drift, vendor memory if visible",
    params_model=SoakParams,
    build_plan=build,
    quick={"duration_s": 30, "rate": 10, "customers": 200, "drain_s": 3},
)
SCENARIOS.add(SCENARIO.name, SCENARIO)
