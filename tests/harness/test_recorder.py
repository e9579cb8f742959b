"""The recorder: rows in REQUEST_SCHEMA, one complete Parquet shard per flush, flushes at least once a second,
shards readable after SIGKILL, run folders that cannot escape the results folder, manifests without secrets."""

from __future__ import annotations

import errno
import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ground.clock import FakeClock
from ground.errors import ConfigError, HarnessError
from ground.records import REQUEST_SCHEMA, RunManifest
from ground.secrets import SecretRegistry
from harness.recorder import (
    TEST_DISK_FULL_ENV,
    RequestRecorder,
    ShardSink,
    is_disk_full,
    read_requests,
    safe_name,
)
from harness.results import complete_manifest, run_directory, write_manifest

ROOT = Path(__file__).resolve().parents[2]


def _event(recorder: RequestRecorder, sequence: int, **context: object) -> None:
    recorder.on_request(
        request_type="POST",
        name="send_text",
        response_time=12.5,
        response_length=80,
        context={"correlation_id": f"sb-aaaaaa-{sequence}", **context},
        exception=None,
        start_time=1_750_000_000.0 + sequence,
    )


def test_rows_follow_the_schema_and_corrected_latency_uses_the_schedule(tmp_path: Path, fake_clock) -> None:
    sink = ShardSink(tmp_path / "requests", "w0", clock=fake_clock)
    recorder = RequestRecorder(sink, vendor="acme", scenario="peak")
    _event(recorder, 1, scheduled_at=1_750_000_000.5, operation="send_text", outcome="ok", vendor_message_id="m1")
    recorder.on_request(
        name="upload_media",
        response_time=30.0,
        response_length=0,
        context={},
        exception=ConnectionResetError("reset by peer"),
        start_time=1_750_000_010.0,
    )
    sink.flush()
    table = read_requests(tmp_path)
    assert table.schema.equals(REQUEST_SCHEMA)
    first, second = table.to_pylist()
    assert first["corrected_latency_ms"] == pytest.approx(1000 + 12.5 - 500)
    assert (first["vendor"], first["scenario"], first["worker"], first["vendor_message_id"]) == (
        "acme",
        "peak",
        "w0",
        "m1",
    )
    assert (second["ok"], second["outcome"], second["error_kind"], second["status"]) == (
        False,
        "failed",
        "transport",
        0,
    )
    assert second["corrected_latency_ms"] == second["latency_ms"] == 30.0  # closed model: nothing scheduled


def test_each_flush_is_its_own_complete_shard_and_empty_flushes_write_nothing(tmp_path: Path, fake_clock) -> None:
    sink = ShardSink(tmp_path / "requests", "w0", clock=fake_clock)
    recorder = RequestRecorder(sink)
    assert sink.flush() is None
    for batch in range(3):
        for sequence in range(5):
            _event(recorder, batch * 5 + sequence)
        shard = sink.flush()
        assert shard is not None and pq.read_table(shard).num_rows == 5
    assert len(list((tmp_path / "requests").glob("*.parquet"))) == 3
    assert not list((tmp_path / "requests").glob(".*.tmp"))
    assert read_requests(tmp_path).num_rows == 15


def test_flushes_are_due_once_the_interval_has_passed(tmp_path: Path) -> None:
    clock = FakeClock()
    sink = ShardSink(tmp_path / "requests", "w0", flush_interval=1.0, clock=clock)
    recorder = RequestRecorder(sink, clock=clock)
    _event(recorder, 0)
    clock.advance(0.999)
    assert sink.maybe_flush() is None and sink.pending() == 1
    clock.advance(0.001)
    assert sink.maybe_flush() is not None and sink.pending() == 0


def test_a_loss_window_over_one_second_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="one second"):
        ShardSink(tmp_path, "w0", flush_interval=5.0)


def test_shards_of_two_sinks_with_one_worker_name_never_collide(tmp_path: Path, fake_clock) -> None:
    sinks = [ShardSink(tmp_path / "requests", "same", clock=fake_clock) for _ in range(2)]
    for sink in sinks:
        _event(RequestRecorder(sink), 0)
        sink.flush()
    assert read_requests(tmp_path).num_rows == 2


def test_a_failed_write_keeps_the_rows_and_close_says_so(tmp_path: Path, fake_clock) -> None:
    directory = tmp_path / "requests"
    sink = ShardSink(directory, "w0", clock=fake_clock)
    _event(RequestRecorder(sink), 0)
    directory.rmdir()
    directory.write_text("not a folder")  # writes now fail even for root: stands in for a broken or full disk
    assert sink.flush() is None and sink.pending() == 1 and sink.error is not None
    with pytest.raises(HarnessError, match="1 rows were not saved"):
        sink.close()
    directory.unlink()
    directory.mkdir()
    assert sink.flush() is not None  # once the disk is back, nothing was lost
    assert read_requests(tmp_path).num_rows == 1


