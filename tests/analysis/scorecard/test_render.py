"""The page and its siblings: section order, self-contained HTML, escaping, Markdown/JSON/CSV exports."""

from __future__ import annotations

import csv
import html
import io
import json
import re
from pathlib import Path

import pytest

from analysis.scorecard import make_scorecard, render
from tests.fixtures.scorecard import vendor_run

SECTIONS = ["verdicts", "headline", "criteria", "head-to-head", "evidence", "conditions"]


@pytest.fixture
def card(bakeoff_runs: list[Path]):
    return make_scorecard(bakeoff_runs)


def test_sections_come_in_the_managers_order(card) -> None:
    page = render.render_html(card)
    positions = [page.index(f'<section id="{s}"') for s in SECTIONS]
    assert positions == sorted(positions)
    strip = page[positions[0] : positions[1]]
    assert [m for m in re.findall(r'class="badge">(\w+)<', strip)] == ["PASS", "CONDITIONAL", "FAIL"]
    assert "lost messages was 37, target ≤ 0; 37 lost of 1040 acknowledged" in strip  # the analysis's words
    assert page.count('class="plot"') == len(card.charts) >= 3


def test_page_is_self_contained_and_locked_down(card) -> None:
    page = render.render_html(card)
    assert "<script src" not in page and "<link" not in page and "@import" not in page
    csp = html.unescape(re.search(r'http-equiv="Content-Security-Policy" content="([^"]+)"', page).group(1))
    assert "default-src 'none'" in csp and "connect-src 'none'" in csp
    assert "unsafe-inline" not in csp.split("script-src")[1].split(";")[0]  # scripts only by hash
    assert len(re.findall(r"'sha256-", csp)) == 2
    assert "@media print" in page


def test_vendor_text_is_escaped_everywhere(results_dir: Path) -> None:
    hostile = "<script>alert('x')</script>\"'&"
    run = vendor_run(results_dir / "evil", vendor=hostile, lost=2)
    card = make_scorecard([run])
    page = render.render_html(card)
    assert "<script>alert(" not in page
    assert "&lt;script&gt;alert(" in page
    markdown = render.render_markdown(card)
    assert "<script>" not in markdown and "&lt;script&gt;" in markdown
    assert json.loads(render.render_json(card))["vendors"][0]["name"] == hostile


def test_csv_has_one_row_per_criterion_and_defuses_formulas(results_dir: Path) -> None:
    run = vendor_run(results_dir / "f", vendor='=HYPERLINK("http://x")')
    rows = list(csv.DictReader(io.StringIO(render.render_csv(make_scorecard([run])))))
    assert len(rows) == 4  # the fixture SLA's four criteria
    assert rows[0]["vendor"].startswith("'=")
    assert {r["status"] for r in rows} == {"pass"}


def test_markdown_and_json_carry_the_verdicts(card) -> None:
    markdown = render.render_markdown(card)
    assert "- #1 **PASS** steady" in markdown
    assert "| Lost acknowledged messages | ≤ 0 |" in markdown
    data = json.loads(render.render_json(card))
    assert data["schema"] == "scrmbench.scorecard/1"
    assert [v["verdict"] for v in data["vendors"]] == ["PASS", "CONDITIONAL", "FAIL"]
    assert all("spec" not in c for c in data["charts"])


def test_write_replaces_the_file_whole(card, tmp_path: Path) -> None:
    target = tmp_path / "out" / "scorecard.html"
    render.write(card, target, "html")
    assert target.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert not list(target.parent.glob("*.tmp"))
