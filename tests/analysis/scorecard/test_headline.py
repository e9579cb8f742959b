"""The headline table shows, per vendor, the worst run's figure by value, the same figure in every cell of a row."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any, cast

from analysis.scorecard.build import criterion_from
from analysis.scorecard.headline import headline_rows, pct
from analysis.scorecard.inputs import RunBundle
from analysis.scorecard.model import VendorResult


def bundle(vendor: str, scenario: str, **sections: Any) -> RunBundle:
    summary = {"run": {"vendor": vendor, "scenario": scenario}, **sections}
    return RunBundle(cast(Any, SimpleNamespace()), summary)


def requests(started: int, errors: int) -> dict[str, Any]:
    return {"overall": {"started": started, "ok": started - errors, "errors": errors}}


def fault(ttr: float | None, used_pct: float, *, recovered: bool = True, bound: float | None = None) -> dict[str, Any]:
    return {
        "ttr_sustained_s": ttr,
        "recovered": recovered,
        "ttr_lower_bound_s": bound,
        "budget": {"99.9": {"downtime_used_pct": used_pct}},
    }


def vendor(name: str, *raw: tuple[str, dict[str, Any]]) -> VendorResult:
    criteria = [criterion_from(c, scenario) for scenario, c in raw]
    return VendorResult(name, "FAIL", 50.0, 1, [], [], criteria)


ERROR_RATE_PASS = {"id": "e", "metric": "error_rate", "target": 0.01, "unit": "ratio", "measured": 0, "status": "pass"}


def test_error_rate_is_the_worst_run_by_value_even_without_a_criterion() -> None:
    runs = [
        bundle("a", "media-burst", requests=requests(120, 0)),
        bundle("a", "failover", requests=requests(2400, 849)),
        bundle("b", "media-burst", requests=requests(120, 0)),
    ]
    vendors = [vendor("a", ("media-burst", ERROR_RATE_PASS)), vendor("b", ("media-burst", ERROR_RATE_PASS))]
    rows = {r.key: r for r in headline_rows(vendors, runs)}
    cell = rows["error_rate"].cells["a"]
    # The media-burst criterion passed at 0%; the failover run without a criterion is what a buyer must see.
    assert cell.measured == "35.4% (849 of 2,400 requests)"
    assert cell.interval.startswith("failover, worst of 2 runs; no target for failover · 95% CI 33.5%")
    assert cell.status is None
    assert rows["error_rate"].cells["b"].status == "pass"
    assert rows["availability"].cells["a"].measured == "64.6% (1,551 of 2,400 requests)"


def test_one_apdex_kind_per_row() -> None:
    runs = [
        bundle("a", "peak", apdex={"reply": {"score": 0.73, "rating": "Fair", "total": 735}, "delivery": None}),
        bundle("a", "failover", apdex={"delivery": {"score": 1.0, "rating": "Excellent", "total": 10}}),
        bundle("b", "failover", apdex={"delivery": {"score": 0.09, "rating": "Unacceptable", "total": 9}}),
    ]
    rows = {r.key: r for r in headline_rows([vendor("a"), vendor("b")], runs)}
    assert rows["apdex_reply"].cells["a"].measured == "0.73 Fair"
    assert rows["apdex_reply"].cells["b"].measured == "not measured"
    assert rows["apdex_delivery"].cells["a"].measured == "1.00 Excellent"
    assert rows["apdex_delivery"].cells["b"].measured == "0.09 Unacceptable"
    assert "T = 2 s" in rows["apdex_reply"].label and "T = 0.8 s" in rows["apdex_delivery"].label


def test_lost_messages_say_of_how_many_and_bound_a_zero() -> None:
    runs = [
        bundle("a", "failover", accounting={"lost": 316, "acked": 1013}),
        bundle("b", "failover", accounting={"lost": 0, "acked": 2398}),
        bundle("b", "media-burst", accounting={"lost": 0, "acked": 52}),
        bundle("b", "peak", accounting={"lost": 0, "acked": 0}),  # sent nothing: says nothing about loss
    ]
    rows = {r.key: r for r in headline_rows([vendor("a"), vendor("b")], runs)}
    assert rows["lost"].cells["a"].measured == "316 of 1,013 acknowledged (31.2%)"
    assert rows["lost"].cells["b"].measured == "0 of 2,450 acknowledged"
    assert rows["lost"].cells["b"].interval == "failover, media-burst · loss < 0.12% at 95% confidence"


def test_recovery_median_and_worst_and_lower_bounds() -> None:
    runs = [
        bundle("a", "failover", recovery={"faults": [fault(10, 0.04), fault(40, 1.5)]}),
        bundle("a", "failover", recovery={"faults": [fault(20, 0.5)]}),
        bundle("b", "failover", recovery={"faults": [fault(None, 2.0, recovered=False, bound=50)]}),
    ]
    rows = {r.key: r for r in headline_rows([vendor("a"), vendor("b")], runs)}
    assert rows["recovery"].cells["a"].measured == "worst 40 s"
    assert rows["recovery"].cells["a"].interval == "median 20 s over 3 faults · worst in failover"
    assert rows["recovery"].cells["b"].measured == "worst: not recovered (≥ 50 s)"
    assert rows["recovery"].cells["b"].interval.startswith("median ≥ 50 s over 1 fault")
    assert rows["budget"].cells["a"].measured == "1.5% of the monthly allowance"
    assert rows["budget"].cells["b"].measured == "≥ 2% of the monthly allowance"
    assert "never recovered" in rows["budget"].cells["b"].interval


def test_small_shares_keep_their_digits() -> None:
    assert [pct(x) for x in (0.0, 0.0004, 0.00001, 0.018, 0.354, 0.9992, 1.0)] == [
        "0%",
        "0.04%",
        "< 0.01%",
        "1.8%",
        "35.4%",
        "99.92%",
        "100%",
    ]
