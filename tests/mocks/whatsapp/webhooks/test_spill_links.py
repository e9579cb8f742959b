"""Reply links survive a ledger spill: rows spilled to Parquet before their link columns were known keep them."""

from __future__ import annotations

import asyncio
import io
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import orjson
import pyarrow.parquet as pq
import pytest

from ground.clock import SystemClock
from mocks.whatsapp.app import create_app
from mocks.whatsapp.config import LedgerConfig, MockConfig
from mocks.whatsapp.ledger import Ledger, LedgerEntry, read_spill_folder
from mocks.whatsapp.webhooks.replies import ReplyTracker
from tests.fixtures.webhook_receiver import WebhookReceiver
from tests.mocks.whatsapp.webhooks.test_integration import ADMIN, FAST_LADDER, PNID, send_text, subscribe

CUSTOMER = "4915112345678"


def _entry(wamid: str, direction: str, at: float, context: str | None = None) -> LedgerEntry:
    return LedgerEntry(at, at, wamid, direction, PNID, CUSTOMER, "text", 1, context_message_id=context, wa_id=CUSTOMER)


def _links(ledger: Ledger, since: float | None = None) -> dict[str, tuple[str | None, float | None]]:
    from_records = {r["wamid"]: (r["reply_to_wamid"], r["inbound_delivered_at"]) for r in ledger.records_since(since)}
    table = ledger.table_since(since).to_pylist()
    from_table = {r["wamid"]: (r["reply_to_wamid"], r["inbound_delivered_at"]) for r in table}
    assert from_records == from_table
    return from_records


def test_links_filled_after_a_spill_are_in_every_export() -> None:
    ledger = Ledger(memory_rows=1)  # every append spills at once
    tracker = ReplyTracker(update=ledger.update)
    try:
        inbound = _entry("wamid.in", "inbound", 1.0)
        ledger.append(inbound)
        tracker.note_inbound(inbound, CUSTOMER)
        reply = _entry("wamid.out", "outbound", 2.0)
        tracker.link(reply)  # as MockState.accepted: listeners first, then the append (which spills)
        ledger.append(reply)
        ledger.wait_spilled()
        assert ledger.memory_size == 0
        assert _links(ledger) == {"wamid.in": (None, None), "wamid.out": ("wamid.in", None)}
        tracker.note_delivered("wamid.in", 1.5)  # the inbound webhook is acknowledged after both rows spilled
        quoted = _entry("wamid.q", "outbound", 3.0, context="wamid.in")
        tracker.link(quoted)
        ledger.append(quoted)
        ledger.spill(wait=True)
        expected = {"wamid.in": (None, 1.5), "wamid.out": ("wamid.in", 1.5), "wamid.q": ("wamid.in", 1.5)}
        assert _links(ledger) == expected
        assert _links(ledger, since=1.9) == {k: v for k, v in expected.items() if k != "wamid.in"}
        # only the rows changed after their spill are patched; with memory_rows=1 the patches spill at once too
        ledger.wait_spilled()
        assert (ledger.patched_rows, ledger.spilled_patches) == (0, 2)
        ledger.reset()
        assert ledger.patched_rows + ledger.spilled_patches == 0 and _links(ledger) == {}
    finally:
        ledger.close()


