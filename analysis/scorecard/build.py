"""Arrange loaded runs into a Scorecard: vendors ranked, headline rows, the criteria grid, accounting, conditions.

The analysis decides each criterion's status, each run's score and verdict (``analysis.sla``); this module reads
them from ``summary.json`` tolerantly (a missing field shows as "not measured", never as a crash) and never
re-decides them. It pools a vendor's runs:

    verdict  the worst of its runs' verdicts (``model.VERDICT_ORDER``): any FAIL → FAIL; else any INCOMPLETE →
             INCOMPLETE; else any INCONCLUSIVE → INCONCLUSIVE; else any CONDITIONAL → CONDITIONAL; else PASS
    score    its runs' scores weighted by their decided weight, i.e. Σ w·points / Σ w over every decided
             criterion of its runs; an undecided (inconclusive) criterion is left out, as the analysis leaves it
             out of a run's score, and bounds ``score_range`` instead
    reasons  plain words, the verdict's cause first ("inconclusive: media-burst needs more samples or runs to decide
             error rate"; "incomplete: failover: the run did not complete (...)"), then failures and warnings

Each run also gets a "test validity" line (``validity``): green when its harness was healthy, amber with the
analysis's harness-bound reason (``analysis.harness_health.harness_bound``), grey when it has no health data.
"""

from __future__ import annotations

import datetime as dt
import platform
from typing import Any

from analysis.cost import pool
from analysis.harness_health import harness_bound
from analysis.scorecard import wording
from analysis.scorecard.headline import headline_rows
from analysis.scorecard.inputs import RunBundle
from analysis.scorecard.model import (
    VERDICT_ORDER,
    Accounting,
    Criterion,
    ErrorRow,
    ReportedRow,
    RunInfo,
    Scorecard,
    Status,
    Validity,
    VendorCost,
    VendorResult,
    Verdict,
)
from analysis.scorecard.verdicts import lead_reason, pooled_score, reasons, run_verdict

_STATUS_ALIASES: dict[str, Status] = {
    "pass": "pass",
    "passed": "pass",
    "ok": "pass",
    "warn": "warn",
    "warning": "warn",
    "fail": "fail",
    "failed": "fail",
    "inconclusive": "inconclusive",
    "unknown": "inconclusive",
}
ACCOUNTING_KEYS = (
    "attempted",
    "acked",
    "delivered",
    "lost",
    "duplicated",
    "unexpected",
    "recovered",
    "unresolved",
    "policy_rejected",
    "reported_delivered_but_lost",
)


def _first(data: dict[str, Any], *keys: str, default: Any = None) -> Any:
    for key in keys:
        if key in data and data[key] is not None:
            return data[key]
    return default


def _pair(value: Any) -> tuple[float | None, float | None]:
    if isinstance(value, list | tuple) and len(value) == 2:
        return value[0], value[1]
    if isinstance(value, dict):
        return _first(value, "lo", "low", "lower"), _first(value, "hi", "high", "upper")
    return None, None


