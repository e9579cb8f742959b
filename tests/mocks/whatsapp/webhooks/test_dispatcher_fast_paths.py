"""The dispatcher's inlined hot paths agree with the general ones they shortcut (issue 21).

``submit`` builds a due-now delivery itself instead of calling ``_enqueue``; the workers run ``_begin``, the POST
and ``_end`` inline instead of awaiting ``_attempt`` (which ``pump`` still uses). Same deliveries, same records.
"""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ground.clock import FakeClock
from mocks.whatsapp.webhooks.config import WebhookConfig
from mocks.whatsapp.webhooks.dispatcher import Delivery, Dispatcher
from tests.mocks.whatsapp.webhooks.test_dispatcher import ScriptedTransport, statuses, sub


def shape(delivery: Delivery) -> tuple[object, ...]:
    return (
        delivery.id,
        delivery.subscription.id,
        delivery.kind,
        [update.wamid for update in delivery.updates],
        delivery.waiters,
        delivery.body,
        delivery.headers,
        delivery.attempt,
        delivery.due,
        delivery.generation,
    )


@settings(max_examples=60, deadline=None)
@given(
    delays=st.lists(st.sampled_from([0.0, -0.5, 0.25, 3.0]), min_size=1, max_size=40),
    queue_max=st.integers(min_value=1, max_value=45),
    advance=st.floats(min_value=0.0, max_value=5.0),
)
def test_submit_due_now_builds_what_enqueue_builds(delays: list[float], queue_max: int, advance: float) -> None:
    clock = FakeClock()
    clock.advance(advance)
    config = WebhookConfig(workers=1, queue_max=queue_max)
    fast = Dispatcher(config, clock=clock, transport=ScriptedTransport(clock))
    full = Dispatcher(config, clock=clock, transport=ScriptedTransport(clock))
    updates = statuses(len(delays))
    target = sub()
    for update, delay in zip(updates, delays, strict=False):
        assert fast.submit(update, target, delay_s=delay) == full._enqueue(update, target, delay)
    assert [shape(d) for d in fast._ready] == [shape(d) for d in full._ready]
    assert [(due, shape(d)) for due, _, d in fast._heap] == [(due, shape(d)) for due, _, d in full._heap]
    assert fast.counters == full.counters
    assert fast.stats()["pending_updates"] == full.stats()["pending_updates"]


@pytest.mark.anyio
async def test_the_workers_inline_attempt_records_what_pump_records() -> None:
    clock = FakeClock()
    updates = statuses(30)
    records = []
    for run in ("pump", "workers"):
        transport = ScriptedTransport(clock)
        dispatcher = Dispatcher(WebhookConfig(workers=3, batch_max=1), clock=clock, transport=transport)
        delivered: list[str] = []

        def note(delivery: Delivery, _at: float, seen: list[str] = delivered) -> None:
            seen.append(delivery.id)

        dispatcher.on_delivered.append(note)
        for update in updates:
            dispatcher.submit(update, sub())
        if run == "pump":
            await dispatcher.pump()
        else:
            await dispatcher.start()
            for _ in range(1000):
                if len(delivered) == len(updates):
                    break
                await asyncio.sleep(0)
            await dispatcher.stop()
        assert len(delivered) == len(updates)
        rows = sorted(dispatcher.log.rows, key=lambda row: int(row.delivery_id.removeprefix("whd_")))
        records.append(([row._replace(response_ms=0.0) for row in rows], sorted(transport.posts), dispatcher.counters))
    assert records[0] == records[1]
