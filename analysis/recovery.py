"""Recovery per fault, measured from the client side (chaos-and-scoring-anchors.md §3.1).

Health is judged in 1 s buckets aligned on the fault's injection time T0: a bucket is healthy when it had
started requests, their success ratio is at least ``success_target`` and (if a latency bound is set) their p95
is within it. Then, from T0:

    ttd_s             first unhealthy bucket (client-side time to detect)
    ttr_first_s       first bucket at or after it with one successful request
    ttr_sustained_s   start of the first short window (10 s) meeting the target whose following long window
                      (60 s) also meets it: the SRE long-AND-short rule applied to recovery
    flaps             healthy→unhealthy transitions between first success and sustained recovery
    outage_s          unhealthy buckets between the first unhealthy one and sustained recovery

Both recovery times are also given from the moment the fault was cleared. A fault the client never noticed
has all three at 0. A recovery whose confirmation window runs past the end of the records is not claimed:
``recovered`` is false and ``ttr_lower_bound_s`` says how long the run watched.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis.accounting import INBOUND_OPERATIONS
from analysis.columns import text_in, text_is
from analysis.metrics import event_time
from analysis.stats import percentile
from ground.records import FaultEvent

MONTH_S = 30 * 24 * 3600.0
BUDGET_SLAS = (0.99, 0.995, 0.999)


@dataclass(frozen=True)
class RecoveryParams:
    bucket_s: float = 1.0
    short_window_s: float = 10.0
    confirm_window_s: float = 60.0
    success_target: float = 0.99
    latency_p95_ms: float | None = None
    lost_margin_s: float = 10.0  # lost messages this long before T0 still count as "around the fault"


@dataclass(frozen=True)
class FaultSpan:
    fault_id: str
    fault: str
    target: str
    injected_at: float
    cleared_at: float | None
    injected_ok: bool


def fault_spans(events: list[FaultEvent]) -> list[FaultSpan]:
    """Pair each inject with its clear (by ``fault_id``, else the next clear of the same fault name)."""
    spans: list[FaultSpan] = []
    open_by_key: dict[str, int] = {}
    for event in sorted(events, key=lambda e: e.at):
        key = event.fault_id or event.fault
        if event.action == "inject":
            open_by_key[key] = len(spans)
            name = event.fault_id or f"{event.fault}#{len(spans) + 1}"
            spans.append(FaultSpan(name, event.fault, event.target, event.at, None, event.ok))
        elif event.action == "clear" and key in open_by_key:
            index = open_by_key.pop(key)
            old = spans[index]
            spans[index] = FaultSpan(old.fault_id, old.fault, old.target, old.injected_at, event.at, old.injected_ok)
    return spans


def _window_ok(ok_cum: np.ndarray, started_cum: np.ndarray, lo: int, hi: int, target: float) -> bool:
    started = started_cum[hi] - started_cum[lo]
    return bool(started > 0 and (ok_cum[hi] - ok_cum[lo]) / started >= target)


def _buckets(requests: pd.DataFrame, t0: float, bucket_s: float, end: float) -> tuple[np.ndarray, ...]:
    times = event_time(requests)
    dropped = text_is(requests["outcome"], "dropped")
    ok = requests["ok"].fillna(False).to_numpy(dtype=bool) & ~dropped
    latency = requests["corrected_latency_ms"].to_numpy(dtype="float64", na_value=np.nan)
    plain = requests["latency_ms"].to_numpy(dtype="float64", na_value=np.nan)
    latency = np.where(np.isnan(latency), plain, latency)
    # Up to the last record's bucket: an empty tail after the load stopped is no outage.
    last = np.nanmax(times[~dropped]) if (~dropped).any() else np.nan
    n_buckets = math.floor((min(last, end) - t0) / bucket_s) + 1 if np.isfinite(last) and last >= t0 else 0
    index = np.floor((times - t0) / bucket_s)
    keep = (index >= 0) & (index < n_buckets) & ~dropped
    index = index[keep].astype("int64")
    started = np.bincount(index, minlength=n_buckets)
    oks = np.bincount(index, weights=ok[keep], minlength=n_buckets)
    return started, oks, index, latency[keep]


def _healthy(
    started: np.ndarray, oks: np.ndarray, index: np.ndarray, latency: np.ndarray, p: RecoveryParams
) -> np.ndarray:
    with np.errstate(invalid="ignore", divide="ignore"):
        healthy: np.ndarray = (started > 0) & (oks / np.maximum(started, 1) >= p.success_target)
    if p.latency_p95_ms is not None:
        for bucket in np.flatnonzero(healthy):
            if (percentile(latency[index == bucket], 95.0) or 0.0) > p.latency_p95_ms:
                healthy[bucket] = False
    return healthy


def _window_latency_ok(index: np.ndarray, latency: np.ndarray, lo: int, hi: int, p: RecoveryParams) -> bool:
    if p.latency_p95_ms is None:
        return True
    value = percentile(latency[(index >= lo) & (index < hi)], 95.0)
    return value is not None and value <= p.latency_p95_ms


def _sustained(
    started: np.ndarray, oks: np.ndarray, index: np.ndarray, latency: np.ndarray, first: int, p: RecoveryParams
) -> int | None:
    short = round(p.short_window_s / p.bucket_s)
    long = round(p.confirm_window_s / p.bucket_s)
    ok_cum = np.concatenate([[0.0], np.cumsum(oks)])
    started_cum = np.concatenate([[0], np.cumsum(started)])
    for start in range(first, started.size - short - long + 1):
        if not _window_ok(ok_cum, started_cum, start, start + short, p.success_target):
            continue
        if not _window_ok(ok_cum, started_cum, start + short, start + short + long, p.success_target):
            continue
        if _window_latency_ok(index, latency, start, start + short, p) and _window_latency_ok(
            index, latency, start + short, start + short + long, p
        ):
            return start
    return None


def recover_one(
    span: FaultSpan, requests: pd.DataFrame, messages: pd.DataFrame, run_end: float, p: RecoveryParams
) -> dict[str, Any]:
    """The recovery figures of one fault (see the module docstring)."""
    t0 = span.injected_at
    started, oks, index, latency = _buckets(requests, t0, p.bucket_s, run_end)
    healthy = _healthy(started, oks, index, latency, p)
    unhealthy = np.flatnonzero(~healthy)
    out: dict[str, Any] = {
        "fault_id": span.fault_id,
        "fault": span.fault,
        "target": span.target,
        "injected_at": t0,
        "cleared_at": span.cleared_at,
        "injected_ok": span.injected_ok,
        "duration_s": (span.cleared_at - t0) if span.cleared_at is not None else None,
    }
    first_ok: int | None
    sustained: int | None
    if unhealthy.size == 0:
        first_bad = first_ok = sustained = 0
        recovered = bool(started.size)
    else:
        first_bad = int(unhealthy[0])
        later_ok = np.flatnonzero(oks[first_bad:] > 0)
        first_ok = first_bad + int(later_ok[0]) if later_ok.size else None
        found = _sustained(started, oks, index, latency, first_bad, p)
        sustained = found
        recovered = found is not None
    seconds = p.bucket_s
    out["ttd_s"] = first_bad * seconds if unhealthy.size else 0.0
    out["ttr_first_s"] = first_ok * seconds if first_ok is not None else None
    out["ttr_sustained_s"] = sustained * seconds if sustained is not None else None
    out["recovered"] = recovered
    out["ttr_lower_bound_s"] = None if recovered else max(0.0, run_end - t0)
    clear_offset = (span.cleared_at - t0) if span.cleared_at is not None else None
    for key in ("ttr_first", "ttr_sustained"):
        value = out[f"{key}_s"]
        out[f"{key}_from_clear_s"] = value - clear_offset if value is not None and clear_offset is not None else None
    end_bucket = sustained if sustained is not None else healthy.size
    between = healthy[first_ok:end_bucket] if first_ok is not None else healthy[:0]
    out["flaps"] = int(np.sum(between[:-1] & ~between[1:])) if between.size > 1 else 0
    outage = float((~healthy[first_bad:end_bucket]).sum()) * seconds if unhealthy.size else 0.0
    out["outage_s"] = outage
    errors = float((started - oks)[first_bad:end_bucket].sum()) if unhealthy.size else 0.0
    watched = run_end - t0
    rate = float(started.sum()) / watched if watched > 0 else 0.0  # requests per second from T0 to the end
    out["errors_during_fault"] = int(errors)
    out["budget"] = {
        f"{sla * 100:g}": {
            "downtime_used_pct": 100.0 * outage / ((1 - sla) * MONTH_S),
            "error_budget_used_pct": (100.0 * errors / ((1 - sla) * rate * MONTH_S)) if rate > 0 else None,
        }
        for sla in BUDGET_SLAS
    }
    out.update(_lost_around(messages, t0, t0 + (end_bucket + round(p.short_window_s / seconds)) * seconds, p))
    return out


def _lost_around(messages: pd.DataFrame, t0: float, until: float, p: RecoveryParams) -> dict[str, Any]:
    lost = messages[(messages["status"] == "lost") & (messages["sent_at"] >= t0 - p.lost_margin_s)]
    lost = lost[lost["sent_at"] < until]
    if lost.empty:
        return {"lost_messages": 0, "recovery_point": None}
    first, last = float(lost["sent_at"].min()), float(lost["sent_at"].max())
    return {
        "lost_messages": len(lost),
        # The observed RPO: the span of sends that were acknowledged and never arrived, relative to T0.
        "recovery_point": {"first_s": first - t0, "last_s": last - t0, "span_s": last - first},
    }


def recovery(
    faults: list[FaultEvent], requests: pd.DataFrame, messages: pd.DataFrame, run_end: float, params: RecoveryParams
) -> dict[str, Any]:
    spans = fault_spans(faults)
    if spans:
        # Health is the vendor's: the harness's own calls to the mock (customer messages) keep succeeding through
        # a vendor outage and would hide it. A purely inbound run has nothing else, so it keeps them.
        inbound = text_in(requests["operation"], INBOUND_OPERATIONS)
        if (~inbound).any():
            requests = requests[~inbound]
    results = [recover_one(span, requests, messages, run_end, params) for span in spans]
    sustained = [r["ttr_sustained_s"] for r in results if r["ttr_sustained_s"] is not None]
    return {
        "params": {
            "bucket_s": params.bucket_s,
            "short_window_s": params.short_window_s,
            "confirm_window_s": params.confirm_window_s,
            "success_target": params.success_target,
            "latency_p95_ms": params.latency_p95_ms,
        },
        "faults": results,
        "all_recovered": all(r["recovered"] for r in results),
        "worst_ttr_sustained_s": (max(sustained) if sustained and all(r["recovered"] for r in results) else None),
        "median_ttr_sustained_s": float(np.median(sustained)) if sustained else None,
        "lost_messages": int(sum(r["lost_messages"] for r in results)),
    }