def criterion_from(raw: dict[str, Any], scenario: str, run_id: str = "") -> Criterion:
    """One entry of ``summary.json``'s ``criteria`` list in the scorecard's words."""
    unit = str(_first(raw, "unit", default=""))
    status = _STATUS_ALIASES.get(
        str(_first(raw, "status", "verdict", "result", default="inconclusive")).lower(), "inconclusive"
    )
    value = _first(raw, "measured", "value", "observed")
    value = float(value) if isinstance(value, int | float) else None
    lo, hi = _pair(_first(raw, "ci95", "interval", "ci"))
    target_text = wording.target(_first(raw, "target"), str(_first(raw, "direction", "op", default="<=")), unit)
    measured = wording.number(value, unit)
    if value is None and status in ("fail", "warn"):
        # Failed without a number: the figure never happened within the run (e.g. no sustained recovery).
        measured = "never, within the run"
    label = str(_first(raw, "label", "title", "name", "metric", "id", default="criterion"))
    scope = raw.get("scope")
    operation = str(scope.get("operation") or "") if isinstance(scope, dict) else ""
    if operation and operation not in label:
        label = f"{label} ({operation.replace('_', ' ')})"
    reason = str(_first(raw, "reason", "explanation", default=""))
    set_aside = str(raw.get("set_aside") or "") if status == "inconclusive" else ""
    if status == "inconclusive" and not reason:
        reason = "needs more runs"
    return Criterion(
        id=str(_first(raw, "id", "name", "metric", default=label)),
        label=label,
        scenario=scenario,
        metric=str(_first(raw, "metric", "id", default="")),
        target=target_text,
        measured=measured,
        interval=wording.interval(lo, hi, unit),
        status=status,
        weight=float(_first(raw, "weight", default=1.0)),
        critical=bool(_first(raw, "critical", default=False)),
        reason=reason,
        value=value,
        samples=_first(raw, "samples", "n"),
        aggregation=str(_first(raw, "aggregation", default="")),
        operation=operation,
        run_id=run_id,
        set_aside=set_aside,
        reported=bool(raw.get("reported")),
    )


def _separated(better: str, worse: str, comparison: dict[str, Any] | None) -> bool:
    """The run-level comparison (``analysis.compare``) found ``better``'s SLA score meaningfully above ``worse``'s
    in some scenario, and nowhere the reverse."""
    found = False
    for group in (comparison or {}).get("groups", []):
        for pair in group.get("pairs", []):
            if pair.get("metric") != "sla_score" or {pair.get("a"), pair.get("b")} != {better, worse}:
                continue
            if pair.get("verdict") != "meaningful":
                continue
            # difference is b − a: positive means b scored higher
            b_higher = (pair.get("difference") or 0.0) > 0
            if (pair["b"] == better) == b_higher:
                found = True
            else:
                return False
    return found


def assign_ranks(results: list[VendorResult], comparison: dict[str, Any] | None = None) -> None:
    """Rank in order (verdict, then score). A different verdict separates two vendors (each criterion's status
    already weighs its interval); within one verdict the score order counts only where the run-level
    comparison separates the scores: otherwise they share a rank, shown "2=", with the reason."""
    for position, result in enumerate(results, start=1):
        result.rank, result.rank_label, result.rank_note = position, str(position), ""
        previous = results[position - 2] if position > 1 else None
        if previous is None or previous.verdict != result.verdict:
            continue
        if previous.score == result.score or not _separated(previous.name, result.name, comparison):
            result.rank = previous.rank
    for result in results:
        peers = [r.name for r in results if r.rank == result.rank and r is not result]
        if peers:
            result.rank_label = f"{result.rank}="
            same = all(r.score == result.score for r in results if r.rank == result.rank)
            result.rank_note = (
                f"with {', '.join(peers)}: same verdict and score"
                if same
                else f"with {', '.join(peers)}: scores not separated by the run-level comparison (more runs would tell)"
            )


