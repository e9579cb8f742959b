"""Golden recovery, degradation, capacity and Apdex figures from hand-built records."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.apdex import apdex, rating
from analysis.capacity import capacity
from analysis.degradation import degradation
from analysis.recovery import RecoveryParams, fault_spans, recovery
from ground.records import FaultEvent
from tests.analysis import frames as f


def _failing(t: float) -> bool:
    # Fault injected at 50 s: fails 52–60, a flap of success 60–62, fails 62–65, healthy from 65.
    return 52 <= t < 60 or 62 <= t < 65


def _run(fail=_failing, end_s: float = 200.0) -> pd.DataFrame:
    times = np.round(np.arange(0, end_s, 0.1), 1)
    return f.requests([f.request(float(t), 50.0, ok=not fail(t)) for t in times])


def _faults(at: float = 50.0, clear: float = 70.0) -> list[FaultEvent]:
    return [
        FaultEvent(at=f.T0 + at, action="inject", fault="process-kill", target="a", fault_id="k1"),
        FaultEvent(at=f.T0 + clear, action="clear", fault="process-kill", target="a", fault_id="k1"),
    ]


def _messages(lost_at: list[float]) -> pd.DataFrame:
    return pd.DataFrame({"status": ["lost"] * len(lost_at), "sent_at": [f.T0 + t for t in lost_at]})


def test_golden_recovery_of_one_failover() -> None:
    result = recovery(_faults(), _run(), _messages([49.0, 51.5, 150.0]), f.T0 + 200.05, RecoveryParams())
    (fault,) = result["faults"]
    assert fault["ttd_s"] == 2.0
    assert fault["ttr_first_s"] == 10.0
    assert fault["ttr_sustained_s"] == 15.0
    assert fault["ttr_first_from_clear_s"] == -10.0
    assert fault["ttr_sustained_from_clear_s"] == -5.0
    assert fault["recovered"] is True
    assert fault["flaps"] == 1
    assert fault["outage_s"] == 11.0
    assert fault["errors_during_fault"] == 110
    assert fault["duration_s"] == 20.0
    assert fault["budget"]["99.9"]["downtime_used_pct"] == pytest.approx(11 / (0.001 * 30 * 86400) * 100)
    assert fault["budget"]["99.9"]["error_budget_used_pct"] == pytest.approx(
        110 / (0.001 * (1500 / 150.05) * 30 * 86400) * 100
    )
    assert fault["lost_messages"] == 2  # the one at 150 s is long after recovery
    assert fault["recovery_point"] == {"first_s": -1.0, "last_s": 1.5, "span_s": 2.5}
    assert result["worst_ttr_sustained_s"] == 15.0
    assert result["all_recovered"] is True


def test_recovery_not_claimed_when_the_run_ends_first() -> None:
    requests = _run(lambda t: 150 <= t < 180)
    result = recovery(_faults(150.0, 180.0), requests, _messages([]), f.T0 + 200.05, RecoveryParams())
    (fault,) = result["faults"]
    assert fault["recovered"] is False
    assert fault["ttr_sustained_s"] is None
    assert fault["ttr_first_s"] == 30.0
    assert fault["ttr_lower_bound_s"] == pytest.approx(50.05)
    assert result["worst_ttr_sustained_s"] is None


def test_unnoticed_fault_recovers_at_once_and_windows_are_configurable() -> None:
    result = recovery(_faults(), _run(lambda t: False), _messages([]), f.T0 + 200.05, RecoveryParams())
    assert (result["faults"][0]["ttd_s"], result["faults"][0]["ttr_sustained_s"]) == (0.0, 0.0)
    short = RecoveryParams(short_window_s=2.0, confirm_window_s=5.0)
    fault = recovery(_faults(), _run(), _messages([]), f.T0 + 200.05, short)["faults"][0]
    assert fault["ttr_sustained_s"] == 15.0  # 60–62 s is a 2 s window but its next 5 s fail
    assert (
        recovery(_faults(), _run(), _messages([]), f.T0 + 200.05, RecoveryParams(short_window_s=1, confirm_window_s=1))[
            "faults"
        ][0]["ttr_sustained_s"]
        == 10.0
    )


def test_fault_pairing_without_ids() -> None:
    events = [
        FaultEvent(at=1.0, action="inject", fault="latency"),
        FaultEvent(at=2.0, action="note", fault="latency"),
        FaultEvent(at=3.0, action="clear", fault="latency"),
        FaultEvent(at=4.0, action="inject", fault="latency"),
    ]
    spans = fault_spans(events)
    assert [(s.injected_at, s.cleared_at) for s in spans] == [(1.0, 3.0), (4.0, None)]


def test_golden_degradation_slope_and_ratio() -> None:
    # One record per minute, latency 100 + 10·minute: p95 rises 10 ms a minute = 600 ms an hour.
    rows = [f.request(60.0 * m + 1, 100.0 + 10 * m) for m in range(10)]
    result = degradation(f.requests(rows), f.T0, window_s=60.0, end=f.T0 + 600.0)  # the run lasted 10 minutes
    assert (result["windows"], result["partial_windows"]) == (10, 0)
    assert result["slope_ms_per_hour"] == pytest.approx(600.0)
    assert result["first_p95_ms"] == 100.0
    assert result["last_p95_ms"] == 190.0
    assert result["last_first_ratio"] == pytest.approx(1.9)
    assert result["hourly"] == [
        {"hour": 0, "count": 10, "p50_ms": 140.0, "p95_ms": 190.0, "p99_ms": 190.0, "error_rate": 0.0}
    ]


def test_degradation_leaves_out_a_trailing_part_window() -> None:
    # Ten full minutes of 100 ms, then the run stops 1 s into minute 11 with one 500 ms request. That request is
    # the whole of the last window's p95: counting it would report a 5× drift of a flat system.
    rows = [f.request(60.0 * m + s, 100.0) for m in range(10) for s in range(0, 60, 6)]
    rows.append(f.request(600.5, 500.0))
    result = degradation(f.requests(rows), f.T0, window_s=60.0)
    assert (result["windows"], result["partial_windows"]) == (10, 1)
    assert (result["first_p95_ms"], result["last_p95_ms"], result["last_first_ratio"]) == (100.0, 100.0, 1.0)
    assert result["slope_ms_per_hour"] == 0.0
    # The hourly table still counts every request, the trailing one included.
    assert result["hourly"][0]["count"] == 101
    # Had the run gone on to the end of minute 11, that window would be full and count.
    extended = degradation(f.requests(rows), f.T0, window_s=60.0, end=f.T0 + 660.0)
    assert (extended["windows"], extended["last_first_ratio"]) == (11, 5.0)


def test_degradation_of_a_run_shorter_than_one_window_has_no_figures() -> None:
    rows = [f.request(s, 100.0 + s) for s in range(30)]
    result = degradation(f.requests(rows), f.T0, window_s=60.0)
    assert (result["windows"], result["partial_windows"]) == (0, 1)
    assert (result["last_first_ratio"], result["slope_ms_per_hour"]) == (None, None)


def test_golden_capacity_points() -> None:
    rows = []
    for step, (rate, p95, errors) in enumerate([(10, 100.0, 0), (20, 200.0, 0), (30, 600.0, 0), (40, 100.0, 40)]):
        for i in range(rate * 10):
            rows.append(f.request(step * 10 + i / rate, p95, ok=i >= errors))
    result = capacity(f.requests(rows), f.T0, 10.0, p95_target_ms=500.0, error_target=0.01)
    assert [s["offered_rps"] for s in result["steps"]] == [10.0, 20.0, 30.0, 40.0]
    assert [s["meets"] for s in result["steps"]] == [True, True, False, False]
    assert result["steps"][3]["error_rate"] == pytest.approx(0.1)
    assert (result["practical_rps"], result["ideal_rps"], result["crash_rps"]) == (20.0, 30.0, 40.0)


def test_capacity_crash_when_goodput_stops_rising() -> None:
    rows = [f.request(i / 10, 10.0) for i in range(100)]  # 10/s all ok
    rows += [f.request(10 + i / 20, 10.0, ok=i % 2 == 0) for i in range(200)]  # 20/s offered, 10/s good
    result = capacity(f.requests(rows), f.T0, 10.0, p95_target_ms=500.0, error_target=0.01)
    assert result["crash_rps"] == 20.0


def test_golden_apdex() -> None:
    result = apdex(np.array([100.0, 400.0, 600.0, 1500.0, 2500.0, np.nan]), 500.0)
    assert (result["satisfied"], result["tolerating"], result["frustrated"], result["total"]) == (2, 2, 2, 6)
    assert result["score"] == pytest.approx(0.5)
    assert result["rating"] == "Poor"
    assert [rating(x) for x in (0.95, 0.9, 0.75, 0.5, 0.2)] == ["Excellent", "Good", "Fair", "Poor", "Unacceptable"]
    assert apdex(np.array([]), 500.0)["score"] is None


def test_customer_messages_do_not_hide_a_vendor_outage() -> None:
    times = np.round(np.arange(0, 200, 0.1), 1)
    rows = [f.request(float(t), 50.0, ok=not _failing(t)) for t in times]
    rows += [f.request(float(t), 5.0, operation="customer_message") for t in times]  # the mock always answers
    result = recovery(_faults(), f.requests(rows), _messages([]), f.T0 + 200.05, RecoveryParams())
    assert result["faults"][0]["ttr_sustained_s"] == 15.0
