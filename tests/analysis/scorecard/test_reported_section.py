"""The scorecard's "reported by the vendor (not verified)" section: the vendor's own figures in their own colour,
their accuracy beside them where the truth is known (lies flagged), and nothing for runs without callbacks."""

from __future__ import annotations

from pathlib import Path

import pytest

from analysis.reported import report_accuracy, reported_figures
from analysis.scorecard import render, scorecard_from_bundles
from analysis.scorecard.inputs import load_bundles
from analysis.scorecard.model import Scorecard
from tests.analysis import test_reported as known


@pytest.fixture
def card(bakeoff_runs: list[Path]) -> Scorecard:
    bundles = load_bundles(bakeoff_runs)
    first = bundles[0]
    first.summary["reported"] = reported_figures(known._requests(), known._events())
    first.summary["reported"]["receiver"] = {"accepted": 30, "refused": 2, "malformed": 1, "shed": 4, "max_per_s": 500}
    first.summary["report_accuracy"] = report_accuracy(
        known._requests(), known._events(), known._ledger(), known._attempts()
    )
    for bundle in bundles[1:]:
        bundle.summary["reported"] = bundle.summary["report_accuracy"] = None
    return scorecard_from_bundles(bundles)


def test_only_runs_with_callbacks_get_a_reported_section_with_figures_and_flagged_lies(card: Scorecard) -> None:
    [row] = card.reported
    figures = dict(row.figures)
    assert figures["reported delivered"].startswith("80% (8 of 10)")
    assert figures["acknowledged, never reported"].startswith("10% (1 of 10)")
    assert figures["reported failures by code"] == "63003 × 1"
    accuracy = {label: (value, flagged) for label, value, flagged in row.accuracy}
    assert accuracy["lost but reported delivered"] == ("2", True)
    assert accuracy["read: reported / true"] == ("5 / 3", True)
    assert accuracy["failed: reported / true"] == ("1 / 1", False)  # told truthfully: not flagged
    assert "refused (bad signature) 2, malformed 1, shed with 429 4 (past 500/s)" in row.receiver


def test_html_puts_the_section_in_its_own_colour_and_markdown_has_it_too(card: Scorecard) -> None:
    page = render.render_html(card)
    section = page[page.index('<section id="reported"') : page.index('<section id="evidence"')]
    assert 'class="reported"' in section and "Reported by the vendor (not verified)" in section
    assert '<td class="num bad">2</td>' in section
    assert "--reported:" in page and "section.reported" in page
    markdown = render.render_markdown(card)
    assert "## Reported by the vendor (not verified)" in markdown
    assert "| lost but reported delivered | **2** |" in markdown