def vendor_results(bundles: list[RunBundle], comparison: dict[str, Any] | None = None) -> list[VendorResult]:
    by_vendor: dict[str, list[RunBundle]] = {}
    for bundle in bundles:
        by_vendor.setdefault(bundle.vendor, []).append(bundle)
    results = []
    for vendor, runs in by_vendor.items():
        criteria: list[Criterion] = []
        verdicts: list[Verdict] = []
        leads: list[str] = []
        notes: list[str] = []
        scored: list[tuple[dict[str, Any], list[Criterion]]] = []
        unmeasured: dict[str, str] = {}
        for bundle in runs:
            # "not_applicable": the SLA names a figure this scenario does not produce; it counts nowhere.
            run_criteria = [
                criterion_from(c, bundle.scenario, bundle.manifest.run_id)
                for c in bundle.sla.get("criteria") or []
                if str(c.get("status", "")).lower() != "not_applicable"
            ]
            criteria.extend(run_criteria)
            verdict = run_verdict(bundle)
            verdicts.append(verdict)
            lead, note = lead_reason(bundle, verdict, run_criteria)
            leads += [lead] if lead else []
            notes += [note] if note else []
            scored.append((bundle.sla, run_criteria))
            unmeasured.update(
                {f"{bundle.scenario}: {k}": str(v) for k, v in (bundle.summary.get("unmeasured") or {}).items()}
            )
        verdict = max(verdicts, key=lambda v: VERDICT_ORDER[v])
        score, span, share = pooled_score(scored)
        results.append(
            VendorResult(
                vendor,
                verdict,
                score,
                0,
                reasons(criteria, leads, notes, verdict),
                [b.manifest.run_id for b in runs],
                criteria,
                unmeasured,
                decided_share=share,
                score_range=span,
            )
        )
    results.sort(key=lambda r: (VERDICT_ORDER[r.verdict], -(r.score or 0.0), r.name))
    assign_ranks(results, comparison)
    return results


def criteria_columns(vendors: list[VendorResult]) -> list[tuple[str, str, float, bool]]:
    seen: dict[str, tuple[str, str, float, bool]] = {}
    for vendor in vendors:
        for c in vendor.criteria:
            key = f"{c.scenario}/{c.id}"
            label = f"{c.scenario}: {c.label}" + (" (reported by the vendor, not verified)" if c.reported else "")
            seen.setdefault(key, (key, label, c.weight, c.critical))
    return list(seen.values())


def accounting(bundles: list[RunBundle]) -> list[Accounting]:
    rows = []
    for bundle in bundles:
        raw = bundle.summary.get("accounting") or {}
        if raw and raw.get("measured", True):
            counts = {k: raw.get(k) for k in ACCOUNTING_KEYS if k in raw}
            rows.append(Accounting(bundle.manifest.run_id, bundle.vendor, bundle.scenario, counts))
    return rows


def costs(vendors: list[VendorResult], bundles: list[RunBundle]) -> list[VendorCost]:
    """Per vendor, in rank order: its runs' ``cost`` sections pooled (``analysis.cost.pool``) and put in words."""
    rows = []
    for vendor in vendors:
        pooled = pool([b.summary.get("cost") for b in bundles if b.vendor == vendor.name])
        per_1000, duplicates, priced, card = wording.cost(pooled)
        rows.append(
            VendorCost(
                vendor.name,
                str(pooled["status"]),
                per_1000,
                duplicates,
                priced,
                card,
                pooled["per_1000_delivered_usd"],
                pooled["duplicates_usd"],
                pooled["unpriced_share"],
            )
        )
    return rows


def _share_words(share: dict[str, Any] | None) -> str:
    if not share or share.get("share") is None:
        return "–"
    text = f"{wording.number(share['share'], 'ratio')} ({share['count']:,} of {share['of']:,})"
    lo, hi = _pair(share.get("ci95"))
    interval = wording.interval(lo, hi, "ratio")
    return f"{text}, {interval}" if interval else text


