"""The scorecard a manager reads: verdicts, headline figures, criteria, head-to-head lines, evidence charts.

make_scorecard(paths, sla=...)  → Scorecard   (build.py arranges, charts.py draws, headtohead.py compares)
render.write(card, path, fmt)   → html | md | json | csv
browser.print_pdf(html, pdf)    → PDF via headless Chromium when installed
"""

from __future__ import annotations

from pathlib import Path

from analysis.scorecard.build import build_scorecard
from analysis.scorecard.charts import build_charts
from analysis.scorecard.headtohead import head_to_head, run_comparison
from analysis.scorecard.inputs import RunBundle, load_bundles
from analysis.scorecard.model import Scorecard
from analysis.sla import ScopeNames
from analysis.sla_choice import ScenarioCriteria

__all__ = ["RunBundle", "Scorecard", "make_scorecard", "scorecard_from_bundles"]


def scorecard_from_bundles(bundles: list[RunBundle], *, title: str = "SCRM vendor trial") -> Scorecard:
    comparison = run_comparison(bundles)
    card = build_scorecard(bundles, title=title, head_to_head=head_to_head(bundles, comparison), comparison=comparison)
    card.charts, card.omitted_charts = build_charts(bundles)
    return card


def make_scorecard(
    paths: list[Path],
    *,
    sla: str | None = None,
    title: str = "SCRM vendor trial",
    scenario_criteria: ScenarioCriteria | None = None,
    scope_names: ScopeNames | None = None,
) -> Scorecard:
    """``scenario_criteria`` (``scenarios.registry.default_criteria``) scores a never-scored run as
    ``scrmbench score`` would, by its scenario's own criteria; ``scope_names`` (``harness.config.sla.scope_names``)
    refuses an SLA criterion scoped to an unknown scenario or fault, as ``scrmbench score`` does."""
    bundles = load_bundles(paths, sla=sla, scenario_criteria=scenario_criteria, scope_names=scope_names)
    return scorecard_from_bundles(bundles, title=title)
