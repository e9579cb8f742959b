"""The mock's own truth (mocks/whatsapp/health.py): loop lag, service time and webhook queue lag per second,
served under ``"health"`` in ``GET /_mock/stats``."""

from __future__ import annotations

import asyncio
import os
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette

from ground.clock import FakeClock, SystemClock
from mocks.whatsapp.app import create_app
from mocks.whatsapp.config import MockConfig, PhoneNumberConfig
from mocks.whatsapp.health import MockHealth, WindowedSamples, worst
from mocks.whatsapp.webhooks.config import WebhookConfig
from mocks.whatsapp.webhooks.dispatcher import Dispatcher
from mocks.whatsapp.webhooks.payloads import Update
from mocks.whatsapp.webhooks.subscriptions import Subscription
from mocks.whatsapp.webhooks.transport import PostResult
from tests.fixtures.mock_server import MockServer, start_mock_server
from tests.fixtures.webhook_receiver import WebhookReceiver
from tests.mocks.whatsapp.helpers import ADMIN, SEND, template, two_free_ports
from tests.mocks.whatsapp.webhooks.helpers import inbound

pytestmark = pytest.mark.anyio

KEYS = [
    "window_s",
    "window_end",
    "pid",
    "loop_lag_ms_p95",
    "loop_lag_ms_max",
    "service_ms_p95",
    "service_ms_max",
    "requests",
    "webhook_queue_lag_ms_p95",
    "webhook_queue_lag_ms_max",
]


async def _health(client: httpx.AsyncClient) -> dict:
    response = await client.get("/_mock/stats", headers=ADMIN)
    assert response.status_code == 200, response.text
    return response.json()["health"]  # type: ignore[no-any-return]


# ---- windows on a fake clock (pure) ----------------------------------------------------------------------------


def test_windows_describe_the_last_completed_second() -> None:
    clock = FakeClock(start=1_750_000_000.25)  # windows still end on whole Unix seconds
    health = MockHealth(clock)
    empty = health.snapshot()
    assert list(empty) == KEYS and empty["pid"] == os.getpid() and empty["window_s"] == 1.0
    assert empty["window_end"] == 1_750_000_000.0 and empty["requests"] == 0
    assert all(empty[key] is None for key in KEYS if key.endswith(("_p95", "_max")))

    for ms in range(1, 101):  # 100 requests of 1..100 ms in the window ending at ...001
        health.service.add(float(ms), clock.monotonic())
    health.loop_lag.add(3.5, clock.monotonic())
    clock.advance(0.5)
    assert health.snapshot()["requests"] == 0  # that window is still open
    health.service.add(7.0, clock.monotonic())
    clock.advance(0.5)  # ...001.25
    health.service.add(1000.0, clock.monotonic())  # in the open window: not reported yet
    window = health.snapshot()
    assert window["window_end"] == 1_750_000_001.0 and window["requests"] == 101
    assert window["service_ms_p95"] == 95.0 and window["service_ms_max"] == 100.0  # nearest rank 96 of 101
    assert window["loop_lag_ms_p95"] == window["loop_lag_ms_max"] == 3.5
    assert window["webhook_queue_lag_ms_p95"] is None and window["webhook_queue_lag_ms_max"] is None

    clock.advance(1.0)
    following = health.snapshot()
    assert following["window_end"] == 1_750_000_002.0 and following["requests"] == 1
    assert following["service_ms_max"] == 1000.0 and following["loop_lag_ms_max"] is None
    clock.advance(2.5)  # quiet seconds: the last completed window is empty, not the last one with samples
    quiet = health.snapshot()
    assert quiet["window_end"] == 1_750_000_004.0 and quiet["requests"] == 0 and quiet["service_ms_max"] is None


def test_a_window_keeps_bounded_samples_but_exact_count_and_max() -> None:
    window = WindowedSamples(offset=0.0, capacity=500, seed=7)
    values = [float((i * 7919) % 10_000) for i in range(20_000)]  # 0..9999 twice, shuffled
    for value in values:
        window.add(value, 10.5)
    assert len(window._samples) == 500
    end, count, p95, top = window.completed(11.0)
    assert end == 11.0 and count == 20_000 and top == 9999.0
    assert p95 is not None and 9000 <= p95 <= 9999  # a uniform reservoir's p95 is close to the true 9500


