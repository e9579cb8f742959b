"""The headline table: for each figure buyers ask for, the target and each vendor's measured value.

A figure comes from the vendor's matching SLA criterion (target, value, interval and status all from the
analysis); where no criterion covers it, the measured value is read from the summary itself and shown without
a status. Across a vendor's runs the worst value is shown: a buyer signs for the worst case.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from analysis.scorecard import wording
from analysis.scorecard.inputs import RunBundle
from analysis.scorecard.model import Criterion, HeadlineCell, HeadlineRow, VendorResult

_SEVERITY = {"fail": 3, "warn": 2, "inconclusive": 1, "pass": 0}


def _get(data: Any, *path: str) -> Any:
    for key in path:
        if not isinstance(data, dict):
            return None
        data = data.get(key)
    return data


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


# Each extractor returns (value for "worst" ordering, text, interval text) or None when not measured.
Extract = Callable[[dict[str, Any]], tuple[float, str, str] | None]


def _lost(s: dict[str, Any]) -> tuple[float, str, str] | None:
    acc = s.get("accounting") or {}
    if not acc.get("measured", True) or _num(acc.get("lost")) is None:
        return None
    lost, acked, upper = int(acc["lost"]), acc.get("acked") or 0, _num(acc.get("loss_upper_95"))
    text = f"{lost:,} of {acked:,} acknowledged"
    bound = f"loss < {upper * 100:.2g}% at 95% confidence" if upper is not None and lost == 0 else ""
    return float(lost), text, bound


def _recovery(s: dict[str, Any]) -> tuple[float, str, str] | None:
    rec = s.get("recovery") or {}
    faults = rec.get("faults") or []
    if not faults:
        return None
    worst, median = _num(rec.get("worst_ttr_sustained_s")), _num(rec.get("median_ttr_sustained_s"))
    if not rec.get("all_recovered", True) or worst is None:
        bound = max((_num(f.get("ttr_lower_bound_s")) or 0.0) for f in faults)
        return float("inf"), f"not recovered within the run (> {bound:.0f} s)", ""
    return worst, f"worst {worst:.0f} s", f"median {median:.0f} s over {len(faults)} fault(s)" if median else ""


def _availability(s: dict[str, Any]) -> tuple[float, str, str] | None:
    overall = _get(s, "requests", "overall") or {}
    started, ok = _num(overall.get("started")), _num(overall.get("ok"))
    if not started or ok is None:
        return None
    share = ok / started
    return -share, wording.number(share, "ratio"), f"{int(ok):,} of {int(started):,} requests"


def _latency(*path: str) -> Extract:
    def extract(s: dict[str, Any]) -> tuple[float, str, str] | None:
        value = _num(_get(s, *path, "p95"))
        return (value, wording.number(value, "ms"), "") if value is not None else None

    return extract


def _apdex(s: dict[str, Any]) -> tuple[float, str, str] | None:
    for kind in ("reply", "delivery", "request"):
        section = _get(s, "apdex", kind) or {}
        score = _num(section.get("score"))
        if score is not None:
            t = _num(section.get("t_ms")) or 0.0
            return -score, f"{score:.2f} [{t / 1000:g} s] {section.get('rating') or ''}".strip(), f"{kind} latency"
    return None


def _error_rate(s: dict[str, Any]) -> tuple[float, str, str] | None:
    rate = _num(_get(s, "requests", "overall", "error_rate"))
    return (rate, wording.number(rate, "ratio"), "") if rate is not None else None


def _budget(s: dict[str, Any]) -> tuple[float, str, str] | None:
    used = [_num(_get(f, "budget", "99.9", "downtime_used_pct")) for f in _get(s, "recovery", "faults") or []]
    values = [u for u in used if u is not None]
    if not values:
        return None
    worst = max(values)
    return worst, f"{worst:.1f}% of the monthly allowance", "of a 99.9% monthly SLA (43.2 min)"


Matcher = Callable[[Criterion], bool]


def _metric(*names: str, p95: bool = False) -> Matcher:
    """Criteria on one of ``names`` (analysis/sla_metrics.py); for latency rows only the p95 aggregation."""
    return lambda c: c.metric in names and not c.operation and (not p95 or c.aggregation in ("p95", ""))


HEADLINES: tuple[tuple[str, str, Matcher, Extract], ...] = (
    ("lost", "Lost acknowledged messages", _metric("lost_messages"), _lost),
    ("recovery", "Sustained recovery after a fault", _metric("sustained_recovery_s"), _recovery),
    ("availability", "Availability (requests that succeeded)", _metric("availability"), _availability),
    ("reply_p95", "Reply latency p95", _metric("reply_latency_ms", p95=True), _latency("reply", "latency_ms")),
    (
        "delivery_p95",
        "Delivery latency p95",
        _metric("delivery_latency_ms", p95=True),
        _latency("accounting", "delivery_latency_ms"),
    ),
    (
        "api_p95",
        "API latency p95",
        _metric("latency_ms", "corrected_latency_ms", p95=True),
        _latency("requests", "overall", "latency_ms"),
    ),
    ("apdex", "Apdex", _metric("apdex_reply", "apdex_delivery"), _apdex),
    ("error_rate", "Error rate", _metric("error_rate"), _error_rate),
    ("budget", "One failover = share of the monthly SLA allowance", _metric("budget_used_pct"), _budget),
)


def _from_summaries(runs: list[RunBundle], extract: Extract) -> HeadlineCell | None:
    found = [x for x in (extract(b.summary) for b in runs) if x is not None]
    if not found:
        return None
    _, text, detail = max(found, key=lambda x: x[0])
    return HeadlineCell(text, detail, None)


def headline_rows(vendors: list[VendorResult], bundles: list[RunBundle]) -> list[HeadlineRow]:
    rows = []
    for key, label, matches, extract in HEADLINES:
        cells: dict[str, HeadlineCell] = {}
        target = ""
        for vendor in vendors:
            found = [c for c in vendor.criteria if matches(c)]
            if found:
                worst = max(found, key=lambda c: _SEVERITY[c.status])
                target = target or worst.target
                # Name the scenario: a figure from the peak run reads differently from one from the failover run.
                detail = " · ".join(part for part in (worst.scenario, worst.interval) if part)
                cells[vendor.name] = HeadlineCell(worst.measured, detail, worst.status)
                continue
            runs = [b for b in bundles if b.vendor == vendor.name]
            cells[vendor.name] = _from_summaries(runs, extract) or HeadlineCell("not measured")
        if any(cell.measured != "not measured" for cell in cells.values()):
            rows.append(HeadlineRow(key, label, target or "no target in this SLA", cells))
    return rows
