"""The headline table: for each figure buyers ask for, the target and each vendor's measured value.

Every cell is the same figure, read the same way from each run's summary, and shows the vendor's *worst* run
for it (a buyer signs for the worst case), naming the scenario it comes from. Where that run has an SLA
criterion on the figure, its status, interval and target are shown beside it; a run without one (a failover
run's error rate, say) still counts: its figure is shown without a status rather than hidden behind a
criterion that passed elsewhere.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from analysis.scorecard import wording
from analysis.scorecard.inputs import RunBundle
from analysis.scorecard.model import Criterion, HeadlineCell, HeadlineRow, Status, VendorResult
from analysis.stats import rule_of_three, wilson_interval

MONTH_MIN_999 = 43.2  # minutes of downtime a 99.9% monthly SLA allows (30 days)
_SEVERITY = {"fail": 3, "warn": 2, "inconclusive": 1, "pass": 0}


def _get(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _num(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool) and math.isfinite(value):
        return float(value)
    return None


@dataclass(frozen=True)
class Figure:
    """One run's figure for one headline row: ``badness`` orders runs (higher is worse)."""

    badness: float
    text: str
    detail: str = ""


Extract = Callable[[dict[str, Any]], Figure | None]


def pct(share: float) -> str:
    """A percentage with the digits that matter: 0.04%, 1.8%, 35%; never "0.0%" for a non-zero share."""
    value = share * 100
    if value == 0:
        return "0%"
    if value < 0.01:
        return "< 0.01%"
    if value >= 100:
        return "100%"
    if value >= 99:
        return f"{value:.2f}%"  # 99.92%, not a rounded "100%"
    if value >= 10:
        return f"{value:.1f}%"
    return f"{value:.2g}%"


def _ratio_interval(events: int, n: int) -> str:
    interval = wilson_interval(events, n)
    return f"95% CI {pct(interval[0])} – {pct(interval[1])}" if interval else ""


def _availability(s: dict[str, Any]) -> Figure | None:
    overall = _get(s, "requests", "overall") or {}
    started, ok = _num(overall.get("started")), _num(overall.get("ok"))
    if not started or ok is None:
        return None
    text = f"{pct(ok / started)} ({int(ok):,} of {int(started):,} requests)"
    return Figure(-ok / started, text, _ratio_interval(int(ok), int(started)))


def _error_rate(s: dict[str, Any]) -> Figure | None:
    overall = _get(s, "requests", "overall") or {}
    started, errors = _num(overall.get("started")), _num(overall.get("errors"))
    if not started or errors is None:
        return None
    text = f"{pct(errors / started)} ({int(errors):,} of {int(started):,} requests)"
    return Figure(errors / started, text, _ratio_interval(int(errors), int(started)))


def _latency(*path: str) -> Extract:
    def extract(s: dict[str, Any]) -> Figure | None:
        value = _num(_get(s, *path, "p95"))
        return Figure(value, wording.number(value, "ms")) if value is not None else None

    return extract


def _apdex(kind: str) -> Extract:
    def extract(s: dict[str, Any]) -> Figure | None:
        section = _get(s, "apdex", kind) or {}
        score = _num(section.get("score"))
        if score is None:
            return None
        total = int(_num(section.get("total")) or 0)
        return Figure(-score, f"{score:.2f} {section.get('rating') or ''}".strip(), f"{total:,} samples")

    return extract


def _budget(s: dict[str, Any]) -> Figure | None:
    """The worst fault of the run as a share of a 99.9% monthly allowance; "≥" when it never recovered (the
    outage is then only known to have lasted at least until the run ended)."""
    found = []
    for fault in _get(s, "recovery", "faults") or []:
        used = _num(_get(fault, "budget", "99.9", "downtime_used_pct"))
        if used is not None:
            found.append((used, not fault.get("recovered", True)))
    if not found:
        return None
    used, open_ended = max(found)
    minutes = used / 100 * MONTH_MIN_999
    text = f"{'≥ ' if open_ended else ''}{pct(used / 100)} of the monthly allowance"
    detail = f"{'≥ ' if open_ended else ''}{minutes:.2g} min of 43.2 min (99.9% monthly SLA)"
    return Figure(used + (1e9 if open_ended else 0.0), text, detail + ("; never recovered" if open_ended else ""))


