"""Faults of the harness's own (issue 10): a worker killed mid-run, the harness killed with SIGKILL, the mock or
the reference vendor crashing during a run, the disk filling up mid-run. Each run is a few seconds of real load
on loopback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import psutil
import pyarrow.parquet as pq
import pytest

from analysis.load import load_run
from ground.errors import EXIT_HARNESS_ERROR, EXIT_PARTIAL
from ground.records import RunManifest
from harness.cli import main
from harness.faults.timeline import read_timeline
from harness.recorder import LOCUST_EXIT_DISK_FULL, TEST_DISK_FULL_ENV, read_requests
from harness.run.runner import RunRequest, RunResult, execute
from tests.fixtures.runs import quiet_run_request
from tests.fixtures.vendors import SHIPPED_PROFILES

STEADY = SHIPPED_PROFILES / "reference-steady.yaml"
WAIT_S = 90.0


def processes_under(folder: Path, marker: str = "") -> list[psutil.Process]:
    """Processes this test started (directly or through the runner): their command line names ``folder``."""
    found = []
    for process in psutil.process_iter(["cmdline"]):
        cmdline = " ".join(process.info.get("cmdline") or [])
        if str(folder) in cmdline and marker in cmdline and process.pid != os.getpid():
            found.append(process)
    return found


def wait_for(predicate, what: str) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + WAIT_S
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        time.sleep(0.2)  # polling real processes, not pacing a behaviour


@pytest.fixture
def reaper(tmp_path: Path) -> Iterator[None]:
    """Whatever a killed harness left behind under this test's folder is stopped, by pid."""
    yield
    for process in processes_under(tmp_path):
        try:
            process.kill()
        except psutil.NoSuchProcess:
            pass


def shards(run_root: Path, prefix: str = "") -> list[Path]:
    return sorted(run_root.glob(f"*/requests/{prefix}*.parquet"))


def run_in_thread(request: RunRequest) -> tuple[threading.Thread, list[RunResult | BaseException]]:
    outcome: list[RunResult | BaseException] = []

    def body() -> None:
        try:
            outcome.append(execute(request))
        except BaseException as exc:  # handed to the test's thread
            outcome.append(exc)

    thread = threading.Thread(target=body, daemon=True)
    thread.start()
    return thread, outcome


@pytest.mark.slow
def test_a_worker_killed_mid_run_is_named_and_the_live_worker_loses_nothing(tmp_path: Path, reaper: None) -> None:
    request = quiet_run_request(
        tmp_path,
        "broadcast",
        workers=2,
        seed=2,
        overrides={"recipients": 120, "rate": 12, "live_share": 0.0, "drain_s": 2, "pool_size": 30},
    )
    thread, outcome = run_in_thread(request)
    wait_for(lambda: shards(tmp_path, "worker-0") and shards(tmp_path, "worker-1"), "both workers' first shards")
    victim = processes_under(tmp_path, " --worker ")[0]
    victim.send_signal(signal.SIGKILL)
    thread.join(timeout=WAIT_S)
    (result,) = outcome
    assert isinstance(result, RunResult), result
    manifest = RunManifest.model_validate_json((result.run_dir / "manifest.json").read_text())
    assert not manifest.complete
    missing = manifest.model_dump()["missing_workers"]
    assert len(missing) == 1
    dead = missing[0]["worker"]
    live = "worker-1" if dead == "worker-0" else "worker-0"
    assert any(dead in note for note in manifest.notes)
    requests = read_requests(result.run_dir).to_pandas()
    # The live worker ran its whole share of the constant schedule: every second slot of 120.
    assert (requests["worker"] == live).sum() == 60
    assert 0 < (requests["worker"] == dead).sum() < 60
    ledger = pq.read_table(result.run_dir / "ledger.parquet").to_pandas()
    acked = requests[(requests["outcome"] == "ok") & (requests["worker"] == live)]
    assert acked["correlation_id"].isin(set(ledger["correlation_id"].dropna())).all()
    assert load_run(result.run_dir).partial


