"""capacity: a stepped ramp; the ideal, practical and crash points.

market-figures.md #4: a professional vendor states ideal (200/s), practical (150/s ± 10%) and crash point
(300/s). The practical point is the highest step meeting the latency and error targets; the crash point the
step where errors pass 5% or throughput stops rising (design.md, Capacity).
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from plan.load import Criterion, LoadPlan, Phase, TaskWeight
from plan.params import ScenarioParams
from plan.rates import SteppedRate
from scenarios.base import SCENARIOS, Scenario

SOURCE = "market-figures.md #4 (ideal 200/s, practical 150/s ± 10%, crash 300/s)"


class CapacityParams(ScenarioParams):
    start_rate: float = Field(20.0, gt=0, le=10_000)
    step_rate: float = Field(20.0, gt=0, le=10_000)
    step_s: float = Field(30.0, ge=1, le=3600)
    steps: int = Field(15, ge=1, le=200)
    practical_target_rps: float = Field(150.0, gt=0, description="SLA: practical capacity at least this")
    latency_target_ms: float = Field(500.0, gt=0)
    pool_size: int = Field(400, ge=1, le=20_000)
    operation: Literal["send_text", "send_template", "upload_media", "send_media"] = Field(
        "send_text", description="the one operation of the staircase (calibration measures uploads this way)"
    )


def build(params: CapacityParams) -> LoadPlan:
    shape = SteppedRate(params.start_rate, params.step_rate, params.step_s, params.steps)
    return LoadPlan(
        scenario="capacity",
        **params.engine_fields(),
        phases=(Phase("staircase", shape),),
        mix=(TaskWeight(params.operation),),
        criteria=(
            Criterion(
                "capacity_practical_rps",
                params.practical_target_rps,
                aggregation="value",
                comparison=">=",
                weight=3,
                source=SOURCE,
            ),
            Criterion(
                "capacity_crash_rps",
                params.practical_target_rps * 2,
                aggregation="value",
                comparison=">=",
                weight=1,
                source=SOURCE,
            ),
        ),
        options={
            "steps": [shape.level_of_step(i) for i in range(params.steps)],
            "step_s": params.step_s,
            "latency_target_ms": params.latency_target_ms,
        },
    )


SCENARIO = Scenario(
    name="capacity",
    summary="Stepped ramp of the send rate; ideal, practical and crash points",
    params_model=CapacityParams,
    build_plan=build,
    unused={
        "duration_s": "set the staircase instead: --param steps=N --param step_s=S (its length is steps × step_s)",
        "rate": "set the staircase instead: --param start_rate=R --param step_rate=R",
    },
    quick={"start_rate": 5, "step_rate": 10, "step_s": 5, "steps": 4, "practical_target_rps": 20, "drain_s": 2},
)
SCENARIOS.add(SCENARIO.name, SCENARIO)
