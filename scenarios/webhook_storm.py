"""webhook-storm: status and inbound webhooks at 3× the outbound rate; the vendor's acknowledgement latency.

Every outbound message makes the mock send ``statuses`` status webhooks: sent and delivered, and read when 3
(the default). The scenario sets the mock's status ladder so that this holds for every message (no message
fails, every customer has read receipts on and reads it, never delivered and read at once, each step within
1.5 s so the run's drain sees the last one); the mock's own defaults would give about 2.5 per message. Customer
messages add inbound webhooks on top. Good receivers answer with a median under 250 ms and under 1% over 1 s
(design.md, Webhook acknowledgement).
"""

from __future__ import annotations

from typing import Any

from pydantic import Field

from plan.load import Criterion, LoadPlan, Phase, TaskWeight
from plan.params import ScenarioParams
from plan.rates import ConstantRate
from scenarios.base import SCENARIOS, Scenario

SOURCE = "design.md 'Webhook acknowledgement' (median under 250 ms, under 1% over 1 s)"


class WebhookStormParams(ScenarioParams):
    duration_s: float = Field(120.0, ge=5, le=24 * 3600)
    rate: float = Field(30.0, gt=0, le=5000, description="outbound sends plus inbound messages per second")
    inbound_share: float = Field(0.25, ge=0, le=0.9, description="share of slots that are customer messages")
    statuses: int = Field(3, ge=2, le=3, description="status webhooks per outbound message: 2 sent+delivered, 3 +read")


STEPS = ("sent", "delivered", "read")


def status_ladder(statuses: int) -> dict[str, Any]:
    """The mock's ``webhooks.ladder`` settings that give exactly ``statuses`` status webhooks per message."""
    return {
        "enabled": True,
        "failed_rate": 0.0,
        "read_share": 1.0 if statuses == 3 else 0.0,
        "read_receipts_off_share": 0.0,
        "skip_delivered_share": 0.0,  # delivered before every read, so the count holds
        # Bounded delays (at most 1.5 s after the previous step): a storm, and every status inside the drain.
        "sent": {"distribution": "uniform", "min_ms": 50, "max_ms": 500},
        "delivered": {"distribution": "uniform", "min_ms": 100, "max_ms": 1000},
        "read": {"distribution": "uniform", "min_ms": 200, "max_ms": 1500},
    }


def build(params: WebhookStormParams) -> LoadPlan:
    inbound = round(100 * params.inbound_share)
    mix = [TaskWeight("send_text", 100 - inbound)]
    if inbound:
        mix.append(TaskWeight("customer_message", inbound))
    return LoadPlan(
        scenario="webhook-storm",
        **params.engine_fields(),
        phases=(Phase("storm", ConstantRate(params.rate, params.duration_s)),),
        mix=tuple(mix),
        criteria=(
            Criterion("webhook_ack_ms", 250.0, aggregation="p50", weight=2, source=SOURCE),
            Criterion("webhook_ack_over_1s_share", 0.01, aggregation="ratio", weight=2, source=SOURCE),
            Criterion("webhook_failure_rate", 0.01, aggregation="ratio", weight=1, source=SOURCE),
        ),
        options={"statuses": list(STEPS[: params.statuses])},
        mock_settings={"webhooks": {"ladder": status_ladder(params.statuses)}},
    )


SCENARIO = Scenario(
    name="webhook-storm",
    summary="Status and inbound webhooks at 3× the outbound rate; the vendor's webhook acknowledgement latency",
    params_model=WebhookStormParams,
    build_plan=build,
    quick={"duration_s": 15, "rate": 10, "customers": 200, "drain_s": 5},
)
SCENARIOS.add(SCENARIO.name, SCENARIO)
