"""Distributed runs: master + 2 local worker processes split the schedule, both record, counts match the ledger."""

from __future__ import annotations

from pathlib import Path

import pyarrow.parquet as pq
import pytest

from ground.records import RunManifest
from harness.recorder import read_requests
from harness.run.runner import execute
from tests.fixtures.runs import quiet_run_request


@pytest.mark.slow
def test_two_local_workers_both_record_and_merged_counts_match_the_ledger(tmp_path: Path) -> None:
    request = quiet_run_request(
        tmp_path,
        "broadcast",
        overrides={"recipients": 60, "rate": 12, "live_share": 0.0, "drain_s": 3, "pool_size": 50},
        workers=2,
        seed=5,
    )
    run_dir = execute(request).run_dir
    manifest = RunManifest.model_validate_json((run_dir / "manifest.json").read_text())
    assert manifest.complete
    requests = read_requests(run_dir).to_pandas()
    per_worker = requests.groupby("worker").size().to_dict()
    assert set(per_worker) == {"worker-0", "worker-1"}, per_worker
    # The constant schedule is split by alternating slots: the two shares differ by at most one slot.
    assert abs(per_worker["worker-0"] - per_worker["worker-1"]) <= 1
    assert len(requests) == 60
    assert requests["correlation_id"].is_unique
    ledger = pq.read_table(run_dir / "ledger.parquet").to_pandas()
    acked = requests[requests["outcome"] == "ok"]
    outbound = ledger[ledger["direction"] == "outbound"]
    tokens = set(outbound["correlation_id"].dropna())
    assert set(acked["correlation_id"]) == tokens
    assert len(outbound) == len(acked)
