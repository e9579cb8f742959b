"""Head-to-head sentences: for each scenario, each pair of vendors, the p95 difference with its interval.

When the analysis's comparison (``scrmbench compare``) is available its sentences are used; this is the plain
fallback for a scorecard built from single runs: a bootstrap over the requests of each run (seeded, so the
page is reproducible), "no practical difference" when the interval stays inside the margin.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from analysis.compare import RunInput, compare
from analysis.scorecard import series
from analysis.scorecard.inputs import RunBundle

MARGIN = 0.10  # differences within ±10% of the faster vendor's p95 are "no practical difference"
RESAMPLES = 400
MAX_SAMPLE = 20_000  # resampling a few thousand draws gives the same interval at a fraction of the cost


def _felt_latency(bundle: RunBundle) -> np.ndarray:
    values = series.felt_latency(bundle.requests).to_numpy(dtype="float64", na_value=np.nan)
    return values[~np.isnan(values)]


def p95_difference(a: np.ndarray, b: np.ndarray, *, seed: int = 0) -> tuple[float, float, float]:
    """p95(a) − p95(b) and its 95% percentile-bootstrap interval."""
    rng = np.random.default_rng(seed)
    a = rng.choice(a, MAX_SAMPLE, replace=False) if a.size > MAX_SAMPLE else a
    b = rng.choice(b, MAX_SAMPLE, replace=False) if b.size > MAX_SAMPLE else b
    diffs = np.empty(RESAMPLES)
    for i in range(RESAMPLES):
        diffs[i] = np.quantile(rng.choice(a, a.size), 0.95) - np.quantile(rng.choice(b, b.size), 0.95)
    lo, hi = np.quantile(diffs, [0.025, 0.975])
    return float(np.quantile(a, 0.95) - np.quantile(b, 0.95)), float(lo), float(hi)


def sentence(scenario: str, name_a: str, a: np.ndarray, name_b: str, b: np.ndarray) -> str:
    diff, lo, hi = p95_difference(a, b)
    faster_p95 = min(float(np.quantile(a, 0.95)), float(np.quantile(b, 0.95)))
    margin = MARGIN * faster_p95
    interval = f"95% CI {lo:+,.0f} to {hi:+,.0f} ms"
    if -margin <= lo and hi <= margin:
        return f"{scenario}: {name_a} vs {name_b}: p95 latency, no practical difference ({interval}, margin ±10%)."
    # Say it from the faster vendor's side so the interval reads as "how much lower", both ends positive.
    lower, higher = (name_a, name_b) if diff < 0 else (name_b, name_a)
    low, high = sorted((abs(lo), abs(hi))) if (lo < 0) == (hi < 0) else (0.0, max(abs(lo), abs(hi)))
    verdict = "meaningful" if (lo > margin or hi < -margin) else "not clearly beyond the ±10% margin"
    return (
        f"{scenario}: {lower} answers faster than {higher}: p95 {abs(diff):,.0f} ms lower "
        f"(95% CI {low:,.0f}–{high:,.0f} ms), {verdict}."
    )


METRIC_WORDS = {
    "request_p95_ms": "API latency p95",
    "request_p99_ms": "API latency p99",
    "delivery_p95_ms": "delivery latency p95",
    "delivery_p99_ms": "delivery latency p99",
    "reply_p95_ms": "reply latency p95",
    "sla_score": "SLA score",
    "error_rate": "error rate",
    "loss_rate": "loss rate",
    "sustained_recovery_s": "sustained recovery",
}
SEPARATED = ("meaningful", "no practical difference")


def _words(pair: dict[str, Any]) -> str:
    metric = str(pair["metric"])
    return str(pair["sentence"]).replace(metric, METRIC_WORDS.get(metric, metric.replace("_", " ")), 1)


def run_level(bundles: list[RunBundle]) -> list[str]:
    """The analysis's comparison (runs as the unit, Holm-corrected): what it could separate, per scenario, and
    one line naming what it could not (a manager needs the decision, not every inconclusive pair)."""
    inputs = [RunInput(b.summary, _felt_latency(b)) for b in bundles if b.summary.get("run")]
    if len({b.vendor for b in bundles}) < 2 or not inputs:
        return []
    lines = []
    for group in compare(inputs)["groups"]:
        scenario = group["scenario"]
        pairs = [p for p in group["pairs"] if p.get("sentence")]
        lines += [f"{scenario}: {_words(p)}." for p in pairs if p.get("verdict") in SEPARATED]
        open_ = sorted({METRIC_WORDS.get(p["metric"], p["metric"]) for p in pairs if p.get("verdict") not in SEPARATED})
        if open_:
            lines.append(
                f"{scenario}: not separable with these runs: {', '.join(open_)}; more runs per vendor would tell."
            )
    return lines


def within_runs(bundles: list[RunBundle]) -> list[str]:
    by_scenario: dict[str, dict[str, np.ndarray]] = {}
    for bundle in bundles:
        values = _felt_latency(bundle)
        if values.size:
            pool = by_scenario.setdefault(bundle.scenario, {})
            pool[bundle.vendor] = np.concatenate([pool[bundle.vendor], values]) if bundle.vendor in pool else values
    lines = []
    for scenario, vendors in by_scenario.items():
        for (name_a, a), (name_b, b) in itertools.combinations(vendors.items(), 2):
            lines.append(sentence(scenario, name_a, a, name_b, b))
    return lines


def head_to_head(bundles: list[RunBundle]) -> list[str]:
    """Run-level comparison first; then, per scenario, the p95 gap within the runs (requests resampled)."""
    lines = run_level(bundles)
    inside = within_runs(bundles)
    if inside:
        lines.append("Within the runs (requests resampled; one run per vendor cannot speak for other days):")
        lines += inside
    return lines
