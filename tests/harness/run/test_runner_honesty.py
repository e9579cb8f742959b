"""Measurement honesty: tests that would fail if the load engine lied (issue 6).

Against the ``calibrated`` reference profile (every /api/ request waits a seeded lognormal draw, mean 100 ms and
standard deviation 60 ms: p50 85.7, p95 213.5, p99 311.5 ms; 2% fail with 500), which times every request itself
(``mocks/vendors/timing.py``):
- a real open-model run of sends: the harness's recorded p50/p95/p99 (nearest rank) are within 5% or 2 ms of
  the vendor's realised service time over the same requests, joined by correlation token, and no request was
  recorded faster than the vendor served it; the vendor's draws follow the injected distribution and its
  realised times never fall below them (a broken injection fails there). The numbers are printed;
- the comparison has teeth: a recorder 10% slow, one that credits each request with its neighbour's latency, one
  that drops its slowest records, or a vendor told the wrong distribution, each fail it;
- with the vendor frozen for 2 s mid-run (SIGSTOP/SIGCONT), the open model's corrected p99 shows the stall,
  while a closed-model run of the same vendor under-reports it. Both numbers are printed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from analysis.stats import percentile
from bench._calibrated_trial import Trial, calibrated_trial
from harness.recorder import read_requests
from harness.run.runner import execute
from mocks.vendors.settings import LatencySettings
from mocks.vendors.timing_check import Joined, compare, injection_checks, join
from tests.fixtures.runs import quiet_run_request
from tests.fixtures.vendors import SHIPPED_PROFILES

CALIBRATED = SHIPPED_PROFILES / "reference-calibrated.yaml"
STALL_S = 2.0
# A modest open-model rate. The loopback + server framing + client overhead (harness - vendor, per request) is about
# 2 ms at the median on the shared 2-core machine at 2-5 sends/s, more when the machine is busier (3 ms at load 4.7,
# 5.5 ms at load 9 and 10 sends/s): the vendor's own webhook and outbound work at higher rates adds to it. 150
# sends give a p99 at the second-largest value. The profile's median (86 ms) is long enough that 5% of it (4.3 ms)
# covers that overhead on a busy box, as the relative tolerance intends; the 2 ms floor alone would not.
RATE, SECONDS = 3.0, 50.0


def _run(tmp_path: Path, overrides: dict[str, Any], scenario: str = "failover") -> Any:
    request = quiet_run_request(tmp_path, scenario, vendor=CALIBRATED, overrides={"drain_s": 1, **overrides}, seed=11)
    return read_requests(execute(request).run_dir).to_pandas()


@pytest.fixture(scope="module")
def trial(tmp_path_factory: pytest.TempPathFactory) -> Trial:
    """One real run of sends at a constant open-model rate (a one-step capacity staircase) against the vendor."""
    overrides = {
        "start_rate": RATE,
        "step_rate": 1,
        "step_s": SECONDS,
        "steps": 1,
        "practical_target_rps": 1,
        "drain_s": 0.5,
    }
    return calibrated_trial(
        CALIBRATED, tmp_path_factory.mktemp("calibrated"), scenario="capacity", overrides=overrides, seed=11
    )


@pytest.fixture(scope="module")
def joined(trial: Trial) -> Joined:
    return join(trial.records, trial.rows)


def _failed(checks: list[Any]) -> set[str]:
    return {check.name for check in checks if not check.ok}


@pytest.mark.slow
def test_measured_percentiles_match_the_vendors_own_clock(trial: Trial, joined: Joined) -> None:
    ok_records = [r for r in trial.records if r["outcome"] == "ok"]
    errors = [r for r in trial.records if r["outcome"] != "ok"]
    checks = compare(joined.harness_ms, joined.vendor_ms)
    overhead = [h - v for h, v in zip(joined.harness_ms, joined.vendor_ms, strict=True)]
    print(
        f"{len(joined)} sends joined ({len(errors)} failed, injected 500s: {sum(r['status'] == 500 for r in errors)})"
    )
    print("overhead (harness - vendor) p50/p95/p99 ms:", [round(percentile(overhead, p) or 0, 2) for p in (50, 95, 99)])
    for check in checks:
        print(check.line())
    # Every successful record was served by the vendor and every accepted send was recorded (join checks both).
    assert len(joined) == len(ok_records) >= 0.9 * RATE * SECONDS
    # Errors are only the injected ones: nothing else went wrong in the run.
    assert all(r["status"] == 500 and r["error_code"] == "injected_error" for r in errors)
    # The promise holds whenever the harness was not the bottleneck; a harness-bound run says so in its summary
    # (analysis.harness_health), and then only that statement is required of it.
    harness = json.loads((trial.run_dir / "summary.json").read_text())["harness"]
    print("harness:", harness["measured"], "bound" if harness["bound"] else "healthy", harness.get("reason") or "")
    assert harness["measured"], "the run's health was not sampled"
    if harness["bound"]:
        assert harness["reason"].startswith("harness-bound"), harness
    else:
        assert not _failed(checks), "\n".join(check.line() for check in checks)


@pytest.mark.slow
def test_the_vendor_realised_the_injected_distribution(trial: Trial, joined: Joined) -> None:
    assert trial.latency is not None and trial.latency.distribution == "lognormal"
    checks = injection_checks(joined, trial.latency)
    for check in checks:
        print(check.line())
    assert not _failed(checks), "\n".join(check.line() for check in checks)


@pytest.mark.slow
def test_the_comparison_fails_a_lying_recorder_or_a_broken_injection(trial: Trial, joined: Joined) -> None:
    harness, vendor = list(joined.harness_ms), list(joined.vendor_ms)
    assert not _failed(compare(harness, vendor))  # the honest figures pass (as in the test above) ...
    # ... a recorder whose latencies run 10% slow fails every percentile;
    assert {"p50", "p95", "p99"} <= _failed(compare([h * 1.10 for h in harness], vendor))
    # ... one that credits each request with its neighbour's latency keeps the same percentiles, but then some
    # request is recorded faster than the vendor served it: the floor catches it;
    shifted = harness[1:] + harness[:1]
    assert _failed(compare(shifted, vendor)) == {"floor (largest vendor - harness)"}
    # ... one that loses its slowest 2% of records no longer joins with what the vendor served;
    ok_records = sorted((r for r in trial.records if r["outcome"] == "ok"), key=lambda r: float(r["latency_ms"]))
    slowest = {r["correlation_id"] for r in ok_records[-max(1, len(ok_records) // 50) :]}
    kept = [r for r in trial.records if r["correlation_id"] not in slowest]
    with pytest.raises(ValueError, match="not in the records"):
        join(kept, trial.rows)
    # ... and a vendor that was told another distribution than it drew (a broken injection) fails its checks.
    for wrong in (
        LatencySettings(distribution="lognormal", mean_ms=40.0, stddev_ms=30.0),
        LatencySettings(distribution="fixed", ms=60.0),
    ):
        failed = _failed(injection_checks(joined, wrong))
        assert any(name.startswith("injected share") for name in failed), wrong


@pytest.mark.slow
def test_open_model_shows_a_stall_that_the_closed_model_hides(tmp_path: Path) -> None:
    stall = {"duration_s": 14, "kill_at_s": 5, "down_s": STALL_S, "stall": True}
    open_run = _run(tmp_path / "open", {**stall, "rate": 20, "pool_size": 100})
    closed_run = _run(tmp_path / "closed", {**stall, "load_model": "closed", "users": 1, "think_time_s": 0.05})
    open_p99 = float(np.percentile(open_run["corrected_latency_ms"], 99))
    closed_p99 = float(np.percentile(closed_run["latency_ms"], 99))
    print(f"stall {STALL_S:g} s: open-model corrected p99 = {open_p99:.0f} ms; closed-model p99 = {closed_p99:.0f} ms")
    open_slow = int((open_run["corrected_latency_ms"] > 1000).sum())
    closed_slow = int((closed_run["latency_ms"] > 1000).sum())
    print(f"samples over 1 s: open {open_slow} of {len(open_run)}, closed {closed_slow} of {len(closed_run)}")
    # Slots keep arriving during the stall (20/s for 2 s); each waits for the freeze to end, so about the first half
    # of them wait over 1 s, well over 1% of the run: the corrected p99 shows the stall.
    assert open_slow >= 0.4 * 20 * STALL_S
    assert open_p99 > 1000
    # The single closed-model user sends one request into the stall and waits with it: one slow sample, however
    # long the stall, is all a closed model ever records (coordinated omission). Its p99 depends on the run's
    # sample count, so the count is what is asserted.
    assert closed_slow <= 1
    assert closed_run["scheduled_at"].isna().all()
