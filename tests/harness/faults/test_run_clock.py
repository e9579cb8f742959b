"""End to end: a run's faults happen on the load's clock, and a fault that fails does not cost the results."""

from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ground.records import RunManifest
from harness.faults.timeline import read_timeline
from harness.recorder import read_requests
from harness.run import faults as run_faults
from harness.run.runner import execute
from tests.fixtures.runs import quiet_run_request

FAILOVER = {"duration_s": 6, "rate": 10, "kill_at_s": 2, "down_s": 1.5, "drain_s": 1}
TOLERANCE_S = 0.5  # a correctness bound (the old origin was off by seconds), not a performance figure


def _run(tmp_path: Path, **extra: object) -> Path:
    request = quiet_run_request(tmp_path, "failover", overrides=FAILOVER, seed=3, **extra)
    return execute(request).run_dir


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_the_kill_happens_kill_at_s_after_the_first_scheduled_slot(tmp_path: Path) -> None:
    run_dir = _run(tmp_path)
    requests = read_requests(run_dir).to_pandas()
    first_slot = float(requests["scheduled_at"].min())
    (inject,) = [e for e in read_timeline(run_dir / "faults.jsonl") if e.action == "inject"]
    assert inject.ok and inject.ended_at is not None and inject.ended_at >= inject.at
    assert abs((inject.at - first_slot) - FAILOVER["kill_at_s"]) <= TOLERANCE_S, (inject.at, first_slot)
    # The origin both sides used is the one the load chose: slot 0 sits half a slot after it.
    start = json.loads((run_dir / "load-start-p0.json").read_text())["start_at"]
    assert first_slot == pytest.approx(start + 0.5 / FAILOVER["rate"], abs=1e-6)
    assert abs(inject.at - start - FAILOVER["kill_at_s"]) <= TOLERANCE_S


@pytest.mark.slow
@pytest.mark.timeout(300)
def test_a_failing_fault_is_recorded_and_the_run_still_exports_and_scores(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The failover step becomes a throttle with no limit to change: its inject fails at the mock's door.
    monkeypatch.setitem(run_faults.FAILOVER_FAULTS, "process", ("upstream-throttle", {}))
    monkeypatch.setitem(run_faults.FAILOVER_TARGETS, "process", "mock")
    run_dir = _run(tmp_path)
    events = read_timeline(run_dir / "faults.jsonl")
    errors = [e for e in events if e.action == "error"]
    assert len(errors) == 1 and not errors[0].ok
    assert "needs at least one limit" in errors[0].detail
    manifest = RunManifest.model_validate_json((run_dir / "manifest.json").read_text())
    assert manifest.complete
    assert any("fault action failed" in note and "needs at least one limit" in note for note in manifest.notes)
    assert (run_dir / "summary.json").exists()  # scored
    ledger = pq.read_table(run_dir / "ledger.parquet").to_pandas()  # exported
    assert len(ledger) > 0 and len(read_requests(run_dir)) > 0
