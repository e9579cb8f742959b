"""webhook-storm: status and inbound webhooks at 3× the outbound rate; the vendor's acknowledgement latency.

Every outbound message makes the mock send sent, delivered and read statuses (three webhooks); customer
messages add inbound webhooks on top. Good receivers answer with a median under 250 ms and under 1% over 1 s
(design.md, Webhook acknowledgement).
"""

from __future__ import annotations

from pydantic import Field

from harness.loadgen.rates import ConstantRate
from scenarios.base import Criterion, LoadPlan, Phase, Scenario, ScenarioParams, TaskWeight

SOURCE = "design.md 'Webhook acknowledgement' (median under 250 ms, under 1% over 1 s)"


class WebhookStormParams(ScenarioParams):
    duration_s: float = Field(120.0, ge=5, le=24 * 3600)
    rate: float = Field(30.0, gt=0, le=5000, description="outbound sends plus inbound messages per second")
    inbound_share: float = Field(0.25, ge=0, le=0.9, description="share of slots that are customer messages")


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
        options={"statuses": ["sent", "delivered", "read"]},
    )


SCENARIO = Scenario(
    name="webhook-storm",
    summary="Status and inbound webhooks at 3× the outbound rate; the vendor's webhook acknowledgement latency",
    params_model=WebhookStormParams,
    build_plan=build,
    quick={"duration_s": 15, "rate": 10, "customers": 200, "drain_s": 4},
)
