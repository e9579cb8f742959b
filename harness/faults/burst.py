"""``customer-burst``: N simulated customers write in at the same moment (the peak scenario's Black Friday burst).

Not a failure but a timed event on the run's clock, so it rides the fault schedule: it happens at its offset from
the load's start and its start and end are on the timeline. The inject is one call to the mock's batch route
(``POST /_mock/customers/messages`` with ``{"generate": {"count": N, ...}}``): the mock queues N seeded customers'
messages at once and delivers them to the vendor as signed webhooks, as fast as its delivery pool goes. Their
replies are measured from the mock's ledger like every other customer message. A burst the mock could not queue
whole (its queue was full) is a failed action: recorded with how many were dropped. Clearing does nothing.
"""

from __future__ import annotations

from typing import Any, ClassVar

from pydantic import Field

from ground.errors import FaultError
from harness.faults.base import FaultParams, FaultTargets, UpstreamTarget, register_fault
from harness.faults.upstream import control_call

BURST_MAX = 100_000  # the mock's batch limit per call


class BurstParams(FaultParams):
    count: int = Field(ge=1, le=BURST_MAX, description="customers who write in at once")
    start_index: int = Field(0, ge=0, description="first simulated customer (customers start_index .. + count - 1)")
    intent: int | None = Field(0, ge=0, description="0 = 'do you have a discount code?' in each customer's language")
    phone_number_id: str | None = Field(None, description="the business number they write to; null = the mock's")


@register_fault("customer-burst")
class CustomerBurst:
    """``count`` customers' messages queued at the mock in one call."""

    Params = BurstParams
    name: ClassVar[str]

    def __init__(self, params: BurstParams, upstream: UpstreamTarget, target_name: str) -> None:
        self.params = params
        self.upstream = upstream
        self._target = f"upstream:{target_name or 'whatsapp'}"
        self.queued: int | None = None

    @property
    def target(self) -> str:
        return self._target

    @classmethod
    def build(cls, params: Any, targets: FaultTargets, target: str) -> CustomerBurst:
        return cls(params, targets.pick("upstream", target), target)

    def body(self) -> dict[str, Any]:
        p = self.params
        generate: dict[str, Any] = {"count": p.count, "start_index": p.start_index, "intent": p.intent}
        if p.phone_number_id is not None:
            generate["phone_number_id"] = p.phone_number_id
        return {"generate": generate}

    def inject(self) -> None:
        answer = control_call(self.upstream, "POST", "/_mock/customers/messages", json=self.body(), ok=(202,))
        self.queued = int(answer.get("queued", 0))
        if self.queued < self.params.count:
            raise FaultError(
                f"the mock queued {self.queued} of {self.params.count} burst messages "
                f"({answer.get('dropped', '?')} dropped: its webhook queue was full)"
            )

    def clear(self) -> None:
        """A burst cannot be taken back; its messages are delivered (or retried) by the mock."""
