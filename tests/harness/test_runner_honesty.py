"""Measurement honesty: tests that would fail if the load engine lied (issue 6).

Against the ``calibrated`` reference profile (every /api/ request waits exactly 50 ms, 2% fail with 500):
- the measured p50/p95/p99 of successful searches are never below the injected 50 ms and the median is within
  the loop's own overhead of it (printed; the 5% / 2 ms goal is measured by bench/measurement_accuracy.py);
- with the vendor frozen for 2 s mid-run (SIGSTOP/SIGCONT), the open model's corrected p99 shows the stall,
  while a closed-model run of the same vendor under-reports it. Both numbers are printed.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest

from harness.recorder import read_requests
from harness.runner import RunRequest, execute

VENDORS = Path(__file__).resolve().parents[2] / "vendors"
INJECTED_MS = 50.0
STALL_S = 2.0


def _run(tmp_path: Path, overrides: dict[str, Any], scenario: str = "failover") -> Any:
    request = RunRequest(
        vendor=VENDORS / "reference-calibrated.yaml",
        scenario=scenario,
        overrides={"drain_s": 1, **overrides},
        results_root=tmp_path,
        show_progress=False,
        seed=11,
    )
    return read_requests(execute(request).run_dir).to_pandas()


@pytest.mark.slow
def test_measured_percentiles_match_the_injected_latency(tmp_path: Path) -> None:
    # Searches on a tiny store: the vendor adds almost nothing of its own to the injected 50 ms.
    requests = _run(tmp_path, {"sizes": [10], "phase_s": 10, "rate": 8, "drain_s": 0}, scenario="data-volume")
    latency = requests.loc[requests["outcome"] == "ok", "latency_ms"].to_numpy()
    measured = {p: float(np.percentile(latency, p)) for p in (50, 95, 99)}
    print(f"injected {INJECTED_MS} ms; measured p50/p95/p99 = {measured} over {len(latency)} requests")
    # Never faster than the truth, and the median within the loop's own small overhead. The 5% / 2 ms
    # goal for p50/p95/p99 is a timing figure, so it is measured by bench/measurement_accuracy.py, not asserted
    # here on a shared 2-core machine.
    assert len(latency) >= 70
    assert min(measured.values()) >= INJECTED_MS
    assert measured[50] - INJECTED_MS <= 10.0


@pytest.mark.slow
def test_open_model_shows_a_stall_that_the_closed_model_hides(tmp_path: Path) -> None:
    stall = {"duration_s": 14, "kill_at_s": 5, "down_s": STALL_S, "stall": True}
    open_run = _run(tmp_path / "open", {**stall, "rate": 20, "pool_size": 100})
    closed_run = _run(tmp_path / "closed", {**stall, "load_model": "closed", "users": 1, "think_time_s": 0.05})
    open_p99 = float(np.percentile(open_run["corrected_latency_ms"], 99))
    closed_p99 = float(np.percentile(closed_run["latency_ms"], 99))
    print(f"stall {STALL_S:g} s: open-model corrected p99 = {open_p99:.0f} ms; closed-model p99 = {closed_p99:.0f} ms")
    # Slots keep arriving during the stall; each waits for the freeze to end, so well over 1% of them wait > 1 s.
    assert open_p99 > 1000
    # The single closed-model user sends one request into the stall and then waits with it: one slow sample.
    assert closed_p99 < open_p99 / 4
    assert closed_run["scheduled_at"].isna().all()
