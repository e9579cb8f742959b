"""When the harness measured itself: each second of the load window marked harness-bound, and why (issue 15).

On one machine the mock, the candidate and the load generator share the cores, and a saturated generator or mock
produces exactly the figures a slow vendor would (design.md "Knowing when the harness measures itself"). Every run
records the harness's own health once a second (``health.parquet``, ``ground.records.HEALTH_SCHEMA``, long format
``at, source, role, pid, metric, value``; ``analysis.load`` reads it). This module is pure: frames in, figures out.

Second k of the load window is ``[t0 + k, t0 + k + 1)``, ``t0`` and the end being the run's request span; a sample
belongs to the second it was taken in. A second is **harness-bound** when at least one rule fires in it (the
thresholds are ``HealthThresholds``, defaults the module constants):

    rule                      fires when, in that second                                        bottleneck
    generator_loop_lag        a load process (role harness) has loop_lag_ms_p95 > 20 ms         the load generator
    generator_start_lateness  open model only: start lateness p95 > 50 ms, from the load        the load generator
                              processes' start_lateness_ms_p95 or the request records'
                              started_at − scheduled_at (a slot with no free user is dropped,
                              never started late, so this is the generator's own delay)
    harness_cpu               a role=harness process at cpu_pct ≥ 90 (% of one core)            the load generator
    mock_cpu                  a role=mock process at cpu_pct ≥ 90                               the mock
    mock_loop_lag             the mock's loop_lag_ms_p95 > 20 ms                                 the mock
    machine_cpu               the machine's cpu_busy_pct ≥ 95 with run_queue > cores             the machine

Each bound second keeps the rules that fired (``HarnessHealth.rules``). The run is **bound** when more than 5%
(``bound_share``) of its seconds are; the bottleneck named in the reason is the one with the most bound seconds
(generator, then mock, then machine on a tie). A run with no health sample in its load window is "not measured":
never harness-bound. ``analysis.sla`` sets aside (inconclusive) every figure but the counted facts of a bound run,
and a failing figure of any run when most of its failing samples fall in harness-bound seconds
(``failing_in_bound_share``).

The candidate's processes (role candidate) are summed per second into the vendor's CPU (% of one core, so a vendor
busy on two cores shows 200): the ``vendor_cpu_pct`` metric and the ``when_vendor_cpu_at_least`` scope.

``harness_bound(summary)`` answers "were this run's figures set aside because of the harness?" from a
``summary.json`` dict alone, for the runner and the bake-off.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from analysis.columns import text_is
from analysis.stats import grouped_percentiles, rank_index
from analysis.units import format_value

GENERATOR_LOOP_LAG_P95_MS = 20.0  # a greenlet asked to sleep 10 ms overslept by more than this (p95 of a second)
START_LATENESS_P95_MS = 50.0  # open model: slots handed to a free user started this late (p95 of a second)
PROCESS_CPU_PCT = 90.0  # a harness or mock process at this share of one core (Locust warns at 90%)
MACHINE_CPU_BUSY_PCT = 95.0  # all cores this busy, and more runnable processes than cores
MOCK_LOOP_LAG_P95_MS = 20.0
BOUND_SHARE = 0.05  # more than this share of the load window's seconds bound: the run is harness-bound
FAILING_IN_BOUND_SHARE = 0.5  # more than this share of a figure's failing samples in bound seconds: set aside

# rule → the part of the harness it blames, in the order a tie is broken
RULES: dict[str, str] = {
    "generator_loop_lag": "generator",
    "generator_start_lateness": "generator",
    "harness_cpu": "generator",
    "mock_cpu": "mock",
    "mock_loop_lag": "mock",
    "machine_cpu": "machine",
}
BOTTLENECKS = ("generator", "mock", "machine")
_LABELS = {"generator": "the load generator", "mock": "the mock", "machine": "the machine"}
_ADVICE = {
    "generator": "run fewer trials at once, add `--workers`, or use a bigger machine (README: Distributed runs)",
    "mock": "run fewer trials at once, shard the mock (`--workers`, README: Mock WhatsApp API), or use a bigger "
    "machine",
    "machine": "run fewer trials at once, or move the load generator to other machines or use a bigger machine "
    "(README: Distributed runs)",
}


@dataclass(frozen=True)
class HealthThresholds:
    """The harness-bound rules' thresholds (module constants by default; ``AnalysisOptions.harness`` overrides)."""

    generator_loop_lag_p95_ms: float = GENERATOR_LOOP_LAG_P95_MS
    start_lateness_p95_ms: float = START_LATENESS_P95_MS
    process_cpu_pct: float = PROCESS_CPU_PCT
    machine_cpu_busy_pct: float = MACHINE_CPU_BUSY_PCT
    mock_loop_lag_p95_ms: float = MOCK_LOOP_LAG_P95_MS
    bound_share: float = BOUND_SHARE
    failing_in_bound_share: float = FAILING_IN_BOUND_SHARE

    def as_dict(self) -> dict[str, float]:
        return {key: float(value) for key, value in asdict(self).items()}


