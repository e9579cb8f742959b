from __future__ import annotations

import asyncio
import itertools
from dataclasses import dataclass, field

import pytest

from ground.clock import FakeClock, SystemClock
from mocks.whatsapp.webhooks.config import Delay, LadderConfig, WebhookConfig
from mocks.whatsapp.webhooks.dispatcher import Dispatcher
from mocks.whatsapp.webhooks.ladder import StatusLadder
from mocks.whatsapp.webhooks.payloads import Update
from mocks.whatsapp.webhooks.retry import RetryPolicy
from mocks.whatsapp.webhooks.signing import verify
from mocks.whatsapp.webhooks.subscriptions import Subscription
from mocks.whatsapp.webhooks.transport import HttpxTransport, PostResult
from tests.fixtures.webhook_receiver import WebhookReceiver
from tests.mocks.whatsapp.webhooks.helpers import inbound, outbound

pytestmark = pytest.mark.anyio


@dataclass
class ScriptedTransport:
    """An in-memory receiver for fake-clock tests: answers ``status`` (0 = connection refused) and records."""

    clock: FakeClock
    status: int = 200
    posts: list[tuple[float, str, bytes, dict[str, str]]] = field(default_factory=list)

    async def post(self, url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> PostResult:
        self.posts.append((self.clock.monotonic(), url, body, headers))
        if self.status == 0:
            return PostResult(0, "connect_error", "ConnectError: refused")
        return PostResult(self.status, "ok" if self.status == 200 else "http_error")

    async def aclose(self) -> None:
        return None


def sub(url: str = "http://127.0.0.1:9/webhook") -> Subscription:
    return Subscription(id="sub_1", callback_url=url, verify_token="v", app_secret="mock-app-secret", verified=True)


def statuses(n: int) -> list[Update]:
    ladder = StatusLadder(LadderConfig(failed_rate=0.0, read_share=0.0), seed=1)
    return [update for i in range(n) for _, update in ladder.updates(outbound(i))]


async def drain(dispatcher: Dispatcher, clock: FakeClock, max_rounds: int = 10_000) -> None:
    """Run the dispatcher on the fake clock until nothing is left: pump, jump to the next due time, repeat."""
    for _ in range(max_rounds):
        await dispatcher.pump()
        next_due = dispatcher.stats()["next_due_in_s"]
        if next_due is None:
            return
        clock.advance(max(next_due, 1e-6))  # the fake clock counts from 1.75e9 s: sub-µs steps vanish
    raise AssertionError("dispatcher did not drain")


def delivered_keys(transport: ScriptedTransport) -> list[tuple[str, str]]:
    import json

    keys = []
    for _, _, body, _ in transport.posts:
        for entry in json.loads(body)["entry"]:
            for change in entry["changes"]:
                keys += [(s["id"], s["status"]) for s in change["value"].get("statuses", [])]
                keys += [(m["id"], "message") for m in change["value"].get("messages", [])]
    return keys


async def test_batches_up_to_n_updates_per_signed_post() -> None:
    clock = FakeClock()
    transport = ScriptedTransport(clock)
    dispatcher = Dispatcher(WebhookConfig(batch_max=10), clock=clock, transport=transport)
    updates = statuses(13)  # 26 updates: sent + delivered each
    for update in updates:
        dispatcher.submit(update, sub())
    await drain(dispatcher, clock)
    sizes = [len(delivered_keys(ScriptedTransport(clock, posts=[post]))) for post in transport.posts]
    assert sizes == [10, 10, 6]
    assert sorted(delivered_keys(transport)) == sorted((u.wamid, u.body["status"]) for u in updates)
    for _, _, body, headers in transport.posts:
        assert verify("mock-app-secret", body, headers["X-Hub-Signature-256"])
    rows = dispatcher.log.rows
    assert [r.outcome for r in rows] == ["ok"] * 3 and all(r.kind == "status" for r in rows)
    assert len(rows[0].wamids.split(",")) == 10


async def test_duplicates_and_reordering_happen_at_the_configured_rates_and_reproduce() -> None:
    async def run_once() -> list[tuple[str, str]]:
        clock = FakeClock()
        transport = ScriptedTransport(clock)
        config = WebhookConfig(seed=11, duplicate_rate=0.1, reorder_rate=0.2, reorder_delay=Delay(ms=1000))
        dispatcher = Dispatcher(config, clock=clock, transport=transport)
        for i, update in enumerate(statuses(1000)):
            dispatcher.submit(update, sub(), delay_s=i * 0.01)
        await drain(dispatcher, clock)
        return delivered_keys(transport)

    first, second = await run_once(), await run_once()
    assert first == second  # same seed, same wire sequence
    unique = set(first)
    assert len(unique) == 2000  # nothing lost
    duplicates = len(first) - len(unique)
    assert 2000 * 0.1 - 5 * 13.4 <= duplicates <= 2000 * 0.1 + 5 * 13.4
    submitted_order = [(u.wamid, u.body["status"]) for u in statuses(1000)]
    firsts = list(dict.fromkeys(first))
    rank = {key: n for n, key in enumerate(submitted_order)}
    overtaken = sum(1 for a, b in itertools.pairwise(firsts) if rank[a] > rank[b])
    assert overtaken > 50  # held-back updates arrive after later ones


async def test_retries_follow_the_schedule_then_drop_after_the_horizon() -> None:
    clock = FakeClock()
    transport = ScriptedTransport(clock, status=500)
    config = WebhookConfig(time_compression=10080.0)
    dispatcher = Dispatcher(config, clock=clock, transport=transport)
    dispatcher.submit(statuses(1)[0], sub())
    start = clock.monotonic()
    await drain(dispatcher, clock)
    offsets = [at - start for at, *_ in transport.posts]
    assert offsets == pytest.approx([0.0, *RetryPolicy(time_compression=10080.0).schedule()], abs=1e-5)
    assert offsets[-1] <= 60.0
    assert [r.attempt for r in dispatcher.log.rows] == list(range(len(offsets)))
    assert {r.outcome for r in dispatcher.log.rows} == {"http_error"}
    assert len({r.delivery_id for r in dispatcher.log.rows}) == 1
    assert len({body for _, _, body, _ in transport.posts}) == 1  # a retry resends the same signed bytes
    stats = dispatcher.stats()
    assert stats["dropped_horizon"] == 1 and stats["pending_updates"] == 0


async def test_a_2xx_other_than_200_is_retried() -> None:
    clock = FakeClock()
    transport = ScriptedTransport(clock, status=202)
    dispatcher = Dispatcher(WebhookConfig(time_compression=10080.0), clock=clock, transport=transport)
    dispatcher.submit(statuses(1)[0], sub())
    await dispatcher.pump()
    transport.status = 200
    await drain(dispatcher, clock)
    assert [r.http_status for r in dispatcher.log.rows] == [202, 202, 200]  # first retry is immediate


async def test_full_queue_drops_new_updates_and_counts_them() -> None:
    clock = FakeClock()
    dispatcher = Dispatcher(WebhookConfig(queue_max=10), clock=clock, transport=ScriptedTransport(clock))
    accepted = [dispatcher.submit(update, sub(), delay_s=5.0) for update in statuses(8)]
    assert accepted == [True] * 10 + [False] * 6
    assert dispatcher.stats()["dropped_overflow"] == 6
    assert dispatcher.stats()["scheduled"] == 10


async def test_receiver_down_then_up_loses_nothing_within_the_horizon(webhook_receiver: WebhookReceiver) -> None:
    """A real receiver on loopback, the fake clock for the retry schedule."""
    clock = FakeClock()
    config = WebhookConfig(time_compression=10080.0, batch_max=5)
    dispatcher = Dispatcher(config, clock=clock, transport=HttpxTransport(8))
    target = sub(webhook_receiver.url)
    webhook_receiver.down()
    updates = statuses(20) + [inbound(n) for n in range(5)]
    for update in updates:
        dispatcher.submit(update, target)
    for _ in range(3):  # first try and a few retries hit a closed port
        await dispatcher.pump()
        clock.advance(dispatcher.stats()["next_due_in_s"] or 0.0)
    assert dispatcher.stats()["pending_updates"] == len(updates)
    webhook_receiver.up()
    await drain(dispatcher, clock)
    await dispatcher.stop()
    got = {(body["id"], body.get("status", "message")) for _, body in webhook_receiver.updates()}
    assert got == {(u.wamid, u.body.get("status", "message")) for u in updates}
    assert all(r.signature_ok for r in webhook_receiver.received)
    outcomes = [r.outcome for r in dispatcher.log.rows]
    assert "connect_error" in outcomes and outcomes.count("ok") == len(webhook_receiver.received)
    assert dispatcher.stats()["dropped_horizon"] == 0


async def test_running_pool_delivers_and_the_first_attempt_answers_the_waiter(
    webhook_receiver: WebhookReceiver,
) -> None:
    dispatcher = Dispatcher(WebhookConfig(workers=4), clock=SystemClock(), transport=HttpxTransport(4))
    await dispatcher.start()
    try:
        future = dispatcher.submit_now(inbound(1), sub(webhook_receiver.url))
        assert future is not None
        result = await asyncio.wait_for(future, 30)
        assert (result.status, result.delivered) == (200, True)
        webhook_receiver.answer(status=503)
        failing = dispatcher.submit_now(inbound(2), sub(webhook_receiver.url))
        assert failing is not None
        result = await asyncio.wait_for(failing, 30)
        assert (result.status, result.outcome, result.delivered) == (503, "http_error", False)
    finally:
        await dispatcher.stop()
    received = webhook_receiver.received[0]
    assert received.headers["user-agent"] == "facebookexternalua" and received.signature_ok
