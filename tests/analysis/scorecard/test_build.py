"""The scorecard's arrangement of scored runs: ranking, verdicts, plain reasons, headline, grid, conditions."""

from __future__ import annotations

from pathlib import Path

from analysis.scorecard import make_scorecard
from analysis.scorecard.build import criterion_from
from tests.fixtures.scorecard import vendor_run


def test_bakeoff_is_ranked_with_plain_reasons(bakeoff_runs: list[Path]) -> None:
    card = make_scorecard(bakeoff_runs)
    verdicts = {v.name: (v.verdict, v.rank) for v in card.vendors}
    assert verdicts["steady"] == ("PASS", 1)
    # Scored by the analysis: lossy fails a critical criterion; degrading only the weight-10 reply latency:
    # 55/65 = 85 is CONDITIONAL.
    assert verdicts["degrading"] == ("CONDITIONAL", 2)
    assert verdicts["lossy"] == ("FAIL", 3)
    lossy = next(v for v in card.vendors if v.name == "lossy")
    assert lossy.reasons[0].startswith("failover: lost messages was 37, target ≤ 0")
    degrading = next(v for v in card.vendors if v.name == "degrading")
    assert degrading.reasons == ["failover: p95 reply latency was 5 s, target ≤ 2 s; worst at minute 1: 5 s"]
    steady = card.vendors[0]
    assert steady.reasons == [] and steady.score == 100.0


def test_headline_puts_target_beside_measured(bakeoff_runs: list[Path]) -> None:
    card = make_scorecard(bakeoff_runs)
    rows = {r.key: r for r in card.headline}
    assert rows["lost"].target == "≤ 0"
    assert rows["lost"].cells["lossy"].measured == "37 of 1,040 acknowledged (3.6%)"
    assert rows["lost"].cells["lossy"].status == "fail"
    # None lost: how many could have been, and the rule-of-three bound on the loss rate.
    assert rows["lost"].cells["steady"].measured == "0 of 1,160 acknowledged"
    assert rows["lost"].cells["steady"].interval == "failover · loss < 0.26% at 95% confidence"
    assert rows["recovery"].cells["lossy"].measured == "worst 20 s"
    assert rows["recovery"].cells["lossy"].interval.startswith("median 20 s over 1 fault")
    assert rows["api_p95"].target == "≤ 2,000 ms"
    assert rows["api_p95"].cells["steady"].interval.startswith("failover · 95% CI")  # which run it is from
    # No criterion on availability in this SLA: measured from the summary, shown without a status.
    assert rows["availability"].target == "no target in this SLA"
    assert rows["availability"].cells["steady"].measured == "96.7% (1,160 of 1,200 requests)"
    assert rows["availability"].cells["steady"].status is None
    assert "monthly allowance" in rows["budget"].cells["lossy"].measured


def test_grid_accounting_and_conditions(bakeoff_runs: list[Path]) -> None:
    card = make_scorecard(bakeoff_runs)
    keys = [k for k, *_ in card.criteria_columns]
    assert keys == ["failover/lost_acked", "failover/api_p95", "failover/reply_p95", "failover/recovery"]
    assert card.criteria_columns[0][2:] == (25.0, True)
    cell = card.cell("lossy", "failover/lost_acked")
    assert cell is not None and cell.status == "fail"
    assert {a.vendor: a.counts["lost"] for a in card.accounting} == {"steady": 0, "lossy": 37, "degrading": 0}
    assert card.conditions["runs"] == 3
    assert card.conditions["versions"] == {"scrmbench": "test"}
    assert card.conditions["unmeasured"]["steady"] == {
        "failover: memory": "the candidate's process is not ours to sample"
    }
    assert all(r.faults == ["process-kill on vendor-a at +100 s"] for r in card.runs)


def test_inconclusive_is_grey_and_says_needs_more_runs(results_dir: Path) -> None:
    run = vendor_run(results_dir / "x", vendor="x", inconclusive=True)
    card = make_scorecard([run])
    cell = card.cell("x", "failover/recovery")
    assert cell is not None and cell.status == "inconclusive" and "only 1 samples, 2 needed" in cell.reason


def test_head_to_head_names_the_faster_vendor(bakeoff_runs: list[Path]) -> None:
    card = make_scorecard(bakeoff_runs)
    # Run-level (the analysis's comparison): what it separates in words, the rest named on one line.
    assert any(s.startswith("failover: lossy vs degrading: error rate") for s in card.head_to_head)
    assert any(s.startswith("failover: not separable with these runs: API latency p95") for s in card.head_to_head)
    assert not any("request_p95_ms" in s or "reply_p99_ms" in s for s in card.head_to_head)
    # Loss in counts, never "no practical difference" between 37 lost and none.
    loss = next(s for s in card.head_to_head if s.startswith("failover: acknowledged messages lost"))
    assert "lossy lost 37 of 1,040" in loss and "steady lost 0 of 1,160 (loss < 0.26%" in loss
    assert "real difference" in loss
    assert not any("loss rate" in s for s in card.head_to_head)
    # Within the runs: customers are in these runs, so the reply time is compared, with its interval.
    line = next(s for s in card.head_to_head if s.startswith("failover: steady replies to customers faster than degr"))
    assert "reply latency p95 4,700 ms lower" in line and "95% CI" in line and line.endswith("meaningful.")


def test_criterion_reader_tolerates_missing_fields() -> None:
    c = criterion_from({"metric": "reply_latency_ms", "status": "weird"}, "peak")
    assert (c.status, c.measured, c.target, c.reason) == (
        "inconclusive",
        "not measured",
        "no target",
        "needs more runs",
    )
    higher = criterion_from(
        {
            "id": "a",
            "metric": "availability",
            "direction": "higher",
            "target": 0.999,
            "unit": "ratio",
            "measured": 0.9995,
            "status": "pass",
        },
        "peak",
    )
    assert higher.target == "≥ 99.90%" and higher.measured == "99.95%"


def test_a_figure_that_never_happened_and_operation_scopes_read_plainly() -> None:
    never = criterion_from(
        {"id": "r", "metric": "sustained_recovery_s", "status": "fail", "measured": None, "target": 90, "unit": "s"},
        "failover",
    )
    assert never.measured == "never, within the run"
    upload = criterion_from(
        {
            "id": "u",
            "title": "p95 latency",
            "metric": "latency_ms",
            "aggregation": "p95",
            "scope": {"operation": "upload_media"},
            "status": "pass",
            "measured": 300.0,
            "target": 5000,
            "unit": "ms",
        },
        "media-burst",
    )
    assert upload.label == "p95 latency (upload media)" and upload.operation == "upload_media"


def test_equal_verdict_and_score_share_a_rank(results_dir: Path) -> None:
    runs = [vendor_run(results_dir / n, vendor=n) for n in ("b-vendor", "a-vendor")]
    runs.append(vendor_run(results_dir / "c", vendor="c-vendor", lost=1))
    ranks = {v.name: (v.rank, v.rank_label) for v in make_scorecard(runs).vendors}
    assert ranks == {"a-vendor": (1, "1="), "b-vendor": (1, "1="), "c-vendor": (3, "3")}
