"""The recorder sink seam: ``ShardSink`` and ``MemorySink`` are both ``RecordSink``s, and the request recorder
writes to either."""

from __future__ import annotations

from pathlib import Path

from ground.clock import FakeClock
from ground.records import REQUEST_COLUMNS, MemorySink, RecordSink
from harness.recorder import RequestRecorder, ShardSink


def _record(sink: RecordSink) -> None:
    recorder = RequestRecorder(sink, vendor="v", scenario="s", clock=FakeClock(start=1000.0))
    context = {"operation": "send_text", "outcome": "ok", "scheduled_at": 999.5, "correlation_id": "tok"}
    recorder.fire(request_type="POST", name="send_text", response_time=20.0, response_length=5, context=context)
    recorder.close()


def test_the_request_recorder_writes_to_a_memory_sink() -> None:
    sink = MemorySink(worker="w1")
    _record(sink)
    assert sink.closed
    [row] = sink.rows
    assert set(row) == set(REQUEST_COLUMNS)
    assert (row["operation"], row["outcome"], row["vendor"], row["worker"]) == ("send_text", "ok", "v", "w1")


def test_the_shard_sink_is_the_same_seam(tmp_path: Path) -> None:
    sink: RecordSink = ShardSink(tmp_path, "w1")
    _record(sink)
    assert len(list(tmp_path.glob("w1-*.parquet"))) == 1
