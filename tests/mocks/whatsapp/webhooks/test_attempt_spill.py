"""Webhook attempt records past ``attempts_memory_rows`` spill to Parquet segments and every export has them all;
records are dropped (and counted) only when the spill folder cannot be written."""

from __future__ import annotations

import asyncio
import io
import random
from pathlib import Path

import httpx
import orjson
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from ground.clock import SystemClock
from ground.records import WEBHOOK_ATTEMPT_COLUMNS
from mocks.whatsapp.app import create_app
from mocks.whatsapp.config import LedgerConfig, MockConfig
from mocks.whatsapp.segments import SegmentSpill
from mocks.whatsapp.webhooks.attempts import EVICTED_HEADER, EVICTED_KEY, EVICTED_UNTIL_KEY, Attempt, AttemptLog
from tests.fixtures.webhook_receiver import WebhookReceiver
from tests.mocks.whatsapp.webhooks.test_integration import ADMIN, FAST_LADDER, subscribe


def _attempts(count: int, seed: int = 7) -> list[Attempt]:
    """Attempts whose ``sent_at`` is not in append order (rows are appended when an attempt ends)."""
    rng = random.Random(seed)
    rows = []
    for n in range(count):
        answered = n % 5 != 0
        rows.append(
            Attempt(
                sent_at=1_750_000_000.0 + n + rng.uniform(-3.0, 3.0),
                delivery_id=f"whd_{n}",
                kind="status" if n % 2 else "message",
                wamids=f"wamid.{n},wamid.{n}b",
                attempt=n % 3,
                callback_url="http://127.0.0.1:9/hook",
                http_status=200 if answered else 0,
                response_ms=rng.uniform(1.0, 900.0) if answered else None,
                outcome="ok" if answered else "timeout",
                error="" if answered else "ReadTimeout",
            )
        )
    return rows


def _segments(folder: Path) -> list[Path]:
    return sorted(folder.glob("attempts-*.parquet"))


def test_every_attempt_is_in_both_exports_after_spilling(tmp_path: Path) -> None:
    rows = _attempts(103)
    log = AttemptLog(max_rows=1000, memory_rows=7, spill_dir=tmp_path)
    for row in rows:
        log.append(row)
        assert len(log.rows) < 7  # memory never holds more than the bound
    log.spill(wait=True)  # only to make the folder's content deterministic for the assertions below
    assert len(_segments(tmp_path)) >= 103 // 7 and log.spilled == 103 - len(log.rows)
    assert len(log) == 103 and log.evicted == 0 and log.spill_error is None

    table = log.to_table()
    assert table.schema.metadata[EVICTED_KEY] == b"0" and table.schema.metadata[EVICTED_UNTIL_KEY] == b""
    assert [tuple(r[c] for c in WEBHOOK_ATTEMPT_COLUMNS) for r in table.to_pylist()] == [tuple(r) for r in rows]
    lines = [orjson.loads(line) for line in log.to_ndjson().splitlines()]
    assert lines == [row._asdict() for row in rows]

    cut = rows[50].sent_at  # rows before and after it sit in several segments and in memory
    wanted = [row for row in rows if row.sent_at >= cut]
    assert 0 < len(wanted) < len(rows)
    assert list(log.since(cut)) == wanted
    assert log.to_table(cut).column("delivery_id").to_pylist() == [row.delivery_id for row in wanted]

    log.clear()
    assert len(log) == 0 and _segments(tmp_path) == [] and log.to_table().num_rows == 0


def test_close_keeps_every_record_in_a_configured_folder_and_removes_a_temporary_one(tmp_path: Path) -> None:
    rows = _attempts(40)
    kept = AttemptLog(max_rows=1000, memory_rows=6, spill_dir=tmp_path)
    for row in rows:
        kept.append(row)
    kept.close()
    on_disk = pa.concat_tables([pq.read_table(path) for path in _segments(tmp_path)])
    assert sorted(on_disk.column("delivery_id").to_pylist()) == sorted(row.delivery_id for row in rows)

    temporary = AttemptLog(max_rows=1000, memory_rows=6)
    for row in rows:
        temporary.append(row)
    temporary._spill.wait()  # type: ignore[union-attr]
    folder = temporary._spill.directory  # type: ignore[union-attr]
    assert folder is not None and _segments(folder)
    temporary.close()
    assert not folder.exists()


