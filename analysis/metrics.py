"""Request metrics per operation and overall, and the same per time window (design.md "Measurement definitions").

Definitions (the contract; docs/summary-schema.md repeats them):
- ``count`` is every record, dropped schedule slots included; ``started`` excludes dropped slots.
- An **error** is a started request that did not end ok (failed or indeterminate); dropped slots are counted
  apart, as the generator's shortfall, never as the vendor's errors. ``error_rate = errors / started``.
- **Latency** is over every started request, ok or not (a timeout is a 30 s wait a customer really had).
- **Corrected latency** (open model only) is ``ended_at − scheduled_at``, the wait measured from the moment the
  schedule said the request should start.
- **Throughput** divides by the whole run's span (first start to last end), so per-operation figures add up.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from analysis.columns import text_is
from analysis.stats import ValueRanks, grouped_percentiles, latency_summary, sorted_summary, value_ranks

WINDOWS_S: tuple[int, ...] = (1, 10, 60)
TOP_ERROR_CODES = 20
NO_OPERATION = "(none)"


def event_time(requests: pd.DataFrame) -> np.ndarray:
    """When each record belongs on the timeline: its scheduled slot if any, else its start."""
    scheduled = requests["scheduled_at"].to_numpy(dtype="float64", na_value=np.nan)
    started = requests["started_at"].to_numpy(dtype="float64", na_value=np.nan)
    return np.where(np.isnan(scheduled), started, scheduled)


def run_span(requests: pd.DataFrame) -> tuple[float, float] | None:
    """(first start or slot, last end) over the records; None for an empty run."""
    if requests.empty:
        return None
    times = event_time(requests)
    ends = requests["ended_at"].to_numpy(dtype="float64", na_value=np.nan)
    first = np.nanmin(times) if np.isfinite(times).any() else np.nan
    last = np.nanmax(np.concatenate([ends, times]))
    if not (np.isfinite(first) and np.isfinite(last)):
        return None
    return float(first), float(last)


def _count_by(series: pd.Series, limit: int | None = None) -> dict[str, int]:
    counts = series.astype(object).fillna("").astype("str").replace("", "(none)").value_counts()
    items = [(str(key), int(value)) for key, value in counts.items()]
    items.sort(key=lambda item: (-item[1], item[0]))
    if limit is not None and len(items) > limit:
        other = sum(value for _, value in items[limit:])
        items = [*items[:limit], ("(other)", other)]
    return dict(items)


@dataclass
class RequestColumns:
    """The request columns the metrics need, pulled out of the frame once as numpy arrays."""

    frame: pd.DataFrame
    dropped: np.ndarray
    failed: np.ndarray
    indeterminate: np.ndarray
    ok: np.ndarray
    latency: np.ndarray
    corrected: np.ndarray
    has_schedule: bool

    @classmethod
    def of(cls, frame: pd.DataFrame) -> RequestColumns:
        dropped = text_is(frame["outcome"], "dropped")
        return cls(
            frame=frame,
            dropped=dropped,
            failed=text_is(frame["outcome"], "failed"),
            indeterminate=text_is(frame["outcome"], "indeterminate"),
            ok=frame["ok"].fillna(False).to_numpy(dtype=bool) & ~dropped,
            latency=frame["latency_ms"].to_numpy(dtype="float64", na_value=np.nan),
            corrected=frame["corrected_latency_ms"].to_numpy(dtype="float64", na_value=np.nan),
            has_schedule=bool(frame["scheduled_at"].notna().any()),
        )


def operation_stats(
    cols: RequestColumns,
    mask: np.ndarray | None,
    duration_s: float,
    *,
    open_model: bool,
    orders: dict[str, ValueRanks] | None = None,
) -> dict[str, Any]:
    """The headline figures of the records selected by ``mask`` (all when None); see the module docstring.
    ``orders``: ``latency_orders`` of the same records, so the latency percentiles need no sort of their own."""
    select = np.ones(cols.dropped.size, dtype=bool) if mask is None else mask
    dropped = cols.dropped & select
    started_mask = select & ~cols.dropped
    started = int(started_mask.sum())
    ok = int((cols.ok & select).sum())
    errors = started - ok
    failed_rows = cols.frame.loc[started_mask & ~cols.ok, ["error_kind", "error_code"]]
    count = int(select.sum())
    stats: dict[str, Any] = {
        "count": count,
        "started": started,
        "ok": ok,
        "errors": errors,
        "failed": int((cols.failed & select).sum()),
        "indeterminate": int((cols.indeterminate & select).sum()),
        "dropped_slots": int(dropped.sum()),
        "error_rate": errors / started if started else None,
        "dropped_rate": float(dropped.sum()) / count if count else None,
        "throughput_rps": started / duration_s if duration_s > 0 else None,
        "ok_rps": ok / duration_s if duration_s > 0 else None,
        "errors_by_kind": _count_by(failed_rows["error_kind"]),
        "errors_by_code": _count_by(failed_rows["error_code"], TOP_ERROR_CODES),
        "latency_ms": _latency(cols.latency, started_mask, mask, orders, "latency"),
        "corrected_latency_ms": None,
    }
    if open_model and cols.has_schedule:
        stats["corrected_latency_ms"] = _latency(cols.corrected, started_mask, mask, orders, "corrected")
    return stats


def _latency(
    values: np.ndarray,
    started: np.ndarray,
    mask: np.ndarray | None,
    orders: dict[str, ValueRanks] | None,
    name: str,
) -> dict[str, float | int | None]:
    # The orders leave dropped slots out (NaN), so their subset under ``mask`` is the started records' values.
    if orders is not None and name in orders:
        return sorted_summary(orders[name].subset(mask))
    return latency_summary(values[started])


def latency_orders(requests: pd.DataFrame) -> dict[str, ValueRanks]:
    """Latency and corrected latency of the started records (dropped slots as NaN), each sorted once: the request
    figures, every window length of the timelines take their percentiles from these."""
    dropped = text_is(requests["outcome"], "dropped")
    orders = {}
    for name, column in (("latency", "latency_ms"), ("corrected", "corrected_latency_ms")):
        values = requests[column].to_numpy(dtype="float64", na_value=np.nan)
        orders[name] = value_ranks(np.where(dropped, np.nan, values))
    return orders


def request_metrics(
    requests: pd.DataFrame, *, open_model: bool, orders: dict[str, ValueRanks] | None = None
) -> dict[str, Any]:
    """``{"duration_s", "overall": stats, "by_operation": {op: stats}}``; ``orders``: ``latency_orders`` of the same
    records when already made."""
    span = run_span(requests)
    duration = span[1] - span[0] if span else 0.0
    cols = RequestColumns.of(requests)
    codes, names = pd.factorize(requests["operation"])
    labels = [str(name) for name in names]
    if (codes < 0).any():  # records without an operation, as "(none)"
        if NO_OPERATION not in labels:
            labels.append(NO_OPERATION)
        codes = np.where(codes < 0, labels.index(NO_OPERATION), codes)
    by_operation = {
        labels[i]: operation_stats(cols, codes == i, duration, open_model=open_model, orders=orders)
        for i in sorted(range(len(labels)), key=labels.__getitem__)
    }
    return {
        "duration_s": duration,
        "overall": operation_stats(cols, None, duration, open_model=open_model, orders=orders),
        "by_operation": by_operation,
    }


@dataclass(frozen=True)
class SeriesColumns:
    """The request columns every window length of the timeline reads, pulled out of the frame once."""

    times: np.ndarray
    dropped: np.ndarray
    ok: np.ndarray
    latency: np.ndarray  # NaN for dropped slots
    corrected: np.ndarray | None  # None unless the run was open-model and scheduled

    @classmethod
    def of(cls, requests: pd.DataFrame, *, open_model: bool) -> SeriesColumns:
        dropped = text_is(requests["outcome"], "dropped")
        corrected = None
        if open_model and requests["scheduled_at"].notna().any():
            values = requests["corrected_latency_ms"].to_numpy(dtype="float64", na_value=np.nan)
            corrected = np.where(dropped, np.nan, values)
        return cls(
            times=event_time(requests),
            dropped=dropped,
            ok=requests["ok"].fillna(False).to_numpy(dtype=bool) & ~dropped,
            latency=np.where(dropped, np.nan, requests["latency_ms"].to_numpy(dtype="float64", na_value=np.nan)),
            corrected=corrected,
        )


def distinct_keys(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``np.unique(keys, return_counts=True)`` and each key's position among the unique ones (``searchsorted``):
    by counting when the keys span little more than there are rows (a run's windows), else by sorting."""
    if keys.size and int(keys.max()) - int(keys.min()) <= max(4 * keys.size, 2**20):
        low = int(keys.min())
        every = np.bincount(keys - low)
        present = np.flatnonzero(every)
        index = np.zeros(every.size, dtype="int64")
        index[present] = np.arange(present.size, dtype="int64")
        return present + low, every[present], index[keys - low]
    uniq, counts = np.unique(keys, return_counts=True)
    return uniq, counts, np.searchsorted(uniq, keys)


