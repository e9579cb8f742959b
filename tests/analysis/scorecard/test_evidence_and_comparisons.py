"""Evidence charts draw every run; head-to-head lines compare what matters; reasons name the designed cause."""

from __future__ import annotations

import json
import re
from pathlib import Path

from analysis.scorecard import make_scorecard, render, series
from analysis.scorecard.build import assign_ranks
from analysis.scorecard.charts import build_charts, marks_for, trace_names
from analysis.scorecard.headtohead import loss_line, successful_latency
from analysis.scorecard.inputs import load_bundles
from analysis.scorecard.model import VendorResult
from analysis.stats import percentile
from tests.fixtures.scorecard import vendor_run


def test_every_run_is_drawn_with_its_own_marks(results_dir: Path) -> None:
    runs = [
        vendor_run(results_dir / "s1", vendor="steady"),
        vendor_run(results_dir / "s2", vendor="steady", fault_s=20),
        vendor_run(results_dir / "l1", vendor="lossy", lost=5),
    ]
    bundles = load_bundles(runs)
    assert trace_names(bundles) == ["steady run 1", "steady run 2", "lossy"]
    charts, _ = build_charts(bundles)
    latency = json.loads(next(c.spec for c in charts if c.title == "failover: latency over time"))
    names = [t.get("name") for t in latency["data"]]
    assert {"steady run 1 p95", "steady run 2 p95", "lossy p95"} <= set(names)
    # Each run's sustained-recovery star sits on its own run's line, at its own time.
    stars = {t["name"]: t["x"] for t in latency["data"] if t.get("name", "").endswith("sustained recovery")}
    t0 = bundles[0].manifest.started_at
    for name, bundle in zip(trace_names(bundles), bundles, strict=True):
        fault = bundle.summary["recovery"]["faults"][0]
        assert stars[f"{name} sustained recovery"] == [fault["injected_at"] - t0 + fault["ttr_sustained_s"]]
    assert {m.vendor for m in marks_for(bundles[1], "steady run 2")} == {"steady run 2"}


def test_window_percentiles_are_the_summarys_nearest_rank(results_dir: Path) -> None:
    bundle = load_bundles([vendor_run(results_dir / "r", vendor="v")])[0]
    table = series.latency_windows(bundle.requests, bundle.manifest.started_at, 10.0)
    felt = series.felt_latency(bundle.requests).to_numpy(dtype="float64")
    window = ((bundle.requests["started_at"] - bundle.manifest.started_at) // 10.0).to_numpy()
    for t, p50, p95 in zip(table["t"], table["p50"], table["p95"], strict=True):
        values = felt[window == float(t) / 10.0]
        assert p95 == percentile(values, 95) and p50 == percentile(values, 50)
    # Over the whole run, the same definition summary.json's request latency uses.
    whole = series.latency_windows(bundle.requests, bundle.manifest.started_at, 1e6)
    assert whole.loc[0, "p95"] == percentile(felt, 95)


def test_failover_latency_compares_successful_requests_only(results_dir: Path) -> None:
    bundle = load_bundles([vendor_run(results_dir / "l", vendor="lossy", lost=37, fault_s=20)])[0]
    overall = bundle.summary["requests"]["overall"]
    assert overall["errors"] > 0
    assert successful_latency(bundle).size == overall["ok"]


def test_any_acknowledged_loss_against_none_is_stated() -> None:
    blocks = [
        {"vendor": "a", "loss_rate": {"events": 20, "n": 20_000}},
        {"vendor": "b", "loss_rate": {"events": 0, "n": 20_000}},
    ]
    line = loss_line("failover", blocks)
    assert line is not None
    assert "a lost 20 of 20,000 (0.10%)" in line and "b lost 0 of 20,000 (loss < 0.01% at 95% confidence)" in line
    assert "real difference" in line and "no practical difference" not in line
    none = loss_line("peak", [{**b, "loss_rate": {"events": 0, "n": 10}} for b in blocks])
    assert none is not None and none.startswith("peak: no vendor lost an acknowledged message")


def test_each_reference_vendor_fails_for_its_designed_cause(bakeoff_runs: list[Path]) -> None:
    """Scored by the analysis from the records: degrading for its replies, lossy for lost acknowledged messages."""
    page = render.render_html(make_scorecard(bakeoff_runs))
    strip = page.split('id="verdicts"')[1].split("</section>")[0]
    why = dict(re.findall(r'data-vendor="([^"]+)">.*?class="badge">\w+<.*?class="why">(.*?)</span>', strip, re.S))
    assert why["steady"].startswith("met every criterion")
    assert "reply latency was 5 s" in why["degrading"] and "lost" not in why["degrading"]
    assert "lost messages was 37" in why["lossy"] and "acknowledged" in why["lossy"]
    assert "reply latency" not in why["lossy"]


def test_not_separated_vendors_share_a_rank_with_a_reason(results_dir: Path) -> None:
    runs = [
        vendor_run(results_dir / "a", vendor="slow-replies", reply_ms=5000),
        vendor_run(results_dir / "b", vendor="lossy", lost=3, reply_ms=5000),
        vendor_run(results_dir / "c", vendor="lossier", lost=30),
    ]
    ranked = [(v.name, v.verdict, v.rank_label) for v in make_scorecard(runs).vendors]
    # A different verdict separates; within FAIL the scores differ (62 vs 46) but one run each cannot tell.
    assert ranked == [("slow-replies", "CONDITIONAL", "1"), ("lossier", "FAIL", "2="), ("lossy", "FAIL", "2=")]
    lossy = make_scorecard(runs).vendors[2]
    assert lossy.rank_note == "with lossier: scores not separated by the run-level comparison (more runs would tell)"


def test_a_separated_score_keeps_its_own_rank() -> None:
    def result(name: str, score: float) -> VendorResult:
        return VendorResult(name, "FAIL", score, 0, [], [])

    pair = {"a": "x", "b": "y", "metric": "sla_score", "verdict": "meaningful", "difference": -20.0}
    results = [result("x", 60.0), result("y", 40.0)]
    assign_ranks(results, {"groups": [{"pairs": [pair]}]})
    assert [(r.rank_label, r.rank_note) for r in results] == [("1", ""), ("2", "")]
    assign_ranks(results, {"groups": [{"pairs": [{**pair, "verdict": "not separated"}]}]})
    assert [r.rank_label for r in results] == ["1=", "1="]
