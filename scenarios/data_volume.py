"""data-volume: conversation search latency as the vendor's store grows; the growth factor between sizes.

market-figures.md #8: search took 0.8 s at 1 million conversations and 6 s at 5 million (7.5×). Each size is a
phase: the runner seeds the store up to that size (``vendor-seed``), then offers searches at ``rate``.
"""

from __future__ import annotations

from pydantic import Field, field_validator

from plan.load import Criterion, LoadPlan, Phase, SetupStep, TaskWeight
from plan.params import ScenarioParams
from plan.rates import ConstantRate
from scenarios.base import SCENARIOS, Scenario

SOURCE = "market-figures.md #8 (search 0.8 s at 1M conversations, 6 s at 5M: 7.5× slower)"


class DataVolumeParams(ScenarioParams):
    sizes: tuple[int, ...] = Field((100_000, 1_000_000, 5_000_000), min_length=1, max_length=10)
    phase_s: float = Field(60.0, ge=1, le=3600, description="search load per size")
    rate: float = Field(10.0, gt=0, le=2000, description="searches per second")
    growth_limit: float = Field(3.0, gt=1, description="SLA: p95 at the largest size ÷ p95 at the smallest")

    @field_validator("sizes")
    @classmethod
    def _increasing(cls, sizes: tuple[int, ...]) -> tuple[int, ...]:
        if any(size < 1 for size in sizes) or list(sizes) != sorted(set(sizes)):
            raise ValueError("sizes must be positive and strictly increasing, e.g. [100000, 1000000]")
        return sizes


def build(params: DataVolumeParams) -> LoadPlan:
    phases = tuple(
        Phase(
            f"size-{size}",
            ConstantRate(params.rate, params.phase_s),
            setup=(SetupStep("vendor-seed", {"conversations": size, "seed": 0}),),
        )
        for size in params.sizes
    )
    return LoadPlan(
        scenario="data-volume",
        **params.engine_fields(),
        phases=phases,
        mix=(TaskWeight("search_conversations"),),
        criteria=(
            Criterion(
                "search_growth_factor",
                params.growth_limit,
                aggregation="p95_last_over_first_phase",
                scope="search_conversations",
                weight=3,
                source=SOURCE,
            ),
            Criterion("latency_ms", 800.0, aggregation="p95", scope="search_conversations", weight=2, source=SOURCE),
        ),
        options={"sizes": list(params.sizes)},
    )


SCENARIO = Scenario(
    name="data-volume",
    summary="Conversation search latency as the store grows (seeded sizes); growth factor between sizes",
    params_model=DataVolumeParams,
    build_plan=build,
    unused={"duration_s": "set the load per store size instead: --param phase_s=S (one phase per entry of sizes)"},
    quick={"sizes": (500, 5000), "phase_s": 8, "rate": 5, "drain_s": 1},
    needs=("search_conversations",),
)
SCENARIOS.add(SCENARIO.name, SCENARIO)