@pytest.mark.slow
def test_harness_killed_with_sigkill_leaves_readable_records_and_a_partial_run(tmp_path: Path, reaper: None) -> None:
    command = [
        sys.executable, "-m", "harness.cli", "run", "--vendor", str(STEADY), "--scenario", "broadcast",
        "--param", "recipients=400", "--param", "rate=20", "--out", str(tmp_path), "--no-progress",
    ]  # fmt: skip
    harness = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
    try:
        wait_for(lambda: len(shards(tmp_path)) >= 3, "three flushed shards")
        harness.send_signal(signal.SIGKILL)
        harness.wait(timeout=10)
    finally:
        if harness.poll() is None:
            harness.kill()
    # The Locust child got SIGTERM from the kernel when its parent died (PR_SET_PDEATHSIG) and stops by itself.
    wait_for(lambda: not processes_under(tmp_path, "locust"), "the orphaned Locust process to stop")
    (run_dir,) = [p for p in tmp_path.iterdir() if p.is_dir()]
    manifest = RunManifest.model_validate_json((run_dir / "manifest.json").read_text())
    assert not manifest.complete and manifest.ended_at is None
    requests = read_requests(run_dir).to_pandas()
    assert len(requests) >= 20
    assert requests["correlation_id"].notna().all()
    run = load_run(run_dir)
    assert run.partial and any("complete" in reason for reason in run.partial_reasons)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("marker", "service"),
    [("mock-config.yaml", "mock"), ("vendor serve", "primary")],
    ids=["mock", "reference-vendor"],
)
def test_a_service_crashing_mid_run_is_a_timeline_event_not_a_harness_crash(
    tmp_path: Path, reaper: None, marker: str, service: str
) -> None:
    request = quiet_run_request(
        tmp_path, "broadcast", overrides={"recipients": 100, "rate": 10, "live_share": 0.0, "drain_s": 1}
    )
    thread, outcome = run_in_thread(request)
    wait_for(lambda: len(shards(tmp_path)) >= 2, "the first shards")
    (victim,) = processes_under(tmp_path, marker)
    victim.kill()
    thread.join(timeout=WAIT_S)
    (result,) = outcome
    assert isinstance(result, RunResult), result  # the run ended normally and was scored
    assert result.summary is not None
    events = read_timeline(result.run_dir / "faults.jsonl")
    crashes = [e for e in events if e.fault == "service-crash"]
    assert [e.target for e in crashes] == [service]
    assert crashes[0].ok is False and "not injected" in (crashes[0].detail or "")
    requests = read_requests(result.run_dir).to_pandas()
    assert len(requests) == 100  # the load went on after the crash: every scheduled send has its row
    if service == "mock":
        assert any("ledger.parquet not exported" in note for note in result.manifest.notes)
    else:
        # The vendor was gone for the rest of the run: its sends failed and were recorded as failures.
        assert (requests["outcome"] != "ok").sum() > 0
        assert (result.run_dir / "ledger.parquet").exists()  # the mock lived on and its ledger was exported


@pytest.mark.slow
@pytest.mark.parametrize("workers", [0, 2], ids=["local-runner", "two-workers"])
def test_disk_full_mid_run_stops_the_run_with_a_clear_error_and_keeps_what_was_written(
    tmp_path: Path, reaper: None, workers: int
) -> None:
    # The recorder's documented test seam: from its 3rd shard on every write fails with ENOSPC, as a disk that
    # fills up mid-run would; the load, the services and the runner are the real ones.
    env = {**os.environ, TEST_DISK_FULL_ENV: "3"}
    out = tmp_path / "results"
    command = [
        sys.executable, "-m", "harness.cli", "run", "--vendor", str(STEADY), "--scenario", "broadcast",
        "--param", "recipients=400", "--param", "rate=20", "--param", "live_share=0", "--out", str(out),
        "--no-progress", "--workers", str(workers),
    ]  # fmt: skip
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=WAIT_S * 2, check=False)
    err = " ".join(done.stderr.split())  # rich wraps long lines
    (run_dir,) = [p for p in out.iterdir() if p.is_dir()]
    assert done.returncode == EXIT_HARNESS_ERROR, done.stderr
    assert f"disk full while writing results to {run_dir}" in err
    assert "Fix: free space" in err and "--out" in err and "scrmbench score" in err
    # The services and Locust were stopped before the error (nothing of this run is left running).
    assert processes_under(tmp_path) == []
    # Each process that records (the local runner, or each worker) stopped itself with the disk-full exit code.
    recording = ["local"] if workers == 0 else [f"worker{index}" for index in range(workers)]
    for name in recording:
        log_text = (run_dir / "logs" / f"locust-{name}-p0.log").read_text()
        assert f"exit code {LOCUST_EXIT_DISK_FULL}" in log_text, name
    # The load stopped when the disk filled (about 3 s into a 20 s plan): the last live count of sends, written
    # once a second while the load runs, is well under half of the 400 planned. (Workers report to the master
    # every few seconds, so with workers the live count may not have seen any sends yet; the shards below did.)
    live = json.loads((run_dir / "live.json").read_text())
    assert live["requests"] < 200 and (workers > 0 or live["requests"] > 0)
    # What was written stays readable: each recorder's two whole shards before the failure, no half-written file.
    written = sorted((run_dir / "requests").iterdir())
    assert [p.suffix for p in written] == [".parquet"] * 2 * len(recording)
    requests = read_requests(run_dir).to_pandas()
    assert 0 < len(requests) < 200 and requests["correlation_id"].notna().all()
    manifest = RunManifest.model_validate_json((run_dir / "manifest.json").read_text())
    assert not manifest.complete and manifest.ended_at is not None
    assert any("disk full" in note for note in manifest.notes)
    assert [e.fault for e in read_timeline(run_dir / "faults.jsonl") if e.fault == "disk-full"] == ["disk-full"]
    # `scrmbench score` scores it, as a partial run: exit 4, never a pass.
    assert main(["score", str(run_dir)]) == EXIT_PARTIAL
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["run"]["partial"] is True
    assert load_run(run_dir).partial
