"""failover: steady load, then the primary is killed (process, container or proxy, as the vendor profile's
``failover.method`` says), held down, and restored; recovery times and lost/duplicated messages.

market-figures.md #6: high-end systems fail over automatically within 90 s; a 5-minute contract clause.
"""

from __future__ import annotations

from pydantic import Field, model_validator

from plan.load import Criterion, FaultStep, LoadPlan, Phase, TaskWeight
from plan.params import ScenarioParams
from plan.rates import ConstantRate
from scenarios.base import SCENARIOS, Scenario

SOURCE = "market-figures.md #6 (automatic failover within 90 s; 5 minutes as a contract clause)"


class FailoverParams(ScenarioParams):
    duration_s: float = Field(300.0, ge=5, le=24 * 3600)
    rate: float = Field(20.0, gt=0, le=5000)
    kill_at_s: float = Field(60.0, ge=0)
    down_s: float = Field(30.0, ge=0, description="how long the primary stays down before it is restored")
    rto_s: float = Field(90.0, gt=0, description="SLA: sustained recovery within this many seconds")
    stall: bool = Field(False, description="freeze the primary (SIGSTOP/SIGCONT) instead of killing it")
    drain_s: float = Field(15.0, ge=0, le=3600)
    # design.md "Recovery": sustained = the first window at target whose confirmation period also holds it.
    recovery_short_window_s: float = Field(10.0, gt=0, le=600, description="window that must meet the target")
    recovery_confirm_s: float = Field(60.0, ge=0, le=3600, description="how long after it the target must hold")

    @model_validator(mode="after")
    def _kill_inside_run(self) -> FailoverParams:
        if self.kill_at_s >= self.duration_s:
            raise ValueError(f"kill_at_s ({self.kill_at_s:g}) must fall inside duration_s ({self.duration_s:g})")
        return self


def build(params: FailoverParams) -> LoadPlan:
    return LoadPlan(
        scenario="failover",
        **params.engine_fields(),
        phases=(Phase("steady", ConstantRate(params.rate, params.duration_s)),),
        mix=(TaskWeight("send_text"),),
        faults=(
            FaultStep(
                params.kill_at_s,
                "process-freeze" if params.stall else "failover",
                target="primary",
                duration_s=params.down_s,
            ),
        ),
        criteria=(
            Criterion("lost_messages", 0, aggregation="count", critical=True, weight=3, source=SOURCE),
            Criterion(
                "sustained_recovery_s",
                params.rto_s,
                aggregation="max",
                critical=True,
                weight=3,
                warn=300.0,
                source=SOURCE,
            ),
            Criterion("first_success_s", params.rto_s, aggregation="max", weight=1, source=SOURCE),
            Criterion("duplicated_messages", 0, aggregation="count", weight=1, source=SOURCE),
        ),
    )


SCENARIO = Scenario(
    name="failover",
    summary="Steady load; the primary is killed, held down and restored; recovery times, lost and duplicated",
    params_model=FailoverParams,
    build_plan=build,
    # The quick size shortens the recovery windows too, so a sustained recovery fits inside 30 s.
    quick={
        "duration_s": 30,
        "rate": 10,
        "kill_at_s": 8,
        "down_s": 6,
        "drain_s": 5,
        "recovery_short_window_s": 2,
        "recovery_confirm_s": 8,
    },
)
SCENARIOS.add(SCENARIO.name, SCENARIO)