def test_worst_of_the_shards() -> None:
    base = dict.fromkeys(KEYS)
    one = {**base, "window_s": 1.0, "window_end": 10.0, "pid": 1, "requests": 5, "loop_lag_ms_max": 2.0}
    two = {**base, "window_s": 1.0, "window_end": 11.0, "pid": 2, "requests": 7, "loop_lag_ms_max": 9.0}
    two["service_ms_p95"] = 4.0
    merged = worst([one, two])
    assert list(merged) == KEYS
    assert merged["window_end"] == 11.0 and merged["pid"] is None and merged["requests"] == 12
    assert merged["loop_lag_ms_max"] == 9.0 and merged["service_ms_p95"] == 4.0
    assert merged["webhook_queue_lag_ms_max"] is None


# ---- in the app ------------------------------------------------------------------------------------------------


async def test_stats_has_health_and_service_time_counts_each_request(
    mock_client: httpx.AsyncClient, fake_clock: FakeClock
) -> None:
    assert list(await _health(mock_client)) == KEYS
    fake_clock.advance(1.0)  # a fresh window: the stats request above is in the one before
    fault = {"kind": "latency", "route": "messages", "ms": 300}
    assert (await mock_client.post("/_mock/faults", json=fault, headers=ADMIN)).status_code == 201
    for i in range(2):  # the latency is slept on the fake clock: each send takes exactly 300 ms of it
        assert (await mock_client.post(SEND, json=template(to=f"49160000000{i}"))).status_code == 200
    fake_clock.advance(0.4)
    health = await _health(mock_client)
    assert health["requests"] == 3  # the fault and both sends; this stats request is in the next window
    assert health["service_ms_max"] == pytest.approx(300.0, abs=0.01)
    assert health["service_ms_p95"] == pytest.approx(300.0, abs=0.01)
    assert health["window_end"] == fake_clock.now()


async def test_the_loop_lag_probe_sees_a_stall(mock_client: httpx.AsyncClient, fake_clock: FakeClock) -> None:
    await asyncio.sleep(0.05)  # the probe is running and asleep
    time.sleep(0.2)  # block the event loop once
    await asyncio.sleep(0.05)  # the probe wakes up late and records it
    fake_clock.advance(1.0)
    health = await _health(mock_client)
    assert health["loop_lag_ms_max"] >= 150.0
    assert health["loop_lag_ms_p95"] is not None


async def test_the_loop_lag_probe_on_the_real_clock() -> None:
    app: Starlette = create_app(MockConfig(), clock=SystemClock(), plugins=[])
    transport = httpx.ASGITransport(app=app)
    async with app.router.lifespan_context(app), httpx.AsyncClient(transport=transport, base_url="http://m") as client:
        await asyncio.sleep(0.05)
        stalled_at = time.time()
        time.sleep(0.2)
        deadline = time.monotonic() + 10.0
        seen: list[dict] = []
        while time.monotonic() < deadline:
            await asyncio.sleep(0.1)
            health = await _health(client)
            seen.append(health)
            if health["window_end"] > stalled_at + 0.2 and (health["loop_lag_ms_max"] or 0) >= 150.0:
                break
        assert any((h["loop_lag_ms_max"] or 0) >= 150.0 for h in seen), seen
        assert all(h["window_end"] == int(h["window_end"]) for h in seen)  # whole Unix seconds
    assert app.state.mock.health._probe is None  # cancelled at shutdown


# ---- webhook queue lag -------------------------------------------------------------------------------------------


class _Scripted:
    def __init__(self, statuses: list[int]) -> None:
        self.statuses = statuses

    async def post(self, url: str, body: bytes, headers: dict[str, str], timeout_s: float) -> PostResult:
        status = self.statuses.pop(0) if self.statuses else 200
        return PostResult(status, "ok" if status == 200 else "http_error")

    async def aclose(self) -> None:
        return None