def window_series(
    requests: pd.DataFrame,
    window_s: int,
    t0: float,
    *,
    open_model: bool,
    orders: dict[str, ValueRanks] | None = None,
    columns: SeriesColumns | None = None,
) -> dict[str, list[Any]]:
    """Columnar per-window series: ``t`` (window start, s from t0), counts, rates and latency percentiles.

    Windows with no record are absent (a gap on a chart is honest; a zero would claim requests were made).
    ``columns``: ``SeriesColumns`` of the same records when already pulled out.
    """
    if requests.empty:
        return {"t": []}
    orders = orders or {}
    cols = columns if columns is not None else SeriesColumns.of(requests, open_model=open_model)
    bucket = np.floor((cols.times - t0) / window_s).astype("int64")
    uniq, counts, position = distinct_keys(bucket)
    ok_n = np.bincount(position, weights=cols.ok, minlength=uniq.size)
    dropped_n = np.bincount(position, weights=cols.dropped, minlength=uniq.size)
    started_n = counts - dropped_n
    latency = cols.latency
    series: dict[str, list[Any]] = {
        "t": (uniq * window_s).astype("float64").tolist(),
        "count": counts.astype("int64").tolist(),
        "ok": ok_n.astype("int64").tolist(),
        "errors": (started_n - ok_n).astype("int64").tolist(),
        "dropped": dropped_n.astype("int64").tolist(),
        "throughput_rps": (started_n / window_s).tolist(),
        "error_rate": [None if s == 0 else float((s - o) / s) for s, o in zip(started_n, ok_n, strict=True)],
    }
    series.update(_window_percentiles(position, latency, uniq.size, "latency", orders.get("latency")))
    if cols.corrected is not None:
        series.update(_window_percentiles(position, cols.corrected, uniq.size, "corrected", orders.get("corrected")))
    return series


def _window_percentiles(
    position: np.ndarray, values: np.ndarray, size: int, prefix: str, order: ValueRanks | None
) -> dict[str, list[Any]]:
    keys, _, p50, p95, p99 = grouped_percentiles(position, values, (50.0, 95.0, 99.0), ranks=order)
    out: dict[str, list[Any]] = {}
    for name, column in (("p50", p50), ("p95", p95), ("p99", p99)):
        full: list[float | None] = [None] * size
        for key, value in zip(keys.tolist(), column.tolist(), strict=True):
            full[key] = float(value)
        out[f"{prefix}_{name}_ms"] = full
    return out


def timelines(
    requests: pd.DataFrame, t0: float, *, open_model: bool, orders: dict[str, ValueRanks] | None = None
) -> dict[str, dict[str, list[Any]]]:
    """The 1 s, 10 s and 1 min series, keyed by the window length in seconds as a string."""
    # One sort by latency per column serves every window length.
    orders = orders if orders is not None else latency_orders(requests)
    columns = SeriesColumns.of(requests, open_model=open_model) if not requests.empty else None
    return {
        str(w): window_series(requests, w, t0, open_model=open_model, orders=orders, columns=columns) for w in WINDOWS_S
    }