Matcher = Callable[[Criterion], bool]


def _metric(*names: str, p95: bool = False) -> Matcher:
    """Criteria on one of ``names`` (analysis/sla_metrics.py); for latency rows only the p95 aggregation."""
    return lambda c: c.metric in names and not c.operation and (not p95 or c.aggregation in ("p95", ""))


@dataclass(frozen=True)
class Row:
    key: str
    label: str
    matches: Matcher
    extract: Extract


ROWS: tuple[Row, ...] = (
    Row("availability", "Availability (requests that succeeded)", _metric("availability"), _availability),
    Row("reply_p95", "Reply latency p95", _metric("reply_latency_ms", p95=True), _latency("reply", "latency_ms")),
    Row(
        "delivery_p95",
        "Delivery latency p95",
        _metric("delivery_latency_ms", p95=True),
        _latency("accounting", "delivery_latency_ms"),
    ),
    Row(
        "api_p95",
        "API latency p95 (send requests)",
        _metric("latency_ms", p95=True),
        _latency("requests", "overall", "latency_ms"),
    ),
    Row("apdex_reply", "Apdex, reply (T = 2 s)", _metric("apdex_reply"), _apdex("reply")),
    Row("apdex_delivery", "Apdex, delivery (T = 0.8 s)", _metric("apdex_delivery"), _apdex("delivery")),
    Row("error_rate", "Error rate", _metric("error_rate"), _error_rate),
    Row("budget", "One failover = share of the monthly SLA allowance", _metric("budget_used_pct"), _budget),
)


def _status(criterion: Criterion | None) -> Status | None:
    return criterion.status if criterion else None


def _criterion(vendor: VendorResult, run: RunBundle, matches: Matcher) -> Criterion | None:
    """The criterion of this very run on the row's figure (criteria carry their scenario, runs are per scenario)."""
    return next((c for c in vendor.criteria if c.scenario == run.scenario and matches(c)), None)


def _cell(vendor: VendorResult, runs: list[RunBundle], row: Row) -> tuple[HeadlineCell, Criterion | None] | None:
    found = [(f, b) for b in runs if (f := row.extract(b.summary)) is not None]
    if not found:
        return None
    figure, run = max(found, key=lambda pair: pair[0].badness)
    criterion = _criterion(vendor, run, row.matches)
    interval = criterion.interval if criterion and criterion.interval else figure.detail
    where = run.scenario + (f", worst of {len(found)} runs" if len(found) > 1 else "")
    if criterion is None and any(row.matches(c) for c in vendor.criteria):
        where += f"; no target for {run.scenario}"
    detail = " · ".join(part for part in (where, interval) if part)
    return HeadlineCell(figure.text, detail, _status(criterion)), criterion


def _lost_cell(vendor: VendorResult, runs: list[RunBundle]) -> tuple[HeadlineCell, Criterion | None] | None:
    """Lost acknowledged messages "of N acknowledged"; with none lost, the rule-of-three bound on the loss rate."""
    found = []
    for run in runs:
        acc = run.summary.get("accounting") or {}
        lost, acked = _num(acc.get("lost")), int(_num(acc.get("acked")) or 0)
        if acc.get("measured", True) and lost is not None and acked > 0:
            found.append((int(lost), acked, run))
    if not found:
        return None
    lost, acked, run = max(found, key=lambda x: (x[0], x[0] / x[1]))
    criterion = _criterion(vendor, run, _metric("lost_messages"))
    if lost:
        share = pct(lost / acked)
        cell = HeadlineCell(f"{lost:,} of {acked:,} acknowledged ({share})", run.scenario, _status(criterion))
        return cell, criterion
    # None lost anywhere: pool the runs; 0 of N bounds the loss rate at about 3/N (95%).
    total = sum(a for _, a, _ in found)
    bound = rule_of_three(total)
    scenarios = ", ".join(sorted({b.scenario for _, _, b in found}))
    detail = f"{scenarios} · loss < {pct(bound)} at 95% confidence" if bound is not None else scenarios
    statuses: list[str] = [c.status for c in vendor.criteria if _metric("lost_messages")(c)]
    worst = max(statuses, key=_SEVERITY.__getitem__) if statuses else None
    status = next((c.status for c in vendor.criteria if c.status == worst), None)
    return HeadlineCell(f"0 of {total:,} acknowledged", detail, status), criterion


