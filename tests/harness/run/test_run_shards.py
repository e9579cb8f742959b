"""Remote workers' records: a worker that reported but whose shards are not in the run folder makes the run
partial, named in the manifest with the fix; a simulated remote worker writing to its own folder proves it."""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from ground.errors import EXIT_PARTIAL
from ground.net import free_port
from harness.cli import main
from harness.recorder import read_requests
from harness.run.runner import execute
from harness.run.shards import missing_shard_notes, missing_shards
from tests.fixtures.runs import quiet_run_request

ROOT = Path(__file__).resolve().parents[3]
STEADY = ROOT / "vendors" / "reference-steady.yaml"


def test_a_reported_worker_without_shards_of_the_phase_is_missing(tmp_path: Path) -> None:
    (tmp_path / "workers.json").write_text(json.dumps({"worker-0": {"state": "ready"}, "worker-1": {}}))
    shards = tmp_path / "requests"
    shards.mkdir()
    (shards / "worker-0-p1-abc123-000001.parquet").write_bytes(b"")
    (shards / "worker-1-p0-def456-000001.parquet").write_bytes(b"")
    assert missing_shards(tmp_path, 1, "peak") == [
        {"worker": "worker-1", "phase": "peak", "expected": "requests/worker-1-p1-*.parquet"}
    ]
    assert [m["worker"] for m in missing_shards(tmp_path, 0, "warm")] == ["worker-0"]
    assert missing_shards(tmp_path, 2, "x") == [
        {"worker": w, "phase": "x", "expected": f"requests/{w}-p2-*.parquet"} for w in ("worker-0", "worker-1")
    ]
    (tmp_path / "workers.json").unlink()
    assert missing_shards(tmp_path, 0, "warm") == [] and missing_shard_notes(tmp_path, []) == []


@pytest.fixture
def remote_worker(tmp_path: Path) -> Iterator[tuple[int, Path]]:
    """A worker process like one on another machine: it joins the master's port and records into its own folder."""
    port, elsewhere = free_port(), tmp_path / "worker-machine"
    command = [sys.executable, "-m", "locust", "-f", str(Path(__file__).with_name("remote_worker_elsewhere.py")),
               "--worker", "--master-host", "127.0.0.1", "--master-port", str(port)]  # fmt: skip
    env = {**os.environ, "SCRMBENCH_TEST_WORKER_RESULTS": str(elsewhere)}
    log = (tmp_path / "worker.log").open("wb")
    process = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        yield port, elsewhere
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=10)
        log.close()


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_remote_workers_shards_left_on_its_machine_make_the_run_partial(
    tmp_path: Path, remote_worker: tuple[int, Path]
) -> None:
    port, elsewhere = remote_worker
    request = quiet_run_request(
        tmp_path / "results",
        "broadcast",
        overrides={"recipients": 24, "rate": 8, "live_share": 0.0, "drain_s": 1, "pool_size": 20},
        workers=1,  # one local worker records here, so the partial run still has data to score
        remote_workers=1,
        master_host="127.0.0.1",
        master_port=port,
        seed=2,
    )
    result = execute(request)
    run_dir = result.run_dir
    # The remote worker did its share, on "its machine": its records exist, just not in the run folder.
    remote, here = read_requests(elsewhere).to_pandas(), read_requests(run_dir).to_pandas()
    assert len(remote) + len(here) == 24 and len(remote) >= 10
    # Which index the remote worker got depends on who connected first.
    (away,), (local,) = set(remote["worker"]), set(here["worker"])
    assert {away, local} == {"worker-0", "worker-1"}
    manifest = orjson.loads((run_dir / "manifest.json").read_bytes())
    assert manifest["complete"] is False
    assert manifest["missing_shards"] == [
        {"worker": away, "phase": manifest["phases"][0]["name"], "expected": f"requests/{away}-p0-*.parquet"}
    ]  # fmt: skip
    note = next(n for n in manifest["notes"] if "request records missing" in n)
    assert (
        away in note
        and local not in note
        and str(run_dir / "requests") in note
        and f"scrmbench score {run_dir}" in note
    )
    assert not result.manifest.complete
    sla = (result.summary or {}).get("sla") or {}
    assert sla.get("verdict") == "INCOMPLETE" and sla.get("partial"), sla.get("reasons")

    # The fix the note gives: copy the worker's shards in, score again → complete, every record counted.
    for shard in (elsewhere / "requests").glob("*.parquet"):
        shutil.copy(shard, run_dir / "requests" / shard.name)
    assert main(["score", str(run_dir)]) != EXIT_PARTIAL
    manifest = orjson.loads((run_dir / "manifest.json").read_bytes())
    assert manifest["complete"] is True and manifest["missing_shards"] == []
    assert any(away in n and "copied into requests/" in n for n in manifest["notes"])
    summary = orjson.loads((run_dir / "summary.json").read_bytes())
    assert summary["sla"]["verdict"] != "INCOMPLETE" and not summary["sla"]["partial"]
