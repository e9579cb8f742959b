"""The scorecard's cost cells: per 1,000 delivered and duplicates per vendor, pooled over its runs, honest about
what the rate card did not price (never $0 for it), in every format."""

from __future__ import annotations

import csv
import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from analysis.cost import pool
from analysis.scorecard import render, scorecard_from_bundles, wording
from analysis.scorecard.inputs import load_bundles
from analysis.scorecard.model import Scorecard

CARD = {"name": "rates-meta", "currency": "USD", "source": "Meta pricing page", "as_of": "2025-07-01"}


def _cost(charged: int, unpriced: int, total: float, delivered: int, dups: int, dup_cost: float) -> dict[str, Any]:
    return {
        "measured": True,
        "rate_card": CARD,
        "charged": charged,
        "unpriced": unpriced,
        "unpriced_markets": ["880"] if unpriced else [],
        "total_usd": total,
        "delivered_messages": delivered,
        "duplicates": {"copies": dups, "charged": dups, "cost_usd": dup_cost},
    }


COSTS = {
    "steady": _cost(1000, 0, 25.0, 1000, 4, 0.1),  # every message priced: $25 per 1,000, duplicates $0.10
    "degrading": _cost(1000, 250, 15.0, 1000, 2, 0.025),  # a quarter unpriced: lower bounds
    "lossy": _cost(1000, 1000, 0.0, 1000, 3, 0.0),  # the card has none of its markets: no price at all
}


@pytest.fixture
def card(bakeoff_runs: list[Path]) -> Scorecard:
    bundles = load_bundles(bakeoff_runs)
    for bundle in bundles:
        bundle.summary["cost"] = COSTS[bundle.vendor]
    return scorecard_from_bundles(bundles)


def test_cost_cells_per_vendor_never_show_zero_for_the_unpriced(card: Scorecard) -> None:
    costs = {c.vendor: c for c in card.costs}
    assert [c.vendor for c in card.costs] == [v.name for v in card.vendors]  # rank order
    steady = costs["steady"]
    assert (steady.per_1000, steady.duplicates) == ("$25.00", "$0.10 (4 charged copies)")
    assert steady.priced == "every charged message priced" and steady.per_1000_usd == pytest.approx(25.0)
    assert steady.card == "rates-meta (Meta pricing page, as of 2025-07-01)"
    partly = costs["degrading"]
    assert (partly.per_1000, partly.duplicates) == ("≥ $15.00", "≥ $0.025 (2 charged copies)")
    assert partly.priced == "25% of charged messages unpriced (markets 880): the figures are lower bounds"
    lossy = costs["lossy"]
    assert (lossy.per_1000, lossy.duplicates) == ("not priced", "price unknown (3 charged copies)")
    assert lossy.per_1000_usd is None and lossy.duplicates_usd is None
    assert "$0" not in lossy.per_1000 + lossy.duplicates


def test_a_partly_priced_zero_is_not_priced_rather_than_a_lower_bound_of_nothing() -> None:
    per_1000, duplicates, priced, _card = wording.cost(pool([_cost(100, 40, 0.0, 100, 2, 0.0)]))
    assert (per_1000, duplicates) == ("not priced", "price unknown (2 charged copies)")
    assert priced.startswith("40% of charged messages unpriced")


def test_runs_without_a_priced_ledger_are_not_measured(bakeoff_runs: list[Path]) -> None:
    bundles = load_bundles(bakeoff_runs)
    for bundle in bundles:
        bundle.summary["cost"] = None
    card = scorecard_from_bundles(bundles)
    assert {(c.per_1000, c.duplicates, c.status) for c in card.costs} == {
        ("not measured", "not measured", "not_measured")
    }
    assert "Cost not measured" in render.render_html(card)
    assert "Cost not measured" in render.render_markdown(card)


def test_html_shows_the_cost_table_and_the_cards_source_and_date(card: Scorecard) -> None:
    page = render.render_html(card)
    assert page.index('<section id="head-to-head"') < page.index('<section id="cost"') < page.index('id="evidence"')
    section = page[page.index('<section id="cost"') : page.index('<section id="evidence"')]
    rows = re.findall(
        r'<tr class="cost-(\w+)" data-vendor="(\w+)"><th scope="row">\w+</th><td class="num">([^<]+)<', section
    )
    assert rows == [
        ("priced", "steady", "$25.00"),
        ("partly_priced", "degrading", "≥ $15.00"),
        ("unpriced", "lossy", "not priced"),
    ]
    assert "Rate card: rates-meta (Meta pricing page, as of 2025-07-01)." in section


def test_markdown_has_a_cost_table(card: Scorecard) -> None:
    markdown = render.render_markdown(card)
    assert "| steady | $25.00 | $0.10 (4 charged copies) | every charged message priced |" in markdown
    assert "| lossy | not priced | price unknown (3 charged copies) |" in markdown
    assert "Rate card: rates-meta (Meta pricing page, as of 2025-07-01)." in markdown


def test_json_carries_the_cost_in_words_and_numbers(card: Scorecard) -> None:
    data = json.loads(render.render_json(card))
    costs = {c["vendor"]: c for c in data["costs"]}
    assert costs["steady"]["per_1000_usd"] == pytest.approx(25.0)
    assert costs["degrading"]["unpriced_share"] == pytest.approx(0.25)
    assert costs["lossy"]["per_1000_usd"] is None and costs["lossy"]["per_1000"] == "not priced"


def test_csv_cost_columns_are_empty_where_not_priced(card: Scorecard) -> None:
    rows = list(csv.DictReader(io.StringIO(render.render_csv(card))))
    by_vendor = {r["vendor"]: r for r in rows}
    assert float(by_vendor["steady"]["cost_per_1000_delivered_usd"]) == pytest.approx(25.0)
    assert float(by_vendor["steady"]["duplicates_cost_usd"]) == pytest.approx(0.1)
    assert by_vendor["degrading"]["cost_priced"].startswith("partly_priced: 25% of charged messages unpriced")
    lossy = by_vendor["lossy"]
    assert (lossy["cost_per_1000_delivered_usd"], lossy["duplicates_cost_usd"]) == ("", "")
    assert lossy["cost_priced"].startswith("unpriced: no charged message is on the rate card")