def test_patches_spill_past_memory_rows_and_later_patches_win(tmp_path: Path) -> None:
    ledger = Ledger(memory_rows=3, spill_dir=str(tmp_path))
    rows = [_entry(f"wamid.{n}", "outbound", float(n)) for n in range(9)]
    for row in rows:
        ledger.append(row)
    ledger.wait_spilled()
    assert ledger.memory_size == 0  # all nine rows are in segments
    for row in rows[:3]:
        ledger.update(row, reply_to_wamid=f"in.{row.wamid}")  # the third patch fills memory: the three spill
    ledger.wait_spilled()
    assert (ledger.patched_rows, ledger.spilled_patches) == (0, 3)
    ledger.update(rows[0], inbound_delivered_at=0.5)  # a later change of another column of a spilled patch
    ledger.update(rows[1], reply_to_wamid="in.changed")  # and of the same column
    assert ledger.patched_rows == 2
    links = _links(ledger)
    assert links["wamid.0"] == ("in.wamid.0", 0.5)
    assert links["wamid.1"] == ("in.changed", None)
    assert links["wamid.2"] == ("in.wamid.2", None)
    assert all(links[f"wamid.{n}"] == (None, None) for n in range(3, 9))
    # a patch segment written when the newest row had arrived at 8.0 can touch no row arriving after that
    assert _links(ledger, since=8.5) == {}
    assert _links(ledger, since=2.0)["wamid.2"] == ("in.wamid.2", None)
    ledger.close()  # a configured folder keeps the rows and the patches still in memory
    assert len(list(tmp_path.glob("ledger_patches-*.parquet"))) == 2
    assert len(list(tmp_path.glob("ledger-*.parquet"))) == 3
    left = {
        r["wamid"]: (r["reply_to_wamid"], r["inbound_delivered_at"]) for r in read_spill_folder(tmp_path).to_pylist()
    }
    assert left == links  # what the stopped mock left on disk reads as its last export did


def test_only_link_columns_change_after_an_append() -> None:
    ledger = Ledger(memory_rows=10)
    entry = _entry("wamid.a", "inbound", 1.0)
    ledger.append(entry)
    with pytest.raises(ValueError, match="fixed once appended"):
        ledger.update(entry, recipient="someone else")
    ledger.close()


def test_rows_still_in_memory_are_changed_in_place_without_a_patch() -> None:
    ledger = Ledger(memory_rows=100)
    entry = _entry("wamid.a", "inbound", 1.0)
    ledger.append(entry)
    ledger.update(entry, inbound_delivered_at=4.0)
    assert ledger.patched_rows == 0 and _links(ledger) == {"wamid.a": (None, 4.0)}
    ledger.close()


@pytest.fixture
async def spilling_client() -> AsyncIterator[httpx.AsyncClient]:
    """The mock with a one-row ledger memory (every accepted or inbound message spills) and webhooks on."""
    config = MockConfig(ledger=LedgerConfig(memory_rows=1), webhooks={"ladder": {**FAST_LADDER, "enabled": False}})
    app = create_app(config, clock=SystemClock())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://mock.test", headers=ADMIN) as client:
            yield client


@pytest.mark.anyio
async def test_served_ledger_keeps_reply_links_when_every_row_spills(
    spilling_client: httpx.AsyncClient, webhook_receiver: WebhookReceiver
) -> None:
    client = spilling_client
    await subscribe(client, webhook_receiver)
    webhook_receiver.down()  # the inbound webhook is delivered only after the reply spilled
    body = {"phone_number_id": PNID, "from": CUSTOMER, "type": "text", "text": "discount code?", "wait": False}
    inbound_id = (await client.post("/_mock/customers/messages", json=body)).json()["id"]
    reply = await send_text(client, CUSTOMER, "CODE10")
    assert reply.status_code == 200, reply.text
    reply_id = reply.json()["messages"][0]["id"]
    webhook_receiver.up()
    assert await webhook_receiver.wait_for_async(lambda r: inbound_id in {m["id"] for _, m in r.updates()})
    delivered_at = None
    for _ in range(200):  # bounded: the delivery callback runs right after the receiver's 200
        rows = {r["wamid"]: r for r in map(orjson.loads, (await client.get("/_mock/ledger")).content.splitlines())}
        delivered_at = rows[inbound_id]["inbound_delivered_at"]
        if delivered_at is not None:
            break
        await asyncio.sleep(0.02)
    assert delivered_at is not None
    assert (rows[reply_id]["reply_to_wamid"], rows[reply_id]["inbound_delivered_at"]) == (inbound_id, delivered_at)
    stats = (await client.get("/_mock/stats")).json()
    assert stats["ledger_memory_rows"] <= 1 and stats["ledger_rows"] == 2  # both rows were spilled to Parquet
    table = pq.read_table(io.BytesIO((await client.get("/_mock/ledger?format=parquet")).content)).to_pylist()
    parquet = {r["wamid"]: (r["reply_to_wamid"], r["inbound_delivered_at"]) for r in table}
    assert parquet[reply_id] == (inbound_id, delivered_at) and parquet[inbound_id] == (None, delivered_at)
