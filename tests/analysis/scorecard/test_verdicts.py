"""The scorecard takes each run's verdict and score from the analysis (summary.json) and combines a vendor's runs:
any FAIL fails it; else a run that did not complete makes it INCOMPLETE; else an undecided run INCONCLUSIVE."""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest

from analysis.load import load_run
from analysis.scorecard import make_scorecard, render
from analysis.scorecard.model import VERDICT_ORDER
from analysis.summary import build_summary
from harness.cli import main
from tests.fixtures.scorecard import fixture_sla, vendor_run


def _summary(run: Path) -> dict:
    return json.loads((run / "summary.json").read_text(encoding="utf-8"))["sla"]


def _cut_short(run: Path) -> Path:
    """The same run, marked as not completed (Ctrl-C), scored again by the analysis."""
    manifest = json.loads((run / "manifest.json").read_text(encoding="utf-8"))
    manifest["complete"] = False
    (run / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    summary = build_summary(load_run(run), sla=fixture_sla())
    (run / "summary.json").write_text(json.dumps(summary), encoding="utf-8")
    return run


def test_an_undecided_critical_criterion_is_inconclusive_not_fail(results_dir: Path) -> None:
    # Slow replies fail a weight-10 criterion and the critical recovery one is undecided (one fault, two needed).
    # Counting the undecided as half a point gave 69, FAIL; the analysis says INCONCLUSIVE, and so must the card.
    run = vendor_run(results_dir / "x", vendor="x", inconclusive=True, reply_ms=5000)
    sla = _summary(run)
    assert sla["verdict"] == "INCONCLUSIVE"
    vendor = make_scorecard([run]).vendors[0]
    assert vendor.verdict == "INCONCLUSIVE"
    assert vendor.score == pytest.approx(sla["score"], abs=0.05)  # the analysis's score over decided criteria
    assert vendor.decided_share == pytest.approx(sla["decided_weight_share"])
    lo, hi = vendor.score_range or (None, None)
    assert (lo, hi) == (pytest.approx(sla["score_range"][0], abs=0.05), pytest.approx(sla["score_range"][1], abs=0.05))
    assert vendor.reasons[0] == "inconclusive: failover needs more samples or runs to decide sustained recovery time"
    assert vendor.reasons[1].startswith("failover: p95 reply latency was 5 s")


def test_a_vendor_verdict_is_its_worst_run(results_dir: Path) -> None:
    steady = vendor_run(results_dir / "a1", vendor="a")
    undecided = vendor_run(results_dir / "a2", vendor="a", scenario="soak", inconclusive=True)
    assert (_summary(steady)["verdict"], _summary(undecided)["verdict"]) == ("PASS", "INCONCLUSIVE")
    assert make_scorecard([steady, undecided]).vendors[0].verdict == "INCONCLUSIVE"

    cut = _cut_short(vendor_run(results_dir / "b1", vendor="b", scenario="peak"))
    assert _summary(cut)["verdict"] == "INCOMPLETE"
    both = make_scorecard([cut, vendor_run(results_dir / "b2", vendor="b", inconclusive=True)]).vendors[0]
    assert both.verdict == "INCOMPLETE"
    assert both.reasons[0].startswith("incomplete: peak: the run did not complete (")
    assert both.reasons[0].endswith("; run it again to the end")
    assert both.reasons[1] == "inconclusive: failover needs more samples or runs to decide sustained recovery time"

    lossy = vendor_run(results_dir / "c1", vendor="c", lost=5)
    failed = make_scorecard([lossy, vendor_run(results_dir / "c2", vendor="c", scenario="soak", inconclusive=True)])
    assert failed.vendors[0].verdict == "FAIL"
    # A failure's own cause leads; the undecided run is still said.
    assert failed.vendors[0].reasons[0].startswith("failover: lost messages was 5")
    assert (
        "inconclusive: soak needs more samples or runs to decide sustained recovery time" in failed.vendors[0].reasons
    )


def test_ranking_puts_decided_passes_first_and_shown_failures_last(results_dir: Path) -> None:
    runs = [
        vendor_run(results_dir / "f", vendor="fails", lost=5),
        _cut_short(vendor_run(results_dir / "i", vendor="cut-short")),
        vendor_run(results_dir / "u", vendor="undecided", inconclusive=True),
        vendor_run(results_dir / "c", vendor="conditional", reply_ms=5000),
        vendor_run(results_dir / "p", vendor="passes"),
    ]
    card = make_scorecard(runs)
    assert [(v.name, v.verdict, v.rank) for v in card.vendors] == [
        ("passes", "PASS", 1),
        ("conditional", "CONDITIONAL", 2),
        ("undecided", "INCONCLUSIVE", 3),
        ("cut-short", "INCOMPLETE", 4),
        ("fails", "FAIL", 5),
    ]
    assert [VERDICT_ORDER[v.verdict] for v in card.vendors] == sorted(VERDICT_ORDER.values())
    # Every run's own verdict and score, as the analysis wrote them.
    folders = {"fails": "f", "cut-short": "i", "undecided": "u", "conditional": "c", "passes": "p"}
    for info in card.runs:
        sla = _summary(results_dir / folders[info.vendor])
        assert (info.verdict, info.score) == (sla["verdict"], sla["score"])


def test_every_format_shows_the_new_verdicts(results_dir: Path, tmp_path: Path, capsys) -> None:
    runs = [
        vendor_run(results_dir / "u", vendor="undecided", inconclusive=True),
        _cut_short(vendor_run(results_dir / "i", vendor="cut-short")),
    ]
    card = make_scorecard(runs)
    page = render.render_html(card)
    assert 'class="verdict verdict-inconclusive"' in page and 'class="verdict verdict-incomplete"' in page
    assert "too little data to decide (run longer or repeat the run), or measured while the harness" in page
    assert "% decided</small>" in page  # the score is over the decided weight only, and says so
    assert 'class="run-verdict verdict-inconclusive"' in page
    css = render._asset("scorecard.css")
    assert ".verdict-inconclusive {" in css and ".verdict-incomplete {" in css
    assert ".verdict-inconclusive .badge::after" in css.split("@media print {")[1]  # told apart on paper too
    md = render.render_markdown(card)
    assert "**INCONCLUSIVE** undecided" in md and "**INCOMPLETE** cut-short" in md
    assert "INCOMPLETE: a run did not complete" in md and "| INCONCLUSIVE |" in md
    rows = list(csv.DictReader(io.StringIO(render.render_csv(card))))
    assert {(r["vendor"], r["verdict"], r["run_verdict"]) for r in rows} == {
        ("undecided", "INCONCLUSIVE", "INCONCLUSIVE"),
        ("cut-short", "INCOMPLETE", "INCOMPLETE"),
    }
    data = json.loads(render.render_json(card))
    assert [v["verdict"] for v in data["vendors"]] == ["INCONCLUSIVE", "INCOMPLETE"]
    assert data["vendors"][0]["decided_share"] < 1
    # The CLI prints both (its styles know them) and writes the page.
    assert main(["report", *map(str, runs), "-o", str(tmp_path / "card.html")]) == 0
    printed = capsys.readouterr().out
    assert "INCONCLUSIVE" in printed and "INCOMPLETE" in printed
