"""broadcast: a template broadcast to a large segment plus live 1:1 traffic; delivery rate per minute, share
delayed beyond a bound, loss.

market-figures.md #2: 100,000 notifications on Black Friday; a stalled system delayed 15% by over 3 h. The
broadcast is offered as individual template sends at ``broadcast_rate`` (so any vendor's delivery can be joined
to the ledger by its correlation token); ``recipients`` / ``broadcast_rate`` gives the run length.
"""

from __future__ import annotations

from pydantic import Field

from plan.load import Criterion, LoadPlan, Phase, TaskWeight
from plan.params import ScenarioParams
from plan.rates import ConstantRate
from scenarios.base import SCENARIOS, Scenario

SOURCE = "market-figures.md #2 (100,000 promo messages; 15% delayed over 3 h by a stalled system)"


class BroadcastParams(ScenarioParams):
    recipients: int = Field(100_000, ge=1, le=10_000_000)
    rate: float = Field(200.0, gt=0, le=10_000, description="template sends per second (the broadcast's pace)")
    live_share: float = Field(0.05, ge=0, le=0.9, description="share of traffic that is live 1:1 text")
    delay_bound_s: float = Field(60.0, gt=0, description="a message later than this counts as delayed")
    customers: int = Field(100_000, ge=1, le=10_000_000)
    drain_s: float = Field(30.0, ge=0, le=3600)


def build(params: BroadcastParams) -> LoadPlan:
    total = params.recipients / (1 - params.live_share)
    duration = total / params.rate
    live_weight = round(100 * params.live_share)
    mix = [TaskWeight("send_template", 100 - live_weight)]
    if live_weight:
        mix.append(TaskWeight("send_text", live_weight))
    return LoadPlan(
        scenario="broadcast",
        **params.engine_fields(customers=min(params.customers, params.recipients)),
        phases=(Phase("broadcast", ConstantRate(params.rate, duration)),),
        mix=tuple(mix),
        criteria=(
            Criterion("lost_messages", 0, aggregation="count", critical=True, weight=3, source=SOURCE),
            Criterion(
                "delayed_share", 0.01, aggregation=f"delivery_over_{params.delay_bound_s:g}s", weight=3, source=SOURCE
            ),
            Criterion(
                "delivery_rate",
                0.95,
                aggregation="ratio",
                comparison=">=",
                weight=2,
                source="market-figures.md #10 (95% delivery success)",
            ),
            Criterion("error_rate", 0.01, aggregation="ratio", weight=1, source="market-figures.md #9"),
        ),
        options={"delay_bound_s": params.delay_bound_s, "recipients": params.recipients},
    )


SCENARIO = Scenario(
    name="broadcast",
    summary="Template broadcast to a large segment plus live 1:1 traffic; delivery per minute, delayed share, loss",
    params_model=BroadcastParams,
    build_plan=build,
    unused={
        "duration_s": (
            "set the broadcast's size instead: --param recipients=N "
            "(its length is recipients ÷ (1 − live_share) ÷ --rate)"
        )
    },
    quick={"recipients": 300, "rate": 30, "customers": 300, "drain_s": 5, "delay_bound_s": 10},
    needs=("send_template",),
)
SCENARIOS.add(SCENARIO.name, SCENARIO)
