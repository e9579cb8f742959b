"""Capacity from a stepped ramp: the three numbers buyers ask for (market-figures.md #4).

Steps are consecutive slices of ``step_s`` seconds from the run's start. For each step: offered rate (every
record, dropped slots included), goodput (ok per second), p95 latency and error rate. Then:

    practical_rps   highest offered rate of a step meeting the latency and error targets
    ideal_rps       the highest goodput any step reached before the crash point
    crash_rps       offered rate of the first step where errors pass 5% or goodput stops rising
                    (less than 2% above the previous step's while the offered rate rose); None if none did
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from analysis.columns import text_is
from analysis.metrics import event_time
from analysis.stats import percentile

CRASH_ERROR_RATE = 0.05
FLAT_GAIN = 0.02


def step_table(requests: pd.DataFrame, t0: float, step_s: float) -> list[dict[str, Any]]:
    times = event_time(requests)
    steps = np.floor((times - t0) / step_s).astype("int64")
    dropped = text_is(requests["outcome"], "dropped")
    ok = requests["ok"].fillna(False).to_numpy(dtype=bool) & ~dropped
    latency = requests["latency_ms"].to_numpy(dtype="float64", na_value=np.nan)
    rows = []
    for step in np.unique(steps).tolist():
        mask = steps == step
        started = int((mask & ~dropped).sum())
        rows.append(
            {
                "step": int(step),
                "offered_rps": float(mask.sum()) / step_s,
                "goodput_rps": float(ok[mask].sum()) / step_s,
                "p95_ms": percentile(latency[mask & ~dropped], 95.0),
                "error_rate": float(started - int(ok[mask].sum())) / started if started else 1.0,
            }
        )
    return rows


def capacity(
    requests: pd.DataFrame, t0: float, step_s: float, *, p95_target_ms: float, error_target: float
) -> dict[str, Any]:
    rows = step_table(requests, t0, step_s) if not requests.empty else []
    crash_index = None
    for i, row in enumerate(rows):
        row["meets"] = row["error_rate"] <= error_target and (row["p95_ms"] or 0.0) <= p95_target_ms
        previous = rows[i - 1] if i else None
        flat = (
            previous is not None
            and row["offered_rps"] > previous["offered_rps"]
            and row["goodput_rps"] < previous["goodput_rps"] * (1 + FLAT_GAIN)
        )
        if crash_index is None and (row["error_rate"] > CRASH_ERROR_RATE or flat):
            crash_index = i
    before = rows[:crash_index] if crash_index is not None else rows
    meeting = [row["offered_rps"] for row in before if row["meets"]]
    return {
        "step_s": step_s,
        "targets": {"p95_ms": p95_target_ms, "error_rate": error_target},
        "steps": rows,
        "practical_rps": max(meeting) if meeting else None,
        "ideal_rps": max((row["goodput_rps"] for row in before), default=None),
        "crash_rps": rows[crash_index]["offered_rps"] if crash_index is not None else None,
    }
