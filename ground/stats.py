"""The one percentile definition every floor uses: **nearest-rank** over the raw values.

The p-th percentile is the value at rank ⌈p/100 · n⌉ of the sorted sample (rank 1 for p = 0): always a value that
was actually observed, with no interpolation convention, and what a reader can check by sorting a column by hand.
``analysis.stats`` applies :func:`rank_index` to numpy arrays; :func:`percentile` here is the plain-Python form
for small samples (the harness's health figures, the reference vendor's timing check).
"""

from __future__ import annotations

import math
from collections.abc import Iterable


def rank_index(n: int, pct: float) -> int:
    """0-based index of the nearest-rank ``pct`` percentile (0..100) in a sorted sample of ``n`` values."""
    return min(n - 1, max(0, math.ceil(pct / 100.0 * n - 1e-9) - 1))


def percentile(values: Iterable[float], pct: float) -> float | None:
    """The nearest-rank ``pct`` percentile (0..100) of ``values``, NaNs left out; None when nothing is left."""
    ordered = sorted(value for value in values if not math.isnan(value))
    if not ordered:
        return None
    return ordered[rank_index(len(ordered), pct)]