def _nanmax(values: np.ndarray) -> float | None:
    finite = values[np.isfinite(values)]
    return float(finite.max()) if finite.size else None


@dataclass(frozen=True)
class HarnessHealth:
    """One run's health over its load window; per-second arrays are ``seconds`` long (NaN: no sample)."""

    measured: bool
    t0: float
    seconds: int
    thresholds: HealthThresholds
    rules: dict[str, np.ndarray] = field(default_factory=dict)  # rule → fired in each second
    series: dict[str, np.ndarray] = field(default_factory=dict)  # per-second worst value of each watched figure
    vendor_cpu: np.ndarray = field(default_factory=lambda: np.zeros(0))  # candidate cpu_pct summed per second
    cpu_peaks: dict[str, float] = field(default_factory=dict)  # source → max cpu_pct in the load window

    @property
    def bound_mask(self) -> np.ndarray:
        mask = np.zeros(self.seconds, dtype=bool)
        for fired in self.rules.values():
            mask |= fired
        return mask

    @property
    def bound_seconds(self) -> int:
        return int(self.bound_mask.sum())

    @property
    def share(self) -> float | None:
        if not self.measured:
            return None
        return self.bound_seconds / self.seconds if self.seconds else 0.0

    @property
    def bound(self) -> bool:
        share = self.share
        return share is not None and share > self.thresholds.bound_share

    def rule_seconds(self) -> dict[str, int]:
        return {rule: int(fired.sum()) for rule, fired in self.rules.items() if fired.any()}

    def component_mask(self, component: str) -> np.ndarray:
        mask = np.zeros(self.seconds, dtype=bool)
        for rule, fired in self.rules.items():
            if RULES[rule] == component:
                mask |= fired
        return mask

    @property
    def bottleneck(self) -> str | None:
        counts = {c: int(self.component_mask(c).sum()) for c in BOTTLENECKS}
        best = max(BOTTLENECKS, key=lambda c: (counts[c], -BOTTLENECKS.index(c)))
        return best if counts[best] else None

    def second_of(self, times: np.ndarray) -> np.ndarray:
        """The load-window second of each time; -1 outside the window (or NaN)."""
        times = np.asarray(times, dtype="float64")
        offset = np.floor(times - self.t0)
        inside = np.isfinite(offset) & (offset >= 0) & (offset < self.seconds)
        return np.where(inside, np.nan_to_num(offset, nan=-1.0), -1.0).astype("int64")

    def bound_at(self, times: np.ndarray) -> np.ndarray:
        """Whether each time falls in a harness-bound second."""
        second = self.second_of(times)
        out = np.zeros(second.size, dtype=bool)
        inside = second >= 0
        if inside.any():
            out[inside] = self.bound_mask[second[inside]]
        return out

    def vendor_cpu_at(self, times: np.ndarray) -> np.ndarray:
        """The vendor's summed CPU in the second of each time (NaN when not sampled or outside the window)."""
        second = self.second_of(times)
        out = np.full(second.size, np.nan)
        inside = (second >= 0) & (second < self.vendor_cpu.size)
        if inside.any():
            out[inside] = self.vendor_cpu[second[inside]]
        return out

    def detail(self, component: str) -> str:
        """'CPU 100%, loop lag p95 180 ms': the worst figures of ``component`` in its own bound seconds."""
        mask = self.component_mask(component)
        if not mask.any():
            mask = np.ones(self.seconds, dtype=bool)

        def worst(name: str) -> float | None:
            values = self.series.get(name)
            return _nanmax(values[mask]) if values is not None and values.size else None

        parts: list[str] = []
        if component == "machine":
            busy, queue, cores = worst("machine_cpu_busy_pct"), worst("machine_run_queue"), worst("machine_cores")
            if busy is not None:
                parts.append(f"CPU {busy:.0f}% busy" + (f" on {cores:.0f} cores" if cores is not None else ""))
            if queue is not None:
                parts.append(f"run queue {queue:.0f}")
            return ", ".join(parts)
        prefix = "generator" if component == "generator" else "mock"
        cpu = worst(f"{prefix}_cpu_pct")
        lag = worst(f"{prefix}_loop_lag_ms_p95")
        if cpu is not None:
            parts.append(f"CPU {cpu:.0f}%")
        if lag is not None:
            parts.append(f"loop lag p95 {format_value(lag, 'ms')}")
        late = worst("start_lateness_ms_p95") if component == "generator" else None
        if late is not None and late > self.thresholds.start_lateness_p95_ms:
            parts.append(f"start lateness p95 {format_value(late, 'ms')}")
        return ", ".join(parts)

    def _sentence(self, component: str, what: str, *, advice: bool = True) -> str:
        detail = self.detail(component)
        fix = f"; {_ADVICE[component]}" if advice else ""
        return f"harness-bound: {what}{f' ({detail})' if detail else ''}{fix}"

    def bound_reason(self, *, advice: bool = True) -> str | None:
        """The plain-words reason of a bound run, naming the bottleneck (and the fix); None when not bound."""
        component = self.bottleneck
        if not self.bound or component is None:
            return None
        share = format_value(self.share, "ratio")
        return self._sentence(component, f"{_LABELS[component]} was saturated for {share} of the run", advice=advice)

    @property
    def reason(self) -> str | None:
        return self.bound_reason()

    def failing_samples_reason(self, share_in_bound: float, *, advice: bool = True) -> str:
        """Why a figure whose failing samples cluster in bound seconds is set aside."""
        component = self.bottleneck or "generator"
        seconds = int(self.component_mask(component).sum())
        return self._sentence(
            component,
            f"{format_value(share_in_bound, 'ratio')} of the samples missing the target fall in the {seconds} s "
            f"{_LABELS[component]} was saturated",
            advice=advice,
        )

    def vendor_cpu_summary(self) -> dict[str, Any] | None:
        values = self.vendor_cpu[np.isfinite(self.vendor_cpu)] if self.vendor_cpu.size else np.zeros(0)
        if not values.size:
            return None
        ordered = np.sort(values)
        n = ordered.size
        return {
            "seconds": int(n),
            "p50": float(ordered[rank_index(n, 50.0)]),
            "p95": float(ordered[rank_index(n, 95.0)]),
            "max": float(ordered[-1]),
        }

    def section(self) -> dict[str, Any]:
        """The ``harness`` section of ``summary.json`` (docs/summary-schema.md)."""
        worst = {name: _nanmax(self.series[key]) if key in self.series else None for name, key in _WORST.items()}
        return {
            "measured": self.measured,
            "bound": self.bound,
            "saturated_share": self.share,
            "bound_seconds": self.bound_seconds if self.measured else None,
            "seconds": self.seconds if self.measured else None,
            "bottleneck": self.bottleneck if self.measured else None,
            "worst_loop_lag_ms": {"generator": worst["generator"], "mock": worst["mock"]},
            "worst_start_lateness_ms": worst["start_lateness"],
            "cpu_peaks": dict(sorted(self.cpu_peaks.items())),
            "machine_cpu_peak_pct": worst["machine"],
            "vendor_cpu_pct": self.vendor_cpu_summary() if self.measured else None,
            "rules": self.rule_seconds(),
            "reason": self.reason,
            "thresholds": self.thresholds.as_dict(),
        }


