"""Tidy tables for the scorecard's charts, computed from the record frames (harness/records.py schemas).

Pure functions: DataFrames in, DataFrames out, no I/O. Times are seconds since the run's start so runs of the
same scenario against different vendors line up on one axis. Percentiles are nearest-rank (analysis/stats.py),
the definition ``summary.json`` uses, so a chart's p95 is a value the summary could have reported.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pandas as pd

from analysis.stats import grouped_percentiles

PERCENTILES = (50, 95, 99)
_SIZE_IN_NAME = re.compile(r"(\d[\d_]*)")


def _elapsed(frame: pd.DataFrame, column: str, started_at: float) -> pd.Series:
    return frame[column].astype("float64") - started_at


def group_percentiles(keys: np.ndarray, values: np.ndarray, pcts: tuple[float, ...]) -> pd.DataFrame:
    """Nearest-rank percentiles of ``values`` per integer key: columns ``key``, ``n``, ``p<pct>`` for each pct.

    NaN values are left out (and not counted in ``n``).
    """
    keys = np.asarray(keys, dtype="int64")
    values = np.asarray(values, dtype="float64")
    key, counts, *columns = grouped_percentiles(keys, values, pcts)
    table = pd.DataFrame({"key": key, "n": counts})
    for pct, column in zip(pcts, columns, strict=True):
        table[f"p{pct:g}"] = column
    return table


def felt_latency(requests: pd.DataFrame) -> pd.Series:
    """Corrected latency (from the scheduled slot) where the run had a schedule, else plain latency, in ms."""
    corrected = pd.to_numeric(requests["corrected_latency_ms"], errors="coerce").astype("float64")
    return corrected.fillna(pd.to_numeric(requests["latency_ms"], errors="coerce").astype("float64"))


def latency_windows(requests: pd.DataFrame, started_at: float, window_s: float = 10.0) -> pd.DataFrame:
    """p50/p95/p99 of the latency a customer felt (corrected latency where the run had a schedule) per window.

    Columns: ``t`` (window start, s since run start), ``p50``, ``p95``, ``p99`` (ms), ``n``.
    """
    if requests.empty:
        return pd.DataFrame(columns=["t", "p50", "p95", "p99", "n"])
    window = (_elapsed(requests, "started_at", started_at) // window_s).to_numpy(dtype="float64")
    table = group_percentiles(window, felt_latency(requests).to_numpy(dtype="float64"), PERCENTILES)
    table.insert(0, "t", table.pop("key") * window_s)
    return table[["t", "p50", "p95", "p99", "n"]].reset_index(drop=True)


def throughput_windows(requests: pd.DataFrame, started_at: float, window_s: float = 10.0) -> pd.DataFrame:
    """Successful and failed requests per second per window. Columns: ``t``, ``ok_per_s``, ``errors_per_s``."""
    if requests.empty:
        return pd.DataFrame(columns=["t", "ok_per_s", "errors_per_s"])
    t = (_elapsed(requests, "started_at", started_at) // window_s) * window_s
    ok = requests["ok"].astype(bool)
    table = pd.DataFrame({"t": t, "ok": ok.astype(int), "err": (~ok).astype(int)}).groupby("t").sum()
    return pd.DataFrame(
        {"t": table.index, "ok_per_s": table["ok"].to_numpy() / window_s, "errors_per_s": table["err"] / window_s}
    ).reset_index(drop=True)


def latency_cdf(requests: pd.DataFrame, points: int = 200) -> pd.DataFrame:
    """The empirical CDF of the felt latency, thinned to at most ``points`` rows (quantile grid, tail kept)."""
    latency = felt_latency(requests).dropna().to_numpy(dtype="float64")
    if latency.size == 0:
        return pd.DataFrame(columns=["latency_ms", "fraction"])
    # A quantile grid denser near 1 so the tail a customer remembers is drawn, not averaged away.
    grid = 1.0 - np.geomspace(1.0, 1.0 / max(latency.size, 2), num=points)
    grid = np.unique(np.clip(np.concatenate([grid, [0.0, 1.0]]), 0.0, 1.0))
    # inverted_cdf: the smallest observed value whose share reaches the grid point, i.e. nearest rank.
    return pd.DataFrame({"latency_ms": np.quantile(latency, grid, method="inverted_cdf"), "fraction": grid})


def upload_failures(requests: pd.DataFrame, bin_size: int = 50) -> pd.DataFrame:
    """Media uploads in the order they started, failures counted per block of ``bin_size`` uploads.

    Columns: ``first_index`` (1-based index of the block's first upload), ``uploads``, ``failures``.
    """
    uploads = requests[requests["operation"] == "upload_media"].sort_values("started_at", kind="stable")
    if uploads.empty:
        return pd.DataFrame(columns=["first_index", "uploads", "failures"])
    block = np.arange(len(uploads)) // bin_size
    failed = (~uploads["ok"].astype(bool)).astype(int).to_numpy()
    table = pd.DataFrame({"block": block, "failed": failed}).groupby("block")["failed"].agg(["size", "sum"])
    return pd.DataFrame(
        {"first_index": table.index * bin_size + 1, "uploads": table["size"], "failures": table["sum"]}
    ).reset_index(drop=True)


def first_failure_index(requests: pd.DataFrame) -> int | None:
    """The 1-based index of the first failed media upload, or None when every upload succeeded."""
    uploads = requests[requests["operation"] == "upload_media"].sort_values("started_at", kind="stable")
    failed = np.flatnonzero(~uploads["ok"].astype(bool).to_numpy())
    return int(failed[0]) + 1 if failed.size else None


def hourly(requests: pd.DataFrame, started_at: float, hour_s: float = 3600.0) -> pd.DataFrame:
    """Soak hour by hour: p95 latency and error rate per (possibly compressed) hour.

    Columns: ``hour`` (1-based), ``p95``, ``error_rate``, ``n``.
    """
    if requests.empty:
        return pd.DataFrame(columns=["hour", "p95", "error_rate", "n"])
    hour = (_elapsed(requests, "started_at", started_at) // hour_s).astype(int) + 1
    frame = pd.DataFrame({"hour": hour, "err": (~requests["ok"].astype(bool)).astype(float)})
    grouped = frame.groupby("hour")
    p95 = group_percentiles(hour.to_numpy(), felt_latency(requests).to_numpy(dtype="float64"), (95,))
    return pd.DataFrame(
        {
            "p95": p95.set_index("key")["p95"].reindex(grouped.size().index),
            "error_rate": grouped["err"].mean(),
            "n": grouped.size(),
        }
    ).reset_index()


def _size_of_phase(searches: pd.DataFrame, phases: list[dict[str, Any]]) -> pd.Series:
    """The store size of each search: the phase it started in (``size-100000``, from the manifest)."""
    sizes = pd.Series(np.nan, index=searches.index, dtype="float64")
    started = searches["started_at"].astype("float64")
    for phase in phases:
        found = _SIZE_IN_NAME.search(str(phase.get("name", "")))
        begin, end = phase.get("started_at"), phase.get("ended_at") or np.inf
        if found and isinstance(begin, int | float):
            sizes[(started >= begin) & (started < end)] = float(found.group(1).replace("_", ""))
    return sizes


def search_growth(requests: pd.DataFrame, phases: list[dict[str, Any]] | None = None) -> pd.DataFrame:
    """Conversation-search latency by store size: the size of the phase each search ran in (data-volume runs
    record one phase per size), else the size in the request name (``search@100000``).

    Columns: ``size``, ``p50``, ``p95``, ``n``.
    """
    searches = requests[requests["operation"] == "search_conversations"]
    if phases:
        sizes = _size_of_phase(searches, phases)
    else:
        sizes = searches["name"].astype("string").str.extract(_SIZE_IN_NAME, expand=False).str.replace("_", "")
    searches = searches.assign(size=pd.to_numeric(sizes, errors="coerce")).dropna(subset=["size"])
    if searches.empty:
        return pd.DataFrame(columns=["size", "p50", "p95", "n"])
    ms = pd.to_numeric(searches["latency_ms"], errors="coerce").to_numpy(dtype="float64")
    table = group_percentiles(searches["size"].to_numpy(dtype="int64"), ms, (50, 95))
    table.insert(0, "size", table.pop("key").astype("float64"))
    return table[["size", "p50", "p95", "n"]]


def capacity_steps(requests: pd.DataFrame, started_at: float, step_s: float) -> pd.DataFrame:
    """A stepped ramp seen per step: offered rate (attempts/s), achieved throughput, p95 and error rate.

    Columns: ``step`` (1-based), ``offered_per_s``, ``ok_per_s``, ``p95``, ``error_rate``.
    """
    if requests.empty or step_s <= 0:
        return pd.DataFrame(columns=["step", "offered_per_s", "ok_per_s", "p95", "error_rate"])
    scheduled = pd.to_numeric(requests["scheduled_at"], errors="coerce").astype("float64")
    base = scheduled.fillna(requests["started_at"].astype("float64"))
    step = ((base - started_at) // step_s).astype(int) + 1
    ok = requests["ok"].astype(bool)
    frame = pd.DataFrame({"step": step, "ok": ok.astype(int), "err": (~ok).astype(float)})
    grouped = frame.groupby("step")
    p95 = group_percentiles(step.to_numpy(), felt_latency(requests).to_numpy(dtype="float64"), (95,))
    table = pd.DataFrame(
        {
            "offered_per_s": grouped.size() / step_s,
            "ok_per_s": grouped["ok"].sum() / step_s,
            "p95": p95.set_index("key")["p95"].reindex(grouped.size().index),
            "error_rate": grouped["err"].mean(),
        }
    )
    return table.reset_index()
