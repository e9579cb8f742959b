"""Webhook attempt records dropped past ``attempts_max_rows`` are counted where an analysis sees them."""

from __future__ import annotations

import asyncio
import io

import httpx
import pyarrow.parquet as pq
import pytest

from ground.clock import SystemClock
from mocks.whatsapp.app import create_app
from mocks.whatsapp.config import MockConfig
from mocks.whatsapp.webhooks.attempts import (
    EVICTED_HEADER,
    EVICTED_KEY,
    EVICTED_UNTIL_HEADER,
    EVICTED_UNTIL_KEY,
    Attempt,
    AttemptLog,
    merged_eviction,
)
from tests.fixtures.webhook_receiver import WebhookReceiver
from tests.mocks.whatsapp.webhooks.test_integration import ADMIN, FAST_LADDER, subscribe


def _attempt(sent_at: float) -> Attempt:
    return Attempt(sent_at, f"d{sent_at}", "message", "wamid.x", 0, "http://127.0.0.1:1/", 200, 1.0, "ok", "")


def test_log_counts_evicted_rows_and_the_newest_time_among_them() -> None:
    log = AttemptLog(max_rows=10)
    assert log.metadata() == {EVICTED_KEY: b"0", EVICTED_UNTIL_KEY: b""}
    for n in range(12):
        log.append(_attempt(100.0 + n))
    assert log.evicted == 2 and log.evicted_until == 101.0 and len(log.rows) == 10
    metadata = log.to_table().schema.metadata
    assert metadata[EVICTED_KEY] == b"2" and float(metadata[EVICTED_UNTIL_KEY]) == 101.0
    assert min(row.sent_at for row in log.rows) > log.evicted_until
    merged = merged_eviction([metadata, {EVICTED_KEY: b"4", EVICTED_UNTIL_KEY: b"150.5"}, None])
    assert merged == {EVICTED_KEY: b"6", EVICTED_UNTIL_KEY: b"150.5"}
    log.clear()
    assert (log.evicted, log.evicted_until) == (0, None)


@pytest.mark.anyio
async def test_evictions_show_in_stats_and_both_exports(webhook_receiver: WebhookReceiver) -> None:
    settings = {"ladder": {**FAST_LADDER, "enabled": False}, "batch_max": 1, "duplicate_rate": 0.0}
    app = create_app(MockConfig(webhooks=settings), clock=SystemClock())
    async with app.router.lifespan_context(app):
        app.state.mock.extensions["webhooks"].dispatcher.log.max_rows = 10  # the real log, made tiny
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://mock.test", headers=ADMIN) as client:
            await subscribe(client, webhook_receiver)
            ids = (await client.post("/_mock/customers/messages", json={"generate": {"count": 30}})).json()["ids"]
            assert await webhook_receiver.wait_for_async(lambda r: {m["id"] for _, m in r.updates()} >= set(ids))
            stats: dict = {}
            for _ in range(250):  # bounded: the last attempt records land right after the receiver's answers
                stats = (await client.get("/_mock/webhooks/stats")).json()
                if stats["attempt_records_evicted"] + stats["attempt_records"] >= 30:
                    break
                await asyncio.sleep(0.02)
            evicted = stats["attempt_records_evicted"]
            assert evicted >= 20 and stats["attempt_records"] <= 10 and stats["attempt_records_evicted_until"] > 0
            core = (await client.get("/_mock/stats")).json()
            assert core["webhook_attempt_records_evicted"] == evicted
            assert core["webhook_attempt_records"] == stats["attempt_records"]
            ndjson = await client.get("/_mock/webhooks/attempts")
            assert int(ndjson.headers[EVICTED_HEADER]) == evicted
            assert float(ndjson.headers[EVICTED_UNTIL_HEADER]) == stats["attempt_records_evicted_until"]
            parquet = await client.get("/_mock/webhooks/attempts", params={"format": "parquet"})
            table = pq.read_table(io.BytesIO(parquet.content))
            assert int(table.schema.metadata[EVICTED_KEY]) == evicted
            assert min(table.column("sent_at").to_pylist()) >= float(table.schema.metadata[EVICTED_UNTIL_KEY])
