"""Small statistics used by every figure: exact percentiles, grouped percentiles, intervals on rates and quantiles.

Percentiles are **nearest-rank** over the raw values (the definition lives in ``ground.stats``): p-th percentile =
the value at rank ⌈p/100 · n⌉ of the sorted sample (rank 1 for p = 0). It is always a value that was actually
observed, needs no interpolation convention, and is what a reader can check by sorting a column by hand.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from ground.stats import rank_index as rank_index  # the one nearest-rank definition (ground floor)

PERCENTILES: tuple[tuple[str, float], ...] = (
    ("p50", 50.0),
    ("p90", 90.0),
    ("p95", 95.0),
    ("p99", 99.0),
    ("p99_9", 99.9),
)
Z95 = 1.959963984540054


def percentile(values: np.ndarray | Sequence[float], pct: float) -> float | None:
    array = np.asarray(values, dtype="float64")
    array = array[~np.isnan(array)]
    if array.size == 0:
        return None
    k = rank_index(array.size, pct)
    return float(np.partition(array, k)[k])


def latency_summary(values: np.ndarray | Sequence[float]) -> dict[str, float | int | None]:
    """count, min, mean, p50…p99.9 and max of a latency sample (nearest-rank); Nones when empty."""
    array = np.asarray(values, dtype="float64")
    return sorted_summary(np.sort(array[~np.isnan(array)]))


def sorted_summary(array: np.ndarray) -> dict[str, float | int | None]:
    """``latency_summary`` of values already sorted, without NaN (``ValueRanks.subset``): no sort of its own."""
    n = int(array.size)
    out: dict[str, float | int | None] = {"count": n}
    if n == 0:
        out.update({"min": None, "mean": None, **{name: None for name, _ in PERCENTILES}, "max": None})
        return out
    out["min"] = float(array[0])
    out["mean"] = float(array.mean())
    for name, pct in PERCENTILES:
        out[name] = float(array[rank_index(n, pct)])
    out["max"] = float(array[-1])
    return out


@dataclass(frozen=True)
class ValueRanks:
    """A column sorted once: ``sorted_values`` and each row's ``rank`` in it (-1 for NaN)."""

    sorted_values: np.ndarray
    rank: np.ndarray

    def subset(self, mask: np.ndarray | None) -> np.ndarray:
        """The values of the rows ``mask`` selects (all when None), sorted, NaN left out: one linear pass over the
        ranks, not a sort."""
        if mask is None:
            return self.sorted_values
        chosen = np.zeros(self.sorted_values.size, dtype=bool)
        rank = self.rank[mask]
        chosen[rank[rank >= 0]] = True
        return self.sorted_values[chosen]


def value_ranks(values: np.ndarray) -> ValueRanks:
    """Sort ``values`` once; ``grouped_percentiles`` reuses the ranks for every grouping (1 s, 10 s, 1 min …)."""
    order = np.argsort(values)  # ties may land in any order: equal values give equal percentiles
    finite = int((~np.isnan(values)).sum())  # NaNs sort last
    rank = np.full(values.size, -1, dtype="int64")
    rank[order[:finite]] = np.arange(finite, dtype="int64")
    return ValueRanks(values[order[:finite]], rank)


def matching_ranks(values: np.ndarray, known: Iterable[ValueRanks]) -> ValueRanks:
    """The first of ``known`` that is ``value_ranks(values)`` (checked exactly, in one linear pass), else a new
    sort: a column derived from one already sorted (a latency where every started record has its corrected
    latency) reuses that sort."""
    valid = ~np.isnan(values)
    for ranks in known:
        if ranks.rank.size != values.size or not np.array_equal(ranks.rank >= 0, valid):
            continue
        if np.array_equal(ranks.sorted_values[ranks.rank[valid]], values[valid]):
            return ranks
    return value_ranks(values)


# Fewer distinct keys than this (their span) take the linear path of ``grouped_percentiles``.
SMALL_KEY_SPAN = 2**16


