"""Degradation over a long run: robust slope of windowed p95, last/first ratio, and an hour-by-hour table.

The slope is Theil–Sen (median of pairwise slopes) over the per-window p95 values, so one bad minute does not
tilt it; it is reported in ms per hour with its 95% interval. ``last_first_ratio`` compares the last full
window's p95 with the first one's (market-figures #1: "1.2 s drifting to 8.5 s by minute 5" is a ratio of 7).

Only **full** windows enter the slope and the ratio: a window counts when the run covered it, i.e. the run's
end (the last record, or ``end`` when given) falls in its last tenth or after it (``FULL_SHARE``: a run of one
request a second whose last request ends at 119.1 s covers the minute 60–120 s). The trailing part-window of a
run that stopped mid-window holds a handful of requests whose p95 is one unlucky request, not a trend; it is
counted in ``partial_windows`` and left out. A run shorter than one window has no full window and no figures.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np
import pandas as pd

from analysis.columns import text_is
from analysis.metrics import event_time
from analysis.stats import ValueRanks, grouped_percentiles, matching_ranks, theil_sen

FULL_SHARE = 0.9  # a window the run covered to at least this share counts as full


def _latency(requests: pd.DataFrame) -> np.ndarray:
    dropped = text_is(requests["outcome"], "dropped")
    corrected = requests["corrected_latency_ms"].to_numpy(dtype="float64", na_value=np.nan)
    plain = requests["latency_ms"].to_numpy(dtype="float64", na_value=np.nan)
    values = np.where(np.isnan(corrected), plain, corrected)
    return np.where(dropped, np.nan, values)


def degradation(
    requests: pd.DataFrame,
    t0: float,
    *,
    window_s: float = 60.0,
    end: float | None = None,
    orders: Iterable[ValueRanks] = (),
) -> dict[str, Any]:
    """Slope (ms/hour) and ratio of the per-window p95 of (corrected) latency over full windows, plus the
    hourly table. ``end``: when the run stopped (default: the last record's time). ``orders``: latency columns
    already sorted (``analysis.metrics.latency_orders``); when one of them holds exactly the values this
    takes, its sort is reused."""
    out: dict[str, Any] = {
        "window_s": window_s,
        "windows": 0,
        "partial_windows": 0,
        "slope_ms_per_hour": None,
        "slope_ci95": None,
        "first_p95_ms": None,
        "last_p95_ms": None,
        "last_first_ratio": None,
        "hourly": [],
    }
    if requests.empty:
        return out
    times = event_time(requests)
    latency = _latency(requests)
    keys = np.floor((times - t0) / window_s).astype("int64")
    ranks = matching_ranks(latency, orders)  # one sort for the windows and the hours
    uniq, _counts, p95 = grouped_percentiles(keys, latency, (95.0,), ranks=ranks)
    stop = float(np.nanmax(times)) if end is None else end
    full = (uniq + FULL_SHARE) * window_s <= stop - t0 + 1e-9
    out["partial_windows"] = int((~full).sum())
    uniq, p95 = uniq[full], p95[full]
    out["windows"] = int(uniq.size)
    if uniq.size:
        out["first_p95_ms"] = float(p95[0])
        out["last_p95_ms"] = float(p95[-1])
        out["last_first_ratio"] = float(p95[-1] / p95[0]) if p95[0] > 0 else None
    slope = theil_sen(uniq.astype("float64") * window_s / 3600.0, p95.astype("float64"))
    if slope is not None:
        out["slope_ms_per_hour"] = slope[0]
        out["slope_ci95"] = [slope[1], slope[2]]
    out["hourly"] = hourly_table(requests, t0, times, latency, ranks)
    return out


def hourly_table(
    requests: pd.DataFrame, t0: float, times: np.ndarray, latency: np.ndarray, ranks: ValueRanks | None = None
) -> list[dict[str, Any]]:
    hours = np.floor((times - t0) / 3600.0).astype("int64")
    dropped = text_is(requests["outcome"], "dropped")
    ok = requests["ok"].fillna(False).to_numpy(dtype=bool) & ~dropped
    uniq, counts, p50, p95, p99 = grouped_percentiles(hours, latency, (50.0, 95.0, 99.0), ranks=ranks)
    rows = []
    for i, hour in enumerate(uniq.tolist()):
        in_hour = (hours == hour) & ~dropped
        started = int(in_hour.sum())
        rows.append(
            {
                "hour": int(hour),
                "count": int(counts[i]),
                "p50_ms": float(p50[i]),
                "p95_ms": float(p95[i]),
                "p99_ms": float(p99[i]),
                "error_rate": float(started - int(ok[in_hour].sum())) / started if started else None,
            }
        )
    return rows
