"""Every scenario end to end at a tiny size against a reference vendor: mock + vendor + Locust + export + score.

Each run takes seconds; together they are the proof that `scrmbench run --scenario NAME` works for all nine.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest

from ground.records import RunManifest
from harness.faults.timeline import read_timeline
from harness.recorder import read_requests
from harness.run.runner import execute
from tests.fixtures.runs import quiet_run_request

TINY: dict[str, dict[str, Any]] = {
    "peak": {"duration_s": 5, "rate": 4, "drain_s": 2},
    "broadcast": {"recipients": 40, "rate": 20, "drain_s": 2},
    "media-burst": {"uploads": 10, "rate": 5, "max_image_kb": 40, "max_pdf_kb": 60, "drain_s": 1},
    "failover": {"duration_s": 8, "rate": 5, "kill_at_s": 2, "down_s": 2, "drain_s": 2},
    "soak": {"duration_s": 10, "rate": 8, "drain_s": 1},
    "data-volume": {"sizes": [50, 200], "phase_s": 3, "rate": 4, "drain_s": 0},
    "capacity": {"start_rate": 4, "step_rate": 4, "step_s": 2, "steps": 3, "drain_s": 1},
    "throttle": {"duration_s": 6, "rate": 6, "throttle_at_s": 1, "throttle_s": 3, "drain_s": 4},
    "webhook-storm": {"duration_s": 5, "rate": 6, "drain_s": 2},
}

# Operations whose sends must reach the mock's ledger (correlation token found there).
DELIVERED = {"send_text", "send_template"}


def run_tiny(tmp_path: Path, scenario: str, **extra: Any) -> Path:
    request = quiet_run_request(
        tmp_path, scenario, overrides={**TINY[scenario], **extra.pop("overrides", {})}, seed=3, **extra
    )
    return execute(request).run_dir


@pytest.mark.slow
@pytest.mark.parametrize("scenario", sorted(TINY))
def test_scenario_runs_end_to_end(tmp_path: Path, scenario: str) -> None:
    run_dir = run_tiny(tmp_path, scenario)
    manifest = RunManifest.model_validate_json((run_dir / "manifest.json").read_text())
    assert manifest.complete and manifest.scenario == scenario
    requests = read_requests(run_dir).to_pandas()
    assert len(requests) > 0
    assert (requests["scenario"] == scenario).all()
    assert requests["scheduled_at"].notna().all()  # open model: every record carries its slot
    assert (requests["corrected_latency_ms"] >= requests["latency_ms"] - 1e-6).all()
    ok = requests[requests["outcome"] == "ok"]
    assert len(ok) > 0.5 * len(requests), requests["error_text"].value_counts().head()
    ledger = pq.read_table(run_dir / "ledger.parquet").to_pandas()
    sent = ok[ok["operation"].isin(DELIVERED)]
    if len(sent):
        delivered = set(ledger["correlation_id"].dropna())
        assert sent["correlation_id"].isin(delivered).mean() > 0.9
    assert (run_dir / "summary.json").exists()
    assert (run_dir / "faults.jsonl").exists()
    if scenario in ("failover", "throttle"):  # the fault schedule ran: injected, then cleared, both recorded
        actions = [(e.action, e.ok) for e in read_timeline(run_dir / "faults.jsonl") if e.action in ("inject", "clear")]
        assert actions == [("inject", True), ("clear", True)]
    if scenario == "soak":  # the candidate's memory, sampled because the vendor runs locally
        assert "primary" in (run_dir / "resources.jsonl").read_text()


@pytest.mark.slow
def test_mock_settings_reach_the_run_mock_and_a_spilling_ledger_still_exports_every_row(tmp_path: Path) -> None:
    # A ledger that keeps 5 rows in memory spills nearly everything to disk segments during the run; the export
    # must still join every acknowledged send to its ledger row.
    run_dir = run_tiny(tmp_path, "webhook-storm", mock_settings={"ledger": {"memory_rows": 5}})
    config = (run_dir / "mock-config.yaml").read_text()
    assert "memory_rows: 5" in config and "enforce_customer_window: false" in config  # merged, not replaced
    requests = read_requests(run_dir).to_pandas()
    sent = requests[(requests["outcome"] == "ok") & requests["operation"].isin(DELIVERED)]
    ledger = pq.read_table(run_dir / "ledger.parquet").to_pandas()
    assert len(sent) > 5 and len(ledger) > 5
    assert sent["correlation_id"].isin(set(ledger["correlation_id"].dropna())).all()