def _recovery_cell(vendor: VendorResult, runs: list[RunBundle]) -> tuple[HeadlineCell, Criterion | None] | None:
    """Sustained recovery over every fault of the vendor's runs: median and worst, a lower bound when a fault
    never recovered within its run."""
    times: list[float] = []
    open_bounds: list[float] = []
    worst_run: RunBundle | None = None
    worst_key = -1.0
    for run in runs:
        for fault in _get(run.summary, "recovery", "faults") or []:
            ttr = _num(fault.get("ttr_sustained_s"))
            if fault.get("recovered", True) and ttr is not None:
                times.append(ttr)
                key = ttr
            else:
                bound = _num(fault.get("ttr_lower_bound_s")) or 0.0
                open_bounds.append(bound)
                key = 1e9 + bound
            if key > worst_key:
                worst_key, worst_run = key, run
    if worst_run is None:
        return None
    n = len(times) + len(open_bounds)
    criterion = _criterion(vendor, worst_run, _metric("sustained_recovery_s"))
    if open_bounds:
        text = f"worst: not recovered (≥ {max(open_bounds):.0f} s)"
        # Unrecovered faults count as longer than any recovered one: the median is a lower bound when they are
        # at least half of the faults.
        ordered = sorted(times) + [math.inf] * len(open_bounds)
        middle = float(np.median(ordered)) if len(ordered) % 2 else ordered[len(ordered) // 2 - 1]
        median = f"≥ {max(open_bounds):.0f} s" if math.isinf(middle) else f"{middle:.0f} s"
    else:
        text = f"worst {max(times):.0f} s"
        median = f"{float(np.median(times)):.0f} s"
    detail = f"median {median} over {n} fault{'s' if n != 1 else ''} · worst in {worst_run.scenario}"
    return HeadlineCell(text, detail, _status(criterion)), criterion


Build = Callable[[VendorResult, list[RunBundle]], tuple[HeadlineCell, Criterion | None] | None]


def _row_builder(row: Row) -> Build:
    return lambda vendor, runs: _cell(vendor, runs, row)


BUILDERS: tuple[tuple[str, str, Matcher, Build], ...] = (
    ("lost", "Lost acknowledged messages", _metric("lost_messages"), _lost_cell),
    (
        "recovery",
        "Sustained recovery after a fault (median and worst)",
        _metric("sustained_recovery_s"),
        _recovery_cell,
    ),
    *((row.key, row.label, row.matches, _row_builder(row)) for row in ROWS),
)


def _target(criteria: list[Criterion | None], matches: Matcher, vendors: list[VendorResult]) -> str:
    targets = {c.target for c in criteria if c is not None}
    if not targets:
        targets = {c.target for v in vendors for c in v.criteria if matches(c)}
    if len(targets) == 1:
        return targets.pop()
    if targets:
        return "per scenario: " + "; ".join(sorted(targets))
    return "no target in this SLA"


def headline_rows(vendors: list[VendorResult], bundles: list[RunBundle]) -> list[HeadlineRow]:
    by_vendor = {v.name: [b for b in bundles if b.vendor == v.name] for v in vendors}
    rows = []
    for key, label, matches, build in BUILDERS:
        cells: dict[str, HeadlineCell] = {}
        used: list[Criterion | None] = []
        for vendor in vendors:
            result = build(vendor, by_vendor[vendor.name])
            cells[vendor.name] = result[0] if result else HeadlineCell("not measured")
            used.append(result[1] if result else None)
        if any(cell.measured != "not measured" for cell in cells.values()):
            rows.append(HeadlineRow(key, label, _target(used, matches, vendors), cells))
    return rows