def test_a_full_disk_is_reported_once_and_the_shards_before_it_stay_readable(tmp_path: Path, fake_clock) -> None:
    reported: list[OSError] = []
    # The test seam from the environment: every write from the 2nd shard on fails with ENOSPC.
    sink = ShardSink(
        tmp_path / "requests", "w0", clock=fake_clock, on_disk_full=reported.append, environ={TEST_DISK_FULL_ENV: "2"}
    )
    recorder = RequestRecorder(sink)
    _event(recorder, 0)
    assert sink.flush() is not None
    for sequence in (1, 2):
        _event(recorder, sequence)
        assert sink.flush() is None
    assert len(reported) == 1 and reported[0].errno == errno.ENOSPC and is_disk_full(reported[0])
    assert sink.disk_full is reported[0] and sink.pending() == 2
    assert read_requests(tmp_path).num_rows == 1  # the shard before the failure, whole
    assert sorted(p.name for p in (tmp_path / "requests").iterdir() if not p.name.endswith(".parquet")) == []
    with pytest.raises(HarnessError, match="2 rows were not saved"):
        sink.close()


def test_other_write_errors_are_not_a_full_disk(tmp_path: Path, fake_clock) -> None:
    reported: list[OSError] = []
    directory = tmp_path / "requests"
    sink = ShardSink(directory, "w0", clock=fake_clock, on_disk_full=reported.append, environ={})
    _event(RequestRecorder(sink), 0)
    directory.rmdir()
    directory.write_text("not a folder")
    assert sink.flush() is None and sink.error is not None
    assert reported == [] and sink.disk_full is None


@pytest.mark.parametrize("raw", ["0", "-1", "third"])
def test_the_disk_full_test_seam_refuses_a_bad_shard_number(tmp_path: Path, raw: str) -> None:
    with pytest.raises(HarnessError, match=TEST_DISK_FULL_ENV):
        ShardSink(tmp_path, "w0", environ={TEST_DISK_FULL_ENV: raw})


@pytest.mark.slow
def test_sigkill_mid_run_leaves_readable_shards_and_loses_only_the_unflushed_tail(tmp_path: Path) -> None:
    child = subprocess.Popen(
        [sys.executable, str(ROOT / "tests/harness/recorder_child.py"), str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    durable = 0
    try:
        assert child.stdout is not None
        for _ in range(5):  # five flushes reported, then kill it mid-stream
            line = child.stdout.readline()
            assert line.startswith("flushed "), line
            durable = int(line.split()[1])
        os.kill(child.pid, signal.SIGKILL)
        child.wait(timeout=30)
    finally:
        if child.poll() is None:
            child.kill()
            child.wait(timeout=30)
    assert child.returncode == -signal.SIGKILL
    shards = sorted((tmp_path / "requests").glob("*.parquet"))
    for shard in shards:
        pq.read_table(shard)  # every shard on disk is whole
    sequences = sorted(int(cid.split("-")[1]) for cid in read_requests(tmp_path).column("correlation_id").to_pylist())
    assert len(sequences) >= durable  # nothing reported durable was lost
    assert sequences == list(range(len(sequences)))  # a gap-free prefix: only the unflushed tail is missing


@pytest.mark.parametrize("run_id", ["../escape", "..", "a/b", "/etc", ".hidden", "a\\b", "", "x" * 200, "a..b"])
def test_run_ids_that_could_escape_the_results_folder_are_refused(results_dir: Path, run_id: str) -> None:
    with pytest.raises(ConfigError, match="run id"):
        run_directory(results_dir, run_id)
    assert list(results_dir.iterdir()) == []


def test_a_symlinked_run_folder_pointing_outside_is_refused(results_dir: Path, tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    (results_dir / "run-1").symlink_to(outside)
    with pytest.raises(ConfigError, match="outside"):
        run_directory(results_dir, "run-1")


def test_a_safe_run_id_gives_a_folder_inside(results_dir: Path) -> None:
    path = run_directory(results_dir, "2026-11-24_peak.acme")
    assert path.parent == results_dir.resolve() and path.is_dir()


@pytest.mark.parametrize(
    ("raw", "clean"), [("../../x", "x"), ("host/1:2", "host-1-2"), ("", "worker"), ("..", "worker")]
)
def test_worker_names_become_safe_file_names(raw: str, clean: str) -> None:
    assert safe_name(raw) == clean


def test_manifest_is_written_at_start_and_completed_at_the_end_without_secrets(results_dir: Path) -> None:
    registry = SecretRegistry()
    registry.add("sk-live-very-secret-42")
    run_dir = run_directory(results_dir, "run-1")
    manifest = RunManifest(
        run_id="run-1",
        scenario="peak",
        started_at=1.0,
        vendor={"name": "acme", "auth": {"token_env": "ACME_TOKEN", "api_key": "plain-value-in-wrong-place"}},
        notes=["vendor said: bad key sk-live-very-secret-42"],
    )
    write_manifest(run_dir, manifest, registry=registry)
    assert json.loads((run_dir / "manifest.json").read_text())["complete"] is False
    done = complete_manifest(run_dir, ended_at=9.0, registry=registry, workers=["w0"])
    text = (run_dir / "manifest.json").read_text()
    assert done.complete and done.ended_at == 9.0 and json.loads(text)["workers"] == ["w0"]
    assert "sk-live-very-secret-42" not in text and "plain-value-in-wrong-place" not in text
    assert "ACME_TOKEN" in text  # variable names stay visible: they say where the secret came from