def test_an_unwritable_spill_folder_falls_back_to_counted_eviction(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the spill folder should be")
    log = AttemptLog(max_rows=20, memory_rows=5, spill_dir=blocker)
    rows = _attempts(50)
    for row in rows:
        log.append(row)
    assert log.spill_error is not None and "FileExistsError" in log.spill_error
    assert len(log.rows) == 20 and log.evicted == 30 and len(log) == 20
    assert log.evicted_until == max(row.sent_at for row in rows[:30])
    assert int(log.to_table().schema.metadata[EVICTED_KEY]) == 30


def test_a_failed_segment_write_keeps_its_rows_and_retries_them(tmp_path: Path) -> None:
    calls = {"n": 0}

    def flaky(rows: list[int]) -> pa.Table:
        calls["n"] += 1
        if calls["n"] == 1:
            raise pa.ArrowInvalid("simulated conversion failure")
        return pa.table({"n": pa.array(rows, type=pa.int64())})

    spill: SegmentSpill[int] = SegmentSpill(prefix="t", spill_dir=tmp_path, to_table=flaky, newest=lambda r: max(r))
    spill.hand_off([1, 2, 3])
    spill.wait()
    assert spill.failed is not None and "simulated" in spill.failed
    assert spill.snapshot() == ([], [1, 2, 3]) and spill.size == 3  # still exported, not lost
    spill.hand_off([4, 5])
    spill.wait()
    segments, writing = spill.snapshot()
    assert writing == [] and spill.failed is None and spill.rows == 5
    assert [pq.read_table(path).column("n").to_pylist() for path, _ in segments] == [[1, 2, 3, 4, 5]]
    assert segments[0][1] == 5.0


def test_the_hard_cap_bounds_memory_even_when_memory_rows_is_higher(tmp_path: Path) -> None:
    log = AttemptLog(max_rows=10, memory_rows=200_000, spill_dir=tmp_path)  # e.g. bench/soak_memory.py's settings
    for row in _attempts(35):
        log.append(row)
        assert len(log.rows) < 10
    assert len(log) == 35 and log.evicted == 0 and log.to_table().num_rows == 35


@pytest.mark.anyio
async def test_the_mock_exports_every_attempt_with_a_tiny_memory_bound(
    webhook_receiver: WebhookReceiver, tmp_path: Path
) -> None:
    settings = {
        "ladder": {**FAST_LADDER, "enabled": False},
        "batch_max": 1,
        "duplicate_rate": 0.0,
        "attempts_memory_rows": 4,
        "attempts_max_rows": 1000,
    }
    config = MockConfig(webhooks=settings, ledger=LedgerConfig(spill_dir=str(tmp_path)))
    app = create_app(config, clock=SystemClock())
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://mock.test", headers=ADMIN) as client:
            await subscribe(client, webhook_receiver)
            ids = (await client.post("/_mock/customers/messages", json={"generate": {"count": 30}})).json()["ids"]
            assert len(ids) == 30
            assert await webhook_receiver.wait_for_async(lambda r: {m["id"] for _, m in r.updates()} >= set(ids))
            stats: dict = {}
            for _ in range(250):  # bounded: the last attempt records land right after the receiver's answers
                stats = (await client.get("/_mock/webhooks/stats")).json()
                if stats["attempt_records"] >= 30:
                    break
                await asyncio.sleep(0.02)
            assert stats["attempt_records"] >= 30 and stats["attempt_records_evicted"] == 0
            assert stats["attempt_records_in_memory"] < 4 and stats["attempt_records_spilled"] > 0
            assert _segments(tmp_path)  # in the mock's spill folder
            kept = stats["attempt_records"]

            parquet = await client.get("/_mock/webhooks/attempts", params={"format": "parquet"})
            table = pq.read_table(io.BytesIO(parquet.content))
            assert table.num_rows == kept and table.schema.metadata[EVICTED_KEY] == b"0"
            carried = {wamid for cell in table.column("wamids").to_pylist() for wamid in cell.split(",")}
            assert set(ids) <= carried  # every customer message's delivery attempt is in the export
            assert len(set(table.column("delivery_id").to_pylist())) == table.num_rows

            ndjson = await client.get("/_mock/webhooks/attempts")
            records = [orjson.loads(line) for line in ndjson.content.splitlines() if line]
            assert ndjson.headers[EVICTED_HEADER] == "0" and len(records) == kept
            assert {r["delivery_id"] for r in records} == set(table.column("delivery_id").to_pylist())
            assert (await client.get("/_mock/stats")).json()["webhook_attempt_records"] == kept
    # Shut down with a configured folder: every record stays on disk.
    on_disk = pa.concat_tables([pq.read_table(path) for path in _segments(tmp_path)])
    assert on_disk.num_rows == kept
