"""Vendor comparison: Holm, Newcombe, Hodges–Lehmann, classification, and tied ranking."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from analysis.compare import CompareOptions, RunInput, compare, hodges_lehmann, holm, newcombe


def test_holm_adjusts_in_step_down_order() -> None:
    assert holm([0.01, 0.04, 0.03, None]) == [pytest.approx(0.03), pytest.approx(0.06), pytest.approx(0.06), None]
    assert holm([0.5, 0.9]) == [pytest.approx(1.0), pytest.approx(1.0)]


def test_newcombe_interval_brackets_the_difference() -> None:
    lo, hi = newcombe(10, 100, 5, 100) or (0.0, 0.0)
    assert lo < 0.05 < hi
    # By hand: Wilson 10/100 = (0.0552, 0.1744), 5/100 = (0.0215, 0.1118);
    # lo = 0.05 − √((0.10 − 0.0552)² + (0.1118 − 0.05)²), hi = 0.05 + √((0.1744 − 0.10)² + (0.05 − 0.0215)²).
    assert lo == pytest.approx(-0.0263, abs=5e-4)
    assert hi == pytest.approx(0.1297, abs=5e-4)
    assert newcombe(1, 0, 1, 10) is None


def test_hodges_lehmann_shift_and_superiority() -> None:
    a = np.arange(100, dtype=float)
    shift, superiority = hodges_lehmann(a, a + 50.0, 1000, np.random.default_rng(0)) or (0.0, 0.0)
    assert shift == pytest.approx(50.0)
    assert 0.8 < superiority < 0.9


def _summary(vendor: str, run_id: str, p95: float, errors: int, score: float, scenario: str = "peak") -> dict[str, Any]:
    return {
        "run": {"vendor": vendor, "run_id": run_id, "scenario": scenario},
        "requests": {"overall": {"latency_ms": {"p95": p95, "p99": p95 * 2}, "errors": errors, "started": 10_000}},
        "accounting": {"delivery_latency_ms": {"p95": None, "p99": None}, "lost": 0, "acked": 10_000},
        "recovery": {"faults": [], "worst_ttr_sustained_s": None},
        "sla": {"score": score, "verdict": "PASS" if score >= 90 else "FAIL"},
    }


def _runs(vendor: str, p95s: list[float], score: float, errors: int = 10) -> list[RunInput]:
    rng = np.random.default_rng(len(vendor))
    return [
        RunInput(_summary(vendor, f"{vendor}{i}", p95, errors, score + i * 0.1), rng.normal(p95 / 2, 10, 500))
        for i, p95 in enumerate(p95s)
    ]


def test_clear_winner_is_meaningful_and_ranked_first() -> None:
    runs = _runs("fast", [100, 105, 98, 102, 101], 95.0) + _runs("slow", [400, 420, 390, 410, 405], 60.0, errors=300)
    (group,) = compare(runs, CompareOptions(resamples=500))["groups"]
    p95 = next(p for p in group["pairs"] if p["metric"] == "request_p95_ms")
    assert (p95["a"], p95["b"]) == ("fast", "slow")
    assert p95["verdict"] == "meaningful"
    assert p95["ci95"][0] > p95["margin"]
    assert p95["hl_shift_ms"] == pytest.approx(150.0, abs=10.0)
    errors = next(p for p in group["pairs"] if p["metric"] == "error_rate")
    assert errors["verdict"] == "meaningful"
    assert [r["vendor"] for r in group["ranking"]] == ["fast", "slow"]
    assert [r["rank"] for r in group["ranking"]] == [1, 2]
    assert "slow vs fast: request_p95_ms" in p95["sentence"]


def test_close_vendors_share_a_rank_and_single_runs_are_insufficient() -> None:
    runs = _runs("a", [100, 101, 99, 100, 102], 92.0) + _runs("b", [101, 100, 100, 99, 101], 91.5)
    (group,) = compare(runs, CompareOptions(resamples=500))["groups"]
    p95 = next(p for p in group["pairs"] if p["metric"] == "request_p95_ms")
    assert p95["verdict"] == "no practical difference"
    assert [r["rank"] for r in group["ranking"]] == [1, 1]
    assert group["ranking"][0]["tied_with"] == ["b"]
    single = compare(_runs("a", [100], 92.0) + _runs("b", [300], 50.0))["groups"][0]
    assert next(p for p in single["pairs"] if p["metric"] == "request_p95_ms")["verdict"] == "insufficient runs"
    assert single["notes"]


def test_groups_by_scenario() -> None:
    runs = [*_runs("a", [100, 100], 90.0), RunInput(_summary("a", "x", 100, 1, 90.0, scenario="soak"))]
    assert [g["scenario"] for g in compare(runs, CompareOptions(resamples=200))["groups"]] == ["peak", "soak"]