def reported(bundles: list[RunBundle]) -> list[ReportedRow]:
    """Per run with a callback receiver: the vendor's own figures, then their accuracy where the truth is known."""
    rows = []
    for bundle in bundles:
        section = bundle.summary.get("reported")
        if not isinstance(section, dict):
            continue
        latency = section.get("status_latency_ms") or {}
        codes = ", ".join(f"{code} × {count:,}" for code, count in (section.get("failures_by_code") or {}).items())
        figures = [
            ("reported delivered", _share_words(section.get("delivery_rate"))),
            ("reported read (of the reported delivered)", _share_words(section.get("read_rate"))),
            ("reported failed", _share_words(section.get("failure_rate"))),
            ("acknowledged, never reported", _share_words(section.get("unconfirmed"))),
            (
                "status latency p50 / p95 (send → reported delivered)",
                f"{wording.number(latency.get('p50'), 'ms')} / {wording.number(latency.get('p95'), 'ms')}",
            ),
            ("reported failures by code", codes or "none"),
            ("inbound messages reported", f"{section.get('inbound_messages', 0):,}"),
            ("callbacks for messages never sent", f"{section.get('unmatched_events', 0):,}"),
        ]
        receiver = section.get("receiver") or {}
        receiver_words = (
            f"{receiver.get('accepted', 0):,} callbacks recorded; refused (bad signature) "
            f"{receiver.get('refused', 0):,}, malformed {receiver.get('malformed', 0):,}, shed with 429 "
            f"{receiver.get('shed', 0):,} (past {receiver.get('max_per_s', 0):g}/s)"
            if receiver
            else ""
        )
        rows.append(
            ReportedRow(
                bundle.manifest.run_id,
                bundle.vendor,
                bundle.scenario,
                figures,
                _accuracy_words(bundle.summary.get("report_accuracy")),
                receiver_words,
            )
        )
    return rows


def _accuracy_words(accuracy: Any) -> list[tuple[str, str, bool]]:
    if not isinstance(accuracy, dict):
        return []
    skew = (accuracy.get("skew_ms") or {}).get("delivered") or {}
    inflation = accuracy.get("read_inflation")
    true_read = accuracy.get("true_read")
    read_words = f"{accuracy['reported_read']:,} / " + (f"{true_read:,}" if true_read is not None else "not known")
    skew_words = f"{wording.number(skew.get('p50'), 'ms')} / {wording.number(skew.get('p95'), 'ms')}"
    unsent, lost = accuracy["reports_for_unsent"], accuracy["reported_delivered_but_lost"]
    lines = [
        (
            "delivered: reported / true",
            f"{accuracy['reported_delivered']:,} / {accuracy['true_delivered']:,}",
            accuracy["reported_delivered_not_delivered"] > 0,
        ),
        ("read: reported / true", read_words, bool(accuracy.get("reported_read_not_read"))),
        (
            "read inflation (reported ÷ true)",
            wording.number(inflation, "x") if inflation else "–",
            bool(inflation and inflation > 1.05),
        ),
        (
            "failed: reported / true",
            f"{accuracy['reported_failed']:,} / {accuracy['true_failed']:,}",
            accuracy["failed_not_reported"] > 0,
        ),
        ("reports for messages that never reached WhatsApp", f"{unsent:,}", unsent > 0),
        ("lost but reported delivered", f"{lost:,}", lost > 0),
        ("timing skew p50 / p95 (reported − true delivered)", skew_words, False),
    ]
    return lines


MAX_ERROR_TEXT = 200


def _text(value: object) -> str:
    if value is None or (isinstance(value, float) and value != value):
        return ""
    return str(value)[:MAX_ERROR_TEXT]


def error_rows(bundles: list[RunBundle], top: int = 5) -> list[ErrorRow]:
    """The most frequent (kind, code) errors per run, each with one example text and vendor message id."""
    rows = []
    for bundle in bundles:
        requests = bundle.requests
        failed = requests[~requests["ok"].fillna(False).astype(bool)]
        if failed.empty:
            continue
        keys = failed[["error_kind", "error_code"]].astype("string").fillna("(none)")
        counts = keys.value_counts().head(top)
        for pair, count in counts.items():
            parts: tuple[object, ...] = tuple(pair)  # type: ignore[arg-type]
            kind, code = str(parts[0]), str(parts[1])
            example = failed[(keys["error_kind"] == kind) & (keys["error_code"] == code)].iloc[0]
            rows.append(
                ErrorRow(
                    bundle.manifest.run_id,
                    bundle.vendor,
                    bundle.scenario,
                    str(kind),
                    str(code),
                    int(count),
                    _text(example["error_text"]),
                    _text(example["vendor_message_id"]),
                )
            )
    return rows


