"""Calibration: judging a staircase from its records, the cache, the capacity check and the trial scheduler."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from harness.bakeoff_schedule import BUDGET_SHARE, TrialScheduler
from harness.run.calibrate import (
    Calibration,
    ProbeResult,
    cache_path,
    check_capacity,
    judge_steps,
    load_cached,
    planned_peaks,
    save,
    summarise,
)
from harness.run.capacity import MEASURED_PACKAGES, code_digest
from scenarios.registry import get as get_scenario

T0 = 1_750_000_000.0


def _requests(
    levels: list[float], step_s: float, *, ok_share: float = 1.0, dropped_at: int | None = None
) -> pd.DataFrame:
    rows = []
    for index, level in enumerate(levels):
        count = int(level * step_s)
        for n in range(count):
            at = T0 + index * step_s + n / level
            outcome = "ok" if n < ok_share * count else "failed"
            if dropped_at == index and n == 0:
                outcome = "dropped"
            rows.append({"scheduled_at": at, "started_at": at, "outcome": outcome})
    return pd.DataFrame(rows)


def _health(seconds: range, *, lag: dict[int, float] | None = None, cpu: float = 30.0) -> pd.DataFrame:
    rows = []
    for second in seconds:
        at = T0 + second + 0.5
        rows.append({"at": at, "source": "local", "role": "harness", "pid": 1, "metric": "cpu_pct", "value": cpu})
        rows.append({"at": at, "source": "mock", "role": "mock", "pid": 2, "metric": "cpu_pct", "value": cpu})
        value = (lag or {}).get(second, 1.0)
        rows.append(
            {"at": at, "source": "local", "role": "harness", "pid": 1, "metric": "loop_lag_ms_p95", "value": value}
        )
        for metric, v in (("cpu_busy_pct", 40.0), ("run_queue", 1.0), ("cores", 2.0)):
            rows.append({"at": at, "source": "machine", "role": "machine", "pid": None, "metric": metric, "value": v})
    return pd.DataFrame(rows)


def test_a_saturated_generator_ends_the_staircase() -> None:
    levels, step_s = [10.0, 20.0, 30.0, 40.0], 5.0
    lagging = {s: 80.0 for s in range(10, 15)}  # the third step: the generator's loop lags 80 ms
    steps = judge_steps(
        _requests(levels, step_s), _health(range(20), lag=lagging), start_at=T0, levels=levels, step_s=step_s
    )
    assert [s["clean"] for s in steps] == [True, True, False, True]
    assert "generator loop lag" in steps[2]["why"]
    result = summarise("sends", steps)
    assert result.capacity_per_s == 20.0  # the highest clean step before the first unclean one
    assert result.limited_by.startswith("30/s: harness-bound")


def test_dropped_slots_and_failures_make_a_step_unclean() -> None:
    levels, step_s = [10.0, 20.0], 5.0
    steps = judge_steps(
        _requests(levels, step_s, dropped_at=1), _health(range(10)), start_at=T0, levels=levels, step_s=step_s
    )
    assert steps[1]["dropped"] == 1 and "dropped" in steps[1]["why"]
    failing = judge_steps(
        _requests(levels, step_s, ok_share=0.5), _health(range(10)), start_at=T0, levels=levels, step_s=step_s
    )
    assert "answered" in failing[0]["why"]


def test_machine_rule_needs_both_busy_cpu_and_a_queue() -> None:
    levels, step_s = [10.0], 5.0
    busy = _health(range(5))
    busy.loc[(busy["metric"] == "cpu_busy_pct"), "value"] = 99.0
    quiet = judge_steps(_requests(levels, step_s), busy, start_at=T0, levels=levels, step_s=step_s)
    assert quiet[0]["clean"]  # busy, but nothing waiting for a core
    busy.loc[(busy["metric"] == "run_queue"), "value"] = 6.0
    hot = judge_steps(_requests(levels, step_s), busy, start_at=T0, levels=levels, step_s=step_s)
    assert not hot[0]["clean"] and "machine cpu" in hot[0]["why"]


def test_cpu_model_from_clean_steps() -> None:
    steps = [
        {"level": 100.0, "stack_cores": 0.3, "clean": True, "why": ""},
        {"level": 300.0, "stack_cores": 0.7, "clean": True, "why": ""},
        {"level": 500.0, "stack_cores": 1.9, "clean": False, "why": "harness-bound"},
    ]
    result = summarise("vendor", steps)
    assert result.cores_per_rps == pytest.approx(0.002)
    assert result.stack_base_cores == pytest.approx(0.1)


def _calibration(sends: float = 1000.0, vendor: float = 200.0) -> Calibration:
    probes = {
        "sends": ProbeResult("sends", sends, "x", [], 0.2, 0.001),
        "vendor": ProbeResult("vendor", vendor, "x", [], 0.3, 0.004),
    }
    return Calibration("host", 2, "0.1.0", T0, probes)


def test_cache_round_trip(tmp_path: Path) -> None:
    env = {"SCRMBENCH_CACHE_DIR": str(tmp_path)}
    assert load_cached(env) is None
    path = save(_calibration(), env)
    assert path == cache_path(env) and path.parent == tmp_path
    again = load_cached(env)
    assert again is not None and again.sends_per_s == 1000.0 and again.probes["vendor"].cores_per_rps == 0.004
    path.write_text("{not json")
    assert load_cached(env) is None  # unreadable: treated as not calibrated


def test_the_cache_is_keyed_by_the_code_it_measured_and_drops_other_code(tmp_path: Path) -> None:
    env = {"SCRMBENCH_CACHE_DIR": str(tmp_path)}
    assert re.fullmatch(r"[0-9a-f]{12}", code_digest()) and code_digest() in cache_path(env).name
    stale = cache_path(env).with_name(cache_path(env).name.replace(code_digest(), "0" * 12))
    stale.write_text(json.dumps(_calibration().to_json()))
    assert load_cached(env) is None  # a calibration of other code is not this code's
    path = save(_calibration(), env)
    assert not stale.exists() and [p.name for p in tmp_path.iterdir()] == [path.name]


def test_the_code_digest_follows_the_sources(tmp_path: Path) -> None:
    for package in MEASURED_PACKAGES:
        (tmp_path / package).mkdir()
        (tmp_path / package / "a.py").write_text("x = 1\n")
    before = code_digest(tmp_path)
    (tmp_path / "mocks" / "a.py").write_text("x = 2\n")
    assert code_digest.__wrapped__(tmp_path) != before  # the cache holds per root; the function reads anew


def test_capacity_check_warns_and_refuses() -> None:
    plan = get_scenario("capacity").plan({"start_rate": 100, "step_rate": 100, "steps": 5, "step_s": 5})
    assert planned_peaks(plan) == {"send_text": pytest.approx(500.0)}
    assert check_capacity(plan, None).verdict == "uncalibrated"
    assert check_capacity(plan, _calibration(sends=2000)).verdict == "ok"
    warn = check_capacity(plan, _calibration(sends=600))
    assert warn.verdict == "warn" and "83%" in warn.message
    refused = check_capacity(plan, _calibration(sends=600), parallel_trials=2)
    assert refused.verdict == "refuse" and "2 trials at once" in refused.message and refused.workers_needed >= 2
    assert check_capacity(plan, _calibration(sends=600), parallel_trials=2, remote_workers=2).verdict == "ok"


def test_a_probe_without_a_clean_step_leaves_its_operations_uncalibrated_not_refused() -> None:
    # A calibration made while other work saturated the machine: the vendor probe's first step was already unclean.
    calibration = _calibration(sends=1000, vendor=0.0)
    calibration.probes["vendor"].limited_by = "20/s: harness-bound 20% (machine cpu)"
    soak = get_scenario("soak").plan({})
    assert "customer_message" in planned_peaks(soak)
    check = check_capacity(soak, calibration)
    assert check.verdict == "uncalibrated" and check.share == 0.0
    assert "customer_message (20/s: harness-bound 20% (machine cpu))" in check.message
    assert "scrmbench calibrate" in check.message and "workers" not in check.message
    # Operations the calibration did measure are still checked against it.
    busy = get_scenario("capacity").plan({"start_rate": 100, "step_rate": 100, "steps": 5, "step_s": 5})
    assert check_capacity(busy, _calibration(sends=400, vendor=0.0)).verdict == "refuse"


class _Trial:
    def __init__(self, scenario: str, params: dict[str, float], out: Path) -> None:
        self.scenario, self.params, self.out = scenario, params, out


def test_scheduler_plans_by_cores_startups_and_free_cpu(tmp_path: Path) -> None:
    started: set[str] = set()
    busy = {"pct": 10.0}
    scheduler = TrialScheduler(2, _calibration(), busy_pct=lambda: busy["pct"], started=lambda t: t.scenario in started)
    a = _Trial("peak", {"duration_s": 30, "rate": 10, "spike_factor": 6}, tmp_path / "a")
    b = _Trial("failover", {"duration_s": 80, "rate": 30}, tmp_path / "b")
    c = _Trial("capacity", {}, tmp_path / "c")
    assert scheduler.admit([], a) == (True, "")  # nothing running: always
    assert scheduler.admit([a], b)[1] == "another trial is still starting"
    started.add("peak")
    assert scheduler.admit([a], b) == (True, "")
    started.add("failover")
    assert "trials running on 2 cores" in scheduler.admit([a, b], c)[1]  # one trial per core at most
    busy["pct"] = 95.0  # a hog beside the demo: no core free
    assert "cores free now" in scheduler.admit([a], b)[1]
    assert scheduler.cost(a) < BUDGET_SHARE * 2
    assert "by this machine's calibration" in scheduler.describe([a, b])
    uncalibrated = TrialScheduler(2, None, busy_pct=lambda: 0.0, started=lambda t: True)
    assert uncalibrated.cost(a) == 1.0
    assert "planned 2.0 cores" in uncalibrated.admit([a], b)[1]  # two whole cores > 70% of two