def _sub() -> Subscription:
    return Subscription(
        id="sub_1", callback_url="http://127.0.0.1:9/w", verify_token="v", app_secret="s", verified=True
    )


async def test_webhook_queue_lag_is_the_oldest_wait_before_a_first_attempt() -> None:
    clock = FakeClock()
    health = MockHealth(clock)
    config = WebhookConfig(batch_max=10, time_compression=10_000.0)
    dispatcher = Dispatcher(config, clock=clock, transport=_Scripted([500]), queue_lag=health.record_webhook_queue_lag)
    updates: list[Update] = [inbound(0), inbound(1)]
    dispatcher.submit(updates[0], _sub())
    clock.advance(0.1)
    dispatcher.submit(updates[1], _sub())
    clock.advance(0.25)
    # One POST for both (the first waited 350 ms); it fails and Meta's first retry is immediate: not queue lag.
    assert await dispatcher.pump() == 2
    assert dispatcher.counters["attempts_failed"] == 1 and dispatcher.counters["updates_delivered"] == 2
    clock.advance(1.0)
    window = health.snapshot()
    assert window["webhook_queue_lag_ms_max"] == pytest.approx(350.0, abs=0.01)
    assert window["webhook_queue_lag_ms_p95"] == window["webhook_queue_lag_ms_max"]
    assert health.webhook_queue_lag.completed(clock.monotonic())[1] == 1  # one sample: the first attempt only


@pytest.fixture
async def webhook_client() -> AsyncIterator[httpx.AsyncClient]:
    app: Starlette = create_app(MockConfig(webhooks={"workers": 2}), clock=SystemClock())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://mock.test", headers=ADMIN) as client:
            yield client


async def test_webhook_queue_lag_appears_after_a_webhook_is_dispatched(
    webhook_client: httpx.AsyncClient, webhook_receiver: WebhookReceiver
) -> None:
    body = {"callback_url": webhook_receiver.url, "verify_token": webhook_receiver.verify_token}
    assert (await webhook_client.post("/_mock/subscriptions", json=body)).status_code == 201
    sent = await webhook_client.post("/_mock/customers/messages", json={"from": "4915112345678", "text": "hi"})
    assert sent.status_code == 200 and sent.json()["status"] == 200, sent.text
    deadline = time.monotonic() + 10.0
    health = await _health(webhook_client)
    while health["webhook_queue_lag_ms_max"] is None and time.monotonic() < deadline:
        await asyncio.sleep(0.1)
        health = await _health(webhook_client)
    assert health["webhook_queue_lag_ms_max"] is not None and health["webhook_queue_lag_ms_max"] >= 0.0
    assert health["webhook_queue_lag_ms_p95"] is not None


# ---- sharded -----------------------------------------------------------------------------------------------------


@pytest.fixture
def sharded(tmp_path: Path) -> Iterator[MockServer]:
    numbers = [PhoneNumberConfig(id="100000000000001"), PhoneNumberConfig(id="100000000000002")]
    server = start_mock_server(MockConfig(port=two_free_ports(), phone_numbers=numbers), tmp_path, workers=2)
    try:
        yield server
    finally:
        server.process.stop()


@pytest.mark.slow
def test_a_sharded_mock_shows_each_shard_and_the_worst(sharded: MockServer) -> None:
    stats = httpx.get(f"{sharded.base_url}/_mock/stats", headers=sharded.admin_headers).json()
    shards = stats["health_shards"]
    assert [shard["shard"] for shard in shards] == [0, 1]
    assert all(list(shard) == ["shard", *KEYS] for shard in shards)
    assert len({shard["pid"] for shard in shards}) == 2 and all(isinstance(s["pid"], int) for s in shards)
    assert list(stats["health"]) == KEYS and stats["health"]["pid"] is None
    assert stats["health"]["requests"] == sum(shard["requests"] for shard in shards)
    assert all("health" not in shard for shard in stats["shards"]) and stats["accepted"] == 0
