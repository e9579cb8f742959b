"""Apdex: (satisfied + tolerating / 2) / total for a target T (satisfied ≤ T < tolerating ≤ 4T < frustrated).

Failed requests and messages that never arrived count as frustrated (the updown.io convention): a customer
who got no answer was not satisfied.
"""

from __future__ import annotations

from typing import Any

import numpy as np

RATINGS: tuple[tuple[float, str], ...] = (
    (0.94, "Excellent"),
    (0.85, "Good"),
    (0.70, "Fair"),
    (0.50, "Poor"),
    (0.0, "Unacceptable"),
)


def rating(score: float) -> str:
    for floor, name in RATINGS:
        if score >= floor:
            return name
    return "Unacceptable"


def apdex(latency_ms: np.ndarray, t_ms: float, *, failed: int = 0) -> dict[str, Any]:
    """Apdex of the finite latencies in ``latency_ms`` plus ``failed`` frustrated samples (NaN = failed too)."""
    values = np.asarray(latency_ms, dtype="float64")
    failed += int(np.isnan(values).sum())
    values = values[~np.isnan(values)]
    satisfied = int((values <= t_ms).sum())
    tolerating = int(((values > t_ms) & (values <= 4 * t_ms)).sum())
    frustrated = int((values > 4 * t_ms).sum()) + failed
    total = satisfied + tolerating + frustrated
    score = (satisfied + tolerating / 2) / total if total else None
    return {
        "t_ms": t_ms,
        "score": score,
        "rating": rating(score) if score is not None else None,
        "satisfied": satisfied,
        "tolerating": tolerating,
        "frustrated": frustrated,
        "total": total,
    }
