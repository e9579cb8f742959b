"""The request records' ``phone_number_id`` column: written from the request's context, and runs recorded before
the column existed still read (the column as nulls) by the recorder's reader and by the analysis."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq

from analysis.load import load_run
from ground.records import REQUEST_SCHEMA, MemorySink, RunManifest
from harness.recorder import RequestRecorder, read_requests


def test_the_number_in_the_context_becomes_the_column() -> None:
    sink = MemorySink()
    recorder = RequestRecorder(sink, vendor="v", scenario="s")
    context = {"operation": "send_text", "outcome": "ok", "http_status": 202, "phone_number_id": "100000000000007"}
    recorder.on_request(name="send", response_time=12.0, context=context, start_time=1_700_000_000.0)
    recorder.on_request(name="search", response_time=3.0, context={"operation": "search_conversations"})
    assert [row["phone_number_id"] for row in sink.rows] == ["100000000000007", None]


def test_shards_written_before_the_column_still_read(tmp_path: Path) -> None:
    old_schema = pa.schema([field for field in REQUEST_SCHEMA if field.name != "phone_number_id"])
    rows = {name: [None, None] for name in old_schema.names}
    rows.update(
        scheduled_at=[1_700_000_000.0, 1_700_000_001.0],
        started_at=[1_700_000_000.0, 1_700_000_001.0],
        ended_at=[1_700_000_000.1, 1_700_000_001.1],
        latency_ms=[100.0, 100.0],
        corrected_latency_ms=[100.0, 100.0],
        operation=["send_text", "send_text"],
        status=[202, 202],
        ok=[True, True],
        outcome=["ok", "ok"],
        error_kind=["none", "none"],
        correlation_id=["t1", "t2"],
    )
    (tmp_path / "requests").mkdir()
    pq.write_table(pa.Table.from_pydict(rows, schema=old_schema), tmp_path / "requests" / "w0-1.parquet")
    (tmp_path / "manifest.json").write_text(
        RunManifest(run_id="old", scenario="peak", started_at=1_700_000_000.0, complete=True).model_dump_json()
    )
    table = read_requests(tmp_path)
    assert table.schema.equals(REQUEST_SCHEMA) and table.column("phone_number_id").null_count == 2
    run = load_run(tmp_path)
    assert len(run.requests) == 2 and run.requests["phone_number_id"].isna().all()
