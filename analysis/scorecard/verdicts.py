"""A vendor's verdict, score and reasons from its runs' analysis, never re-decided (see ``build``'s docstring).

``run_verdict`` reads one run's verdict; ``pooled_score`` weighs the runs' scores by the weight each decided;
``lead_reason`` says in plain words why a run is INCOMPLETE, INCONCLUSIVE or failed without a failed criterion;
``reasons`` puts those first, then the failed (else warned) criteria, then what was left undecided.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from analysis.harness_health import harness_bound
from analysis.scorecard import wording
from analysis.scorecard.inputs import RunBundle
from analysis.scorecard.model import VERDICT_ORDER, Criterion, Verdict

_DECIDED = ("pass", "warn", "fail")


def run_verdict(bundle: RunBundle) -> Verdict:
    """The analysis's verdict of one run. A summary without one (never scored, or by a version that did not
    know the verdict) is not re-scored here: it is INCOMPLETE when the run did not complete, else INCONCLUSIVE.
    A summary written before partial runs became INCOMPLETE still never shows a cut-short run as passing."""
    raw = str(bundle.sla.get("verdict") or "").upper()
    partial = bool(bundle.run.get("partial")) or not bundle.manifest.complete
    if raw == "FAIL":
        return "FAIL"
    if partial:
        return "INCOMPLETE"
    return raw if raw in VERDICT_ORDER else "INCONCLUSIVE"  # type: ignore[return-value]


def _weights(criteria: Iterable[Criterion]) -> tuple[float, float, float]:
    """(earned, decided weight, undecided weight) of one set of criteria."""
    decided = [c for c in criteria if c.status in _DECIDED]
    earned = sum(c.weight * {"pass": 1.0, "warn": 0.5}.get(c.status, 0.0) for c in decided)
    undecided = sum(c.weight for c in criteria if c.status == "inconclusive")
    return earned, sum(c.weight for c in decided), undecided


def pooled_score(
    runs: list[tuple[dict[str, Any], list[Criterion]]],
) -> tuple[float | None, tuple[float, float] | None, float | None]:
    """(score, score range, decided share) over a vendor's runs: each run's score as the analysis gave it,
    weighted by the weight it decided; the range and share as ``analysis.sla`` defines them for one run."""
    earned = decided = undecided = 0.0
    for sla, criteria in runs:
        own_earned, own_decided, own_undecided = _weights(criteria)
        score = sla.get("score")
        if isinstance(score, int | float) and own_decided:
            own_earned = float(score) / 100.0 * own_decided  # the analysis's figure, not a recount
        earned, decided, undecided = earned + own_earned, decided + own_decided, undecided + own_undecided
    total = decided + undecided
    if not total:
        return None, None, None
    score_out = round(100.0 * earned / decided, 1) if decided else None
    span = (round(100.0 * earned / total, 1), round(100.0 * (earned + undecided) / total, 1))
    return score_out, span, decided / total


def _labels(criteria: Iterable[Criterion]) -> str:
    labels = list(dict.fromkeys(c.label for c in criteria))
    return ", ".join(labels[:3]) + (f" and {len(labels) - 3} more" if len(labels) > 3 else "")


def lead_reason(bundle: RunBundle, verdict: Verdict, criteria: list[Criterion]) -> tuple[str | None, str | None]:
    """(why this run's verdict is what it is, when no failed or passed criterion says it already; a note on the
    criteria it left undecided when its verdict did not depend on them)."""
    scenario = bundle.scenario
    undecided = [c for c in criteria if c.status == "inconclusive"]
    note = f"{scenario}: {_labels(undecided)} not decided on this much data (left out of the score)"
    if verdict == "INCOMPLETE":
        why = "; ".join(str(r) for r in bundle.run.get("partial_reasons") or []) or "the run did not complete"
        return f"incomplete: {scenario}: {why}; run it again to the end", None
    if verdict == "INCONCLUSIVE":
        bound = harness_bound(bundle.summary)
        if bound:  # measured while the harness itself was saturated: more samples would not decide it
            return f"inconclusive: {scenario}: {bound}", None
        if undecided:
            return f"inconclusive: {scenario} needs more samples or runs to decide {_labels(undecided)}", None
        return f"inconclusive: the {scenario} run has no verdict; score it with `scrmbench score`", None
    lead = None
    if verdict == "FAIL" and not any(c.status == "fail" for c in criteria):
        said = bundle.sla.get("reasons") or []
        lead = f"{scenario}: {said[0]}" if said else f"{scenario}: failed its SLA"
    return lead, note if undecided else None


def reasons(criteria: list[Criterion], leads: list[str], notes: list[str], verdict: Verdict) -> list[str]:
    """The vendor's reasons, its verdict's cause first: an INCOMPLETE or INCONCLUSIVE vendor's runs that made it
    so; a FAIL's failed criteria (critical first); then failures or warnings, then what was left undecided."""
    failing = [c for c in criteria if c.status == "fail"]
    failing.sort(key=lambda c: (not c.critical, -c.weight))
    sentences = [wording.failure_sentence(c.scenario, c.label, c.measured, c.target, c.reason) for c in failing]
    if not sentences:
        sentences = [
            f"{c.scenario}: {c.label}: warning, {c.measured} against {c.target}" for c in criteria if c.status == "warn"
        ][:3]
    ordered = sorted(leads, key=lambda text: (not text.startswith("incomplete:"), not text.startswith("inconclusive:")))
    if verdict == "FAIL":
        own = [lead for lead in ordered if not lead.startswith(("incomplete:", "inconclusive:"))]
        return sentences + own + [lead for lead in ordered if lead not in own] + notes
    return ordered + sentences + notes