_WORST = {
    "generator": "generator_loop_lag_ms_p95",
    "mock": "mock_loop_lag_ms_p95",
    "start_lateness": "start_lateness_ms_p95",
    "machine": "machine_cpu_busy_pct",
}


def not_measured(t0: float, thresholds: HealthThresholds | None = None) -> HarnessHealth:
    return HarnessHealth(False, t0, 0, thresholds or HealthThresholds())


def _per_second(frame: pd.DataFrame, seconds: np.ndarray, n: int, mask: np.ndarray) -> np.ndarray:
    """Max of the selected samples per second (NaN where none)."""
    out = np.full(n, np.nan)
    if mask.any():
        np.fmax.at(out, seconds[mask], frame["value"].to_numpy(dtype="float64", na_value=np.nan)[mask])
    return out


def _request_lateness(requests: pd.DataFrame, t0: float, n: int) -> np.ndarray:
    """Per-second p95 of started_at − scheduled_at (ms) over the started slots, by their scheduled second."""
    out = np.full(n, np.nan)
    if requests.empty or "scheduled_at" not in requests or "started_at" not in requests:
        return out
    scheduled = requests["scheduled_at"].to_numpy(dtype="float64", na_value=np.nan)
    started = requests["started_at"].to_numpy(dtype="float64", na_value=np.nan)
    late = (started - scheduled) * 1000.0
    second = np.floor(scheduled - t0)
    keep = np.isfinite(late) & np.isfinite(second) & (second >= 0) & (second < n)
    if not keep.any():
        return out
    keys, _counts, p95 = grouped_percentiles(second[keep].astype("int64"), late[keep], (95.0,))
    out[keys] = p95
    return out


