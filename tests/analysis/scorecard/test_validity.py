"""The "test validity" line of each run: green when the harness was healthy, amber with the harness-bound reason,
grey when the run has no health data; and a harness-bound vendor is never said to need "more samples"."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from analysis.load import load_run
from analysis.scorecard import make_scorecard, render
from analysis.summary import build_summary
from analysis.synthetic import synthetic_health, write_health
from tests.fixtures.scorecard import fixture_sla, vendor_run


def _watched(run: Path, **health: Any) -> Path:
    """The run with the harness's health samples beside it, scored again by the analysis."""
    write_health(run, synthetic_health(duration_s=150, **health))
    (run / "summary.json").write_text(json.dumps(build_summary(load_run(run), sla=fixture_sla())), encoding="utf-8")
    return run


@pytest.fixture
def runs(results_dir: Path) -> list[Path]:
    return [
        _watched(vendor_run(results_dir / "calm-failover", vendor="calm")),
        _watched(
            vendor_run(results_dir / "crowded-failover", vendor="crowded", slow_ms=3000),
            saturated="generator",
            saturated_at_s=(20, 80),
        ),
        vendor_run(results_dir / "unwatched-failover", vendor="unwatched"),
    ]


def _line(page: str, run_id: str) -> tuple[str, str]:
    match = re.search(rf'<li class="validity-(\w+)" data-run="{run_id}">(.*?)</li>', page, re.S)
    assert match, run_id
    return match.group(1), re.sub(r"<[^>]+>", "", match.group(2)).strip()


def test_each_run_has_a_test_validity_line(runs: list[Path]) -> None:
    card = make_scorecard(runs)
    page = render.render_html(card)
    conditions = page[page.index('<section id="conditions"') :]
    assert "<h3>Test validity</h3>" in conditions
    status, text = _line(conditions, "calm-failover")
    assert (status, text) == (
        "healthy",
        "calm-failover (calm, failover): harness healthy: generator loop lag p95 ≤ 2 ms, no harness process ≥ 90% CPU",
    )
    status, text = _line(conditions, "crowded-failover")
    assert status == "bound"
    assert text.startswith("crowded-failover (crowded, failover): harness-bound: the load generator was saturated")
    assert "(CPU 100%, loop lag p95 180 ms" in text and "add `--workers`" in text
    status, text = _line(conditions, "unwatched-failover")
    assert status == "not_measured"
    assert "harness not measured: this run has no health data (health.parquet)" in text


def test_a_harness_bound_vendor_is_inconclusive_with_the_reason_not_failed(runs: list[Path]) -> None:
    card = make_scorecard(runs)
    crowded = next(v for v in card.vendors if v.name == "crowded")
    assert crowded.verdict == "INCONCLUSIVE"  # its p95 latency failed, but the generator was saturated
    assert crowded.reasons[0].startswith("inconclusive: failover: harness-bound: the load generator was saturated")
    api = next(c for c in crowded.criteria if c.id == "api_p95")
    assert (api.status, api.set_aside) == ("inconclusive", "harness_bound")
    assert next(v for v in card.vendors if v.name == "calm").verdict == "PASS"
    page = render.render_html(card)
    assert "harness-bound: not the vendor&#39;s" in page  # under the set-aside cells of the grid


def test_markdown_and_json_carry_the_validity_lines(runs: list[Path]) -> None:
    card = make_scorecard(runs)
    markdown = render.render_markdown(card)
    section = markdown.split("## Test validity\n", 1)[1].split("\n## ", 1)[0]
    assert "- valid `calm-failover`: harness healthy" in section
    assert "- HARNESS-BOUND `crowded-failover`: harness-bound: the load generator was saturated" in section
    assert "- not measured `unwatched-failover`: harness not measured" in section
    data = json.loads(render.render_json(card))
    assert [r["validity"]["status"] for r in data["runs"]] == ["healthy", "bound", "not_measured"]