def grouped_percentiles(
    keys: np.ndarray, values: np.ndarray, pcts: Sequence[float], *, ranks: ValueRanks | None = None
) -> tuple[np.ndarray, ...]:
    """Nearest-rank percentiles of ``values`` per distinct integer key: returns (unique_keys, counts, *per pct).

    Each row becomes one integer ``(key - min) · n + value rank``; a single plain sort of those integers puts rows
    in key order and, within a key, in value order, so no per-group loop or lexsort is needed.
    """
    ranks = ranks or value_ranks(values)
    keep = ranks.rank >= 0
    n = max(1, ranks.sorted_values.size)
    every_row = bool(keep.all())  # no NaN: no copies through the mask
    keys = (keys if every_row else keys[keep]).astype("int64", copy=False)
    rank = ranks.rank if every_row else ranks.rank[keep]
    if keys.size == 0:
        empty = np.array([], dtype="int64")
        return (empty, empty, *[np.array([], dtype="float64") for _ in pcts])
    base = int(keys.min())
    if int(keys.max()) - base < SMALL_KEY_SPAN:
        # Keys listed in value order, then a stable sort by key (numpy's radix sort for 16-bit integers, linear):
        # the same order as the sort below, at a fraction of its cost (a run's 1 s windows number in thousands).
        by_rank = np.empty(keys.size, dtype="uint16")
        by_rank[rank] = keys - base
        chosen = np.argsort(by_rank, kind="stable")
        # Each key's rows are a run of ``chosen``: their starts by counting, and only the values asked for gathered.
        every = np.bincount(by_rank)
        present = np.flatnonzero(every)
        counts = every[present]
        starts = np.cumsum(counts) - counts
        results = [present.astype("int64") + base, counts]
        for pct in pcts:
            results.append(ranks.sorted_values[chosen[starts + _offsets(pct, counts)]])
        return tuple(results)
    combined = np.sort((keys - base) * n + rank)
    group = combined // n
    ordered = ranks.sorted_values[combined % n]
    starts = np.flatnonzero(np.concatenate(([True], group[1:] != group[:-1])))
    counts = np.diff(np.append(starts, group.size))
    results = [group[starts] + base, counts]
    for pct in pcts:
        results.append(ordered[starts + _offsets(pct, counts)])
    return tuple(results)


def _offsets(pct: float, counts: np.ndarray) -> np.ndarray:
    """The nearest-rank ``pct`` percentile's 0-based position in each group of ``counts`` values."""
    offsets: np.ndarray = np.clip(np.ceil(pct / 100.0 * counts - 1e-9).astype("int64") - 1, 0, counts - 1)
    return offsets


def wilson_interval(successes: int, n: int, z: float = Z95) -> tuple[float, float] | None:
    """Wilson score interval for a proportion (better than the normal one near 0 and 1)."""
    if n <= 0:
        return None
    p = successes / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    # Exact edges when nothing (or everything) was seen, instead of a float-rounding 1e-18.
    lo = 0.0 if successes == 0 else max(0.0, centre - half)
    hi = 1.0 if successes == n else min(1.0, centre + half)
    return lo, hi


def rule_of_three(n: int) -> float | None:
    """95% upper bound on a rate when 0 events were seen in ``n`` trials (exact: 1 − 0.05^(1/n) ≈ 3/n)."""
    if n <= 0:
        return None
    return float(1.0 - 0.05 ** (1.0 / n))


def quantile_interval(sorted_values: np.ndarray, pct: float, level: float = 0.95) -> tuple[float, float] | None:
    """Distribution-free CI for a percentile from order statistics (binomial ranks); None when n is too small."""
    n = int(sorted_values.size)
    if n < 2:
        return None
    q = pct / 100.0
    alpha = 1 - level
    lo = int(sps.binom.ppf(alpha / 2, n, q))
    hi = int(sps.binom.ppf(1 - alpha / 2, n, q)) + 1
    if lo < 1 or hi > n:
        # Too few values to bound this percentile on that side: report the open side as the sample's edge.
        lo, hi = max(lo, 1), min(hi, n)
        if lo == 1 and hi == n:
            return None
    return float(sorted_values[lo - 1]), float(sorted_values[hi - 1])


def theil_sen(x: np.ndarray, y: np.ndarray) -> tuple[float, float, float] | None:
    """Theil–Sen slope with its 95% interval: (slope, low, high); None with fewer than 3 points."""
    mask = ~(np.isnan(x) | np.isnan(y))
    x, y = x[mask], y[mask]
    if x.size < 3 or np.ptp(x) == 0:
        return None
    result = sps.theilslopes(y, x, alpha=0.95)
    return float(result.slope), float(result.low_slope), float(result.high_slope)


def finite_or_none(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return float(value)