def _vendor_cpu(frame: pd.DataFrame, seconds: np.ndarray, n: int, mask: np.ndarray) -> np.ndarray:
    """Candidate processes' cpu_pct: each process's mean within a second, summed over processes."""
    out = np.full(n, np.nan)
    if not mask.any():
        return out
    rows = pd.DataFrame(
        {
            "second": seconds[mask],
            "process": frame["source"].astype("str").to_numpy()[mask]
            + ":"
            + frame["pid"].astype("string").fillna("").to_numpy(dtype=object)[mask],
            "value": frame["value"].to_numpy(dtype="float64", na_value=np.nan)[mask],
        }
    )
    per_process = rows.groupby(["second", "process"], sort=False)["value"].mean()
    total = per_process.groupby(level="second").sum(min_count=1)
    out[total.index.to_numpy(dtype="int64")] = total.to_numpy(dtype="float64")
    return out


def assess(
    health: pd.DataFrame,
    *,
    t0: float,
    end: float,
    requests: pd.DataFrame | None = None,
    open_model: bool = True,
    thresholds: HealthThresholds | None = None,
) -> HarnessHealth:
    """Mark each second of the load window ``[t0, end)`` harness-bound or not (see the module docstring).

    ``health`` has ``HEALTH_SCHEMA``'s columns; ``requests`` (optional) adds the records' own start lateness in
    the open model. No health sample inside the window: not measured.
    """
    thresholds = thresholds or HealthThresholds()
    n = max(0, math.ceil(end - t0)) if math.isfinite(end - t0) else 0
    if health is None or health.empty or n == 0:
        return not_measured(t0, thresholds)
    at = health["at"].to_numpy(dtype="float64", na_value=np.nan)
    offset = np.floor(at - t0)
    inside = np.isfinite(offset) & (offset >= 0) & (offset < n)
    if not inside.any():
        return not_measured(t0, thresholds)
    seconds = np.where(inside, np.nan_to_num(offset, nan=0.0), 0.0).astype("int64")
    metric, role = health["metric"], health["role"]

    def pick(name: str, *roles: str) -> np.ndarray:
        mask: np.ndarray = inside & text_is(metric, name)
        if roles:
            mask &= np.logical_or.reduce([text_is(role, r) for r in roles])
        return mask

    def second_max(name: str, *roles: str) -> np.ndarray:
        return _per_second(health, seconds, n, pick(name, *roles))

    series = {
        "generator_loop_lag_ms_p95": second_max("loop_lag_ms_p95", "harness"),
        "generator_cpu_pct": second_max("cpu_pct", "harness"),
        "mock_cpu_pct": second_max("cpu_pct", "mock"),
        "mock_loop_lag_ms_p95": second_max("loop_lag_ms_p95", "mock"),
        "machine_cpu_busy_pct": second_max("cpu_busy_pct", "machine"),
        "machine_run_queue": second_max("run_queue", "machine"),
        "machine_cores": second_max("cores", "machine"),
    }
    if open_model:
        late = second_max("start_lateness_ms_p95", "harness")
        if requests is not None:
            late = np.fmax(late, _request_lateness(requests, t0, n))
        series["start_lateness_ms_p95"] = late
    cores = series["machine_cores"]
    known_cores = _nanmax(cores)
    cores = np.where(np.isfinite(cores), cores, known_cores if known_cores is not None else np.nan)
    with np.errstate(invalid="ignore"):
        rules = {
            "generator_loop_lag": series["generator_loop_lag_ms_p95"] > thresholds.generator_loop_lag_p95_ms,
            "generator_start_lateness": series.get("start_lateness_ms_p95", np.full(n, np.nan))
            > thresholds.start_lateness_p95_ms,
            "harness_cpu": series["generator_cpu_pct"] >= thresholds.process_cpu_pct,
            "mock_cpu": series["mock_cpu_pct"] >= thresholds.process_cpu_pct,
            "mock_loop_lag": series["mock_loop_lag_ms_p95"] > thresholds.mock_loop_lag_p95_ms,
            "machine_cpu": (series["machine_cpu_busy_pct"] >= thresholds.machine_cpu_busy_pct)
            & (series["machine_run_queue"] > cores),
        }
    cpu_mask = pick("cpu_pct")
    peaks: dict[str, float] = {}
    if cpu_mask.any():
        cpu = pd.DataFrame(
            {
                "source": health["source"].astype("str").to_numpy()[cpu_mask],
                "value": health["value"].to_numpy(dtype="float64", na_value=np.nan)[cpu_mask],
            }
        )
        peaks = {str(k): float(v) for k, v in cpu.groupby("source")["value"].max().dropna().items()}
    return HarnessHealth(
        measured=True,
        t0=t0,
        seconds=n,
        thresholds=thresholds,
        rules=rules,
        series=series,
        vendor_cpu=_vendor_cpu(health, seconds, n, pick("cpu_pct", "candidate")),
        cpu_peaks=peaks,
    )


def harness_bound(summary: dict[str, Any]) -> str | None:
    """Were this run's figures set aside because of the harness? The reason in plain words, else None.

    From a ``summary.json`` dict alone: the ``harness`` section's reason when the run was bound, else the reason
    of the first SLA criterion set aside because its failing samples fell in harness-bound seconds. A summary
    without a ``harness`` section (older, or no health data) is never harness-bound.
    """
    section = summary.get("harness") or {}
    if section.get("bound") and section.get("reason"):
        return str(section["reason"])
    for row in (summary.get("sla") or {}).get("criteria") or []:
        if row.get("set_aside") == "harness_bound" and row.get("set_aside_reason"):
            return str(row["set_aside_reason"])
    return None
