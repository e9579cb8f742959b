"""reply drift (p95 reply latency, last full minute ÷ first): a trailing part-minute never counts."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest

from analysis.sla import evaluate_criterion, sla_from_criteria
from analysis.sla_metrics import Evidence, reply_drift
from tests.analysis import frames as f

DRIFT = {"id": "drift", "metric": "reply_latency_drift_ratio", "aggregation": "last_over_first_minute", "target": 1.5}


def _evidence(duration_s: float | None, p95: list[float], count: list[int]) -> Evidence:
    run: dict[str, Any] = {"scenario": "peak", "scenario_params": {}}
    if duration_s is not None:
        run["duration_s"] = duration_s
    timeline = {"t": [60.0 * i for i in range(len(p95))], "count": count, "p95_ms": p95}
    empty = pd.DataFrame()
    return Evidence({"run": run, "reply_timeline": timeline}, f.requests([]), empty, empty, empty, f.T0)


def test_a_trailing_part_minute_is_left_out() -> None:
    # Minutes 1 and 2 steady; the run stopped 5 s into minute 3, whose three replies include one slow one.
    m = reply_drift(_evidence(125.0, [1000.0, 1100.0, 9000.0], [60, 60, 3]), "last_over_first_minute", None)
    assert m.value == pytest.approx(1.1)
    assert m.samples == 120
    assert "1.1 s in minute 2" in m.detail and "1 part-minute at the end left out" in m.detail


def test_a_minute_the_run_covered_to_nine_tenths_counts() -> None:
    # 174 s: minute 3 (120–180 s) covered to 54 s of 60, the full-window share of analysis.degradation.
    m = reply_drift(_evidence(174.0, [1000.0, 1100.0, 9000.0], [60, 60, 55]), "last_over_first_minute", None)
    assert m.value == pytest.approx(9.0)
    assert "9 s in minute 3" in m.detail and "left out" not in m.detail
    short = reply_drift(_evidence(173.0, [1000.0, 1100.0, 9000.0], [60, 60, 55]), "last_over_first_minute", None)
    assert short.value == pytest.approx(1.1)


def test_one_full_minute_and_a_part_is_not_a_drift() -> None:
    m = reply_drift(_evidence(70.0, [1000.0, 9000.0], [60, 5]), "last_over_first_minute", None)
    assert m.value is None and m.detail.startswith("fewer than two full minutes of replies")
    spec = sla_from_criteria("t", [DRIFT], source="test")
    row = evaluate_criterion(spec.criteria[0], _evidence(70.0, [1000.0, 9000.0], [60, 5]))
    assert row["status"] == "not_applicable"  # not a failure made of five replies


def test_the_part_minute_no_longer_fails_a_steady_run() -> None:
    spec = sla_from_criteria("t", [DRIFT], source="test")
    row = evaluate_criterion(spec.criteria[0], _evidence(125.0, [1000.0, 1100.0, 9000.0], [60, 60, 3]))
    assert row["status"] == "pass", row["reason"]