def _when(ts: float | None) -> str:
    if ts is None:
        return "?"
    return dt.datetime.fromtimestamp(ts, tz=dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def validity(bundle: RunBundle) -> Validity:
    """The run's "test validity" line, from its summary's ``harness`` section (grey when it has none)."""
    section = bundle.summary.get("harness")
    status, text = wording.validity(section if isinstance(section, dict) else None, harness_bound(bundle.summary))
    return Validity(status, text)  # type: ignore[arg-type]


def run_info(bundle: RunBundle) -> RunInfo:
    m = bundle.manifest
    params = m.scenario_params
    duration = (m.ended_at - m.started_at) if m.ended_at else None
    load_words = f"{m.load_model} model" + "".join(
        f", {k.replace('_', ' ')} {v}" for k, v in params.items() if isinstance(v, int | float | str)
    )
    faults = [
        f"{e.fault} on {e.target or 'target'} at +{e.at - m.started_at:.0f} s"
        + (f" ({', '.join(f'{k}={v}' for k, v in e.params.items())})" if e.params else "")
        for e in bundle.faults
        if e.action == "inject"
    ]
    return RunInfo(
        m.run_id,
        bundle.vendor,
        bundle.scenario,
        _when(m.started_at),
        duration,
        m.complete,
        load_words,
        faults,
        list(m.notes),
        run_verdict(bundle),
        bundle.sla.get("score"),
        bundle.sla.get("decided_weight_share"),
        next(iter(bundle.sla.get("reasons") or []), ""),
        validity(bundle),
    )


def conditions(bundles: list[RunBundle], vendors: list[VendorResult]) -> dict[str, Any]:
    starts = [b.manifest.started_at for b in bundles]
    ends = [b.manifest.ended_at for b in bundles if b.manifest.ended_at]
    host = bundles[0].manifest.host if bundles else {}
    versions: dict[str, str] = {}
    for bundle in bundles:
        versions.update(bundle.manifest.versions)
    drains = {str(b.manifest.scenario_params.get("drain_s", "")) for b in bundles} - {""}
    return {
        "dates": f"{_when(min(starts))} to {_when(max(ends) if ends else None)}" if starts else "",
        "machine": ", ".join(f"{k}: {v}" for k, v in host.items()) or platform.platform(),
        "runs": len(bundles),
        "drain": ", ".join(sorted(f"{d} s" for d in drains)) or "not recorded",
        "versions": versions,
        "unmeasured": {v.name: v.unmeasured for v in vendors if v.unmeasured},
    }


def build_scorecard(
    bundles: list[RunBundle],
    *,
    title: str = "SCRM vendor trial",
    now: float | None = None,
    head_to_head: list[str] | None = None,
    comparison: dict[str, Any] | None = None,
) -> Scorecard:
    """``comparison`` is ``analysis.compare``'s result over the same runs; without it only equal verdict and
    score make a tie."""
    vendors = vendor_results(bundles, comparison)
    slas = {str(b.sla.get("name") or b.manifest.sla or "") for b in bundles} - {""}
    if slas and all(name.endswith(" defaults") for name in slas):
        slas = {"each scenario's own criteria"}
    stamp = dt.datetime.fromtimestamp(now, tz=dt.UTC) if now is not None else dt.datetime.now(tz=dt.UTC)
    return Scorecard(
        title=title,
        generated_at=stamp.strftime("%Y-%m-%d %H:%M UTC"),
        sla_name=", ".join(sorted(slas)) or "default",
        vendors=vendors,
        headline=headline_rows(vendors, bundles),
        criteria_columns=criteria_columns(vendors),
        head_to_head=head_to_head or [],
        accounting=accounting(bundles),
        runs=[run_info(b) for b in bundles],
        errors=error_rows(bundles),
        conditions=conditions(bundles, vendors),
        costs=costs(vendors, bundles),
        reported=reported(bundles),
    )
