"""The outbound pipeline: retry with backoff on throttling, give-up on permanent errors, pacing, loss."""

from __future__ import annotations

import asyncio
import random

import pytest

from ground.clock import FakeClock
from mocks.vendors.graph import GraphError
from mocks.vendors.ratelimit import TokenBucket
from mocks.vendors.settings import RetrySettings
from tests.mocks.vendors.conftest import wait_until
from tests.mocks.vendors.fake_graph import FakeGraph

FAST_RETRY = {"retry": {"base_s": 0.01, "max_s": 0.02, "max_attempts": 5}}


@pytest.mark.parametrize("durable", [True, False])
def test_throttling_and_server_errors_are_retried_until_sent(in_process_vendor, durable):
    graph = FakeGraph(script=[(400, 130429), (400, 131056), (503, 131016), (500, 131000)])
    vendor = in_process_vendor(graph=graph, durable_queue=durable, workers=1, **FAST_RETRY)
    message_id = vendor.post("/api/messages", {"to": "4915100000001", "text": "sb-abc123-1"}).json()["id"]
    sent = wait_until(lambda: (m := vendor.message(message_id))["status"] == "sent" and m)
    assert sent["attempts"] == 5
    assert graph.texts() == ["sb-abc123-1"]  # delivered once, after four refusals
    assert vendor.state.outbound.counts["retried"] == 4


def test_a_permanent_error_fails_the_message_without_retry(in_process_vendor):
    graph = FakeGraph(script=[(400, 131047)])
    vendor = in_process_vendor(graph=graph, **FAST_RETRY)
    message_id = vendor.post("/api/messages", {"to": "4915100000001", "text": "late"}).json()["id"]
    failed = wait_until(lambda: (m := vendor.message(message_id))["status"] == "failed" and m)
    assert "131047" in failed["error"] and failed["attempts"] == 1
    assert graph.calls == 1


def test_retries_stop_after_max_attempts(in_process_vendor):
    graph = FakeGraph(script=[(400, 130429)] * 10)
    vendor = in_process_vendor(graph=graph, retry={"base_s": 0.005, "max_s": 0.01, "max_attempts": 3})
    message_id = vendor.post("/api/messages", {"to": "4915100000001", "text": "x"}).json()["id"]
    wait_until(lambda: vendor.message(message_id)["status"] == "failed")
    assert graph.calls == 3


def test_graph_error_classification():
    assert GraphError("x", 130429, 400).retryable
    assert GraphError("x", 131056, 429).retryable
    assert GraphError("x", None, 502).retryable
    assert GraphError("connect", None, 0).retryable
    assert not GraphError("x", 131047, 400).retryable
    assert not GraphError("x", 100, 400).retryable


def test_backoff_doubles_up_to_its_cap():
    retry = RetrySettings(base_s=0.5, max_s=3.0)
    assert [retry.delay(n) for n in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]


def test_token_bucket_paces_to_its_rate_on_a_fake_clock():
    clock = FakeClock()
    bucket = TokenBucket(rate_per_s=10.0, burst=5, clock=clock)
    start = clock.monotonic()

    async def take(n: int) -> None:
        for _ in range(n):
            await bucket.acquire()

    asyncio.run(take(25))
    # 5 from the burst, then 20 more at 10/s: two seconds of fake time, not one more.
    assert clock.monotonic() - start == pytest.approx(2.0, abs=0.01)


def test_lossy_acknowledges_then_drops_under_pressure_and_lists_every_drop(in_process_vendor):
    vendor = in_process_vendor("lossy", loss_queue_threshold=0, loss_fraction=0.3, seed=7, service_ms=0.0)
    ids = [vendor.post("/api/messages", {"to": f"49151000{i:05d}", "text": f"m{i}"}).json()["id"] for i in range(40)]
    stats = vendor.get("/_vendor/stats").json()["outbound"]
    dropped = set(stats["dropped_ids"])
    expected_rng = random.Random(7)
    assert len(dropped) == sum(expected_rng.random() < 0.3 for _ in ids)  # the seeded truth, exactly
    wait_until(lambda: len(vendor.graph.sent) == len(ids) - len(dropped), what="all kept messages sent")
    sent_texts = set(vendor.graph.texts())
    for index, message_id in enumerate(ids):
        assert (f"m{index}" in sent_texts) == (message_id not in dropped)
        if message_id in dropped:
            assert vendor.message(message_id)["status"] == "queued"  # the vendor never admits the loss


def test_a_job_in_flight_keeps_its_lease_and_is_sent_once(in_process_vendor):
    # The Graph call takes longer than the lease: without renewal a second worker would claim and resend it.
    vendor = in_process_vendor(workers=4, lease_s=0.3, service_ms=900.0)
    message_id = vendor.post("/api/messages", {"to": "4915100000001", "text": "once"}).json()["id"]
    wait_until(lambda: vendor.message(message_id)["status"] == "sent")
    wait_until(lambda: vendor.state.outbound.queue.depth() == 0)
    assert vendor.graph.texts() == ["once"]


def test_a_restarted_instance_takes_back_the_jobs_its_previous_life_claimed(in_process_vendor, tmp_path):
    from mocks.vendors.storage import Store

    db = tmp_path / "shared.sqlite3"
    store = Store(db)
    payload = (
        '{"messaging_product": "whatsapp", "to": "4915100000001", "type": "text", "text": {"body": "left behind"}}'
    )
    store.conn.execute(
        "INSERT INTO messages(id, direction, wa_id, type, body, status, payload)"
        " VALUES ('msg_old', 'out', '4915100000001', 'text', 'left behind', 'queued', ?)",
        (payload,),
    )
    # Claimed by this instance's previous life, with a lease far in the future: it died holding the job.
    store.conn.execute(
        "INSERT INTO outbox(message_id, available_at, claimed_by, claimed_until) VALUES ('msg_old', 0, 'ref-1', 9e12)"
    )
    store.close()
    vendor = in_process_vendor(db_path=str(db), instance="ref-1")
    wait_until(lambda: vendor.message("msg_old")["status"] == "sent", what="the orphaned job sent")
    assert vendor.graph.texts() == ["left behind"]
