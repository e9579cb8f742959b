"""Head-to-head sentences: for each scenario, each pair of vendors, the p95 difference with its interval.

When the analysis's comparison (``scrmbench compare``) is available its sentences are used; this is the plain
fallback for a scorecard built from single runs: a bootstrap over the requests of each run (seeded, so the
page is reproducible), "no practical difference" when the interval stays inside the margin.

What is compared is the latency that matters for the scenario: in a scenario with customer messages (peak)
the time until the vendor's reply, not the time the harness's POST took; elsewhere the latency of
*successful* requests only, since a vendor that is down refuses connections in a millisecond and would
otherwise "answer faster". Lost acknowledged messages are never a matter of margins: any loss against none
is stated, with the counts and the 95% bound on the loss rate of the side that lost none.
"""

from __future__ import annotations

import itertools
from typing import Any

import numpy as np

from analysis.accounting import reply_table
from analysis.compare import CompareOptions, RunInput, compare
from analysis.scorecard import series
from analysis.scorecard.inputs import RunBundle
from analysis.stats import rule_of_three

MARGIN = 0.10  # differences within ±10% of the faster vendor's p95 (at least 50 ms) are "no practical difference"
MARGIN_MS = CompareOptions().latency_margin_ms  # the run-level comparison's floor: a few ms are nobody's concern
RESAMPLES = 400
MAX_SAMPLE = 20_000  # resampling a few thousand draws gives the same interval at a fraction of the cost


def _felt_latency(bundle: RunBundle) -> np.ndarray:
    values = series.felt_latency(bundle.requests).to_numpy(dtype="float64", na_value=np.nan)
    measured: np.ndarray = values[~np.isnan(values)]
    return measured


def _p95(values: np.ndarray) -> float:
    """Nearest-rank p95, the definition summary.json uses (analysis/stats.py)."""
    return float(np.quantile(values, 0.95, method="inverted_cdf"))


def p95_difference(a: np.ndarray, b: np.ndarray, *, seed: int = 0) -> tuple[float, float, float]:
    """p95(a) − p95(b) and its 95% percentile-bootstrap interval."""
    rng = np.random.default_rng(seed)
    a = rng.choice(a, MAX_SAMPLE, replace=False) if a.size > MAX_SAMPLE else a
    b = rng.choice(b, MAX_SAMPLE, replace=False) if b.size > MAX_SAMPLE else b
    diffs = np.empty(RESAMPLES)
    for i in range(RESAMPLES):
        diffs[i] = _p95(rng.choice(a, a.size)) - _p95(rng.choice(b, b.size))
    lo, hi = np.quantile(diffs, [0.025, 0.975])
    return _p95(a) - _p95(b), float(lo), float(hi)


# What is compared, per kind: (what the faster one does, the figure's name, the caveat in brackets).
KINDS = {
    "reply": ("replies to customers faster than", "reply latency p95", "time from the customer's message to the reply"),
    "request": ("answers faster than", "request latency p95", "successful requests only"),
}


def sentence(scenario: str, name_a: str, a: np.ndarray, name_b: str, b: np.ndarray, *, kind: str = "request") -> str:
    diff, lo, hi = p95_difference(a, b)
    faster, figure, scope = KINDS[kind]
    margin = max(MARGIN * min(_p95(a), _p95(b)), MARGIN_MS)
    rule = f"margin ±10% or ±{MARGIN_MS:g} ms"
    interval = f"95% CI {lo:+,.0f} to {hi:+,.0f} ms"
    if -margin <= lo and hi <= margin:
        return f"{scenario}: {name_a} vs {name_b}: {figure}, no practical difference ({interval}, {rule}; {scope})."
    # Say it from the faster vendor's side so the interval reads as "how much lower", both ends positive.
    lower, higher = (name_a, name_b) if diff < 0 else (name_b, name_a)
    low, high = sorted((abs(lo), abs(hi))) if (lo < 0) == (hi < 0) else (0.0, max(abs(lo), abs(hi)))
    verdict = "meaningful" if (lo > margin or hi < -margin) else f"not clearly beyond the {rule}"
    return (
        f"{scenario}: {lower} {faster} {higher}: {figure} {abs(diff):,.0f} ms lower "
        f"(95% CI {low:,.0f}–{high:,.0f} ms; {scope}), {verdict}."
    )


def reply_latency(bundle: RunBundle) -> np.ndarray:
    """Reply latency (ms) of every answered customer message of the run; empty when the run had none."""
    if not bundle.summary.get("reply") or bundle.data.ledger.empty:
        return np.array([], dtype="float64")
    values = reply_table(bundle.data.ledger)["reply_ms"].to_numpy(dtype="float64", na_value=np.nan)
    measured: np.ndarray = values[~np.isnan(values)]
    return measured


def successful_latency(bundle: RunBundle) -> np.ndarray:
    """Felt latency (ms) of the run's successful requests: a refused connection is not a fast answer."""
    ok = bundle.requests["ok"].fillna(False).to_numpy(dtype=bool)
    values = series.felt_latency(bundle.requests).to_numpy(dtype="float64", na_value=np.nan)[ok]
    measured: np.ndarray = values[~np.isnan(values)]
    return measured


def loss_line(scenario: str, blocks: list[dict[str, Any]]) -> str | None:
    """Lost acknowledged messages per vendor in one scenario, in counts; any loss against none is a difference."""
    counted = [(str(b["vendor"]), int(b["loss_rate"]["events"]), int(b["loss_rate"]["n"])) for b in blocks]
    counted = [c for c in counted if c[2] > 0]
    if len(counted) < 2:
        return None

    def words(vendor: str, lost: int, acked: int) -> str:
        if lost:
            return f"{vendor} lost {lost:,} of {acked:,} ({lost / acked:.2%})"
        bound = rule_of_three(acked)
        return f"{vendor} lost 0 of {acked:,}" + (f" (loss < {bound:.2%} at 95% confidence)" if bound else "")

    counted.sort(key=lambda c: (-c[1] / c[2], c[0]))
    listed = "; ".join(words(*c) for c in counted)
    losers = [c[0] for c in counted if c[1]]
    keepers = [c[0] for c in counted if not c[1]]
    if not losers:
        return f"{scenario}: no vendor lost an acknowledged message ({listed})."
    if not keepers:
        return f"{scenario}: acknowledged messages lost: {listed}."
    return (
        f"{scenario}: acknowledged messages lost: {listed}. Any acknowledged loss against none is a real "
        f"difference, whatever the margin: {' and '.join(keepers)} lost none, {' and '.join(losers)} did."
    )


METRIC_WORDS = {
    "request_p95_ms": "API latency p95",
    "request_p99_ms": "API latency p99",
    "delivery_p95_ms": "delivery latency p95",
    "delivery_p99_ms": "delivery latency p99",
    "reply_p95_ms": "reply latency p95",
    "reply_p99_ms": "reply latency p99",
    "sla_score": "SLA score",
    "error_rate": "error rate",
    "loss_rate": "loss rate",
    "sustained_recovery_s": "sustained recovery",
}
SEPARATED = ("meaningful", "no practical difference")


def _words(pair: dict[str, Any]) -> str:
    metric = str(pair["metric"])
    return str(pair["sentence"]).replace(metric, METRIC_WORDS.get(metric, metric.replace("_", " ")), 1)


def run_level(bundles: list[RunBundle], comparison: dict[str, Any] | None = None) -> list[str]:
    """The analysis's comparison (runs as the unit, Holm-corrected): what it could separate, per scenario, and
    one line naming what it could not (a manager needs the decision, not every inconclusive pair). Loss is said
    in counts (``loss_line``), not as a rate difference inside a margin."""
    if len({b.vendor for b in bundles}) < 2:
        return []
    comparison = comparison if comparison is not None else run_comparison(bundles)
    lines = []
    for group in comparison.get("groups", []):
        scenario = group["scenario"]
        loss = loss_line(scenario, group.get("vendors", []))
        if loss:
            lines.append(loss)
        pairs = [p for p in group["pairs"] if p.get("sentence")]
        lossy_pairs = {
            (p["a"], p["b"]) for p in pairs if p["metric"] == "loss_rate" and _both_lost(group, p["a"], p["b"])
        }
        kept = [p for p in pairs if p["metric"] != "loss_rate" or (p["a"], p["b"]) in lossy_pairs]
        lines += [f"{scenario}: {_words(p)}." for p in kept if p.get("verdict") in SEPARATED]
        open_ = sorted({METRIC_WORDS.get(p["metric"], p["metric"]) for p in kept if p.get("verdict") not in SEPARATED})
        if open_:
            lines.append(
                f"{scenario}: not separable with these runs: {', '.join(open_)}; more runs per vendor would tell."
            )
    return lines


def _both_lost(group: dict[str, Any], a: str, b: str) -> bool:
    """Both vendors lost some acknowledged messages: then the rate difference (with its margin) is the question."""
    events = {v["vendor"]: v["loss_rate"]["events"] for v in group.get("vendors", [])}
    return bool(events.get(a)) and bool(events.get(b))


def run_comparison(bundles: list[RunBundle]) -> dict[str, Any]:
    """``analysis.compare`` over the runs (the same call ``scrmbench compare`` makes)."""
    inputs = [RunInput(b.summary, _felt_latency(b)) for b in bundles if b.summary.get("run")]
    return compare(inputs) if inputs else {"groups": []}


def within_runs(bundles: list[RunBundle]) -> list[str]:
    """Per scenario and pair of vendors, the p95 gap of the latency that matters there (requests resampled)."""
    by_scenario: dict[str, list[RunBundle]] = {}
    for bundle in bundles:
        by_scenario.setdefault(bundle.scenario, []).append(bundle)
    lines = []
    for scenario, runs in by_scenario.items():
        replies = {id(b): reply_latency(b) for b in runs}
        kind = "reply" if any(v.size for v in replies.values()) else "request"
        pool: dict[str, np.ndarray] = {}
        for bundle in runs:
            values = replies[id(bundle)] if kind == "reply" else successful_latency(bundle)
            if values.size:
                pool[bundle.vendor] = np.concatenate([pool[bundle.vendor], values]) if bundle.vendor in pool else values
        for (name_a, a), (name_b, b) in itertools.combinations(pool.items(), 2):
            lines.append(sentence(scenario, name_a, a, name_b, b, kind=kind))
    return lines


def head_to_head(bundles: list[RunBundle], comparison: dict[str, Any] | None = None) -> list[str]:
    """Run-level comparison first; then, per scenario, the p95 gap within the runs (requests resampled)."""
    lines = run_level(bundles, comparison)
    inside = within_runs(bundles)
    if inside:
        lines.append("Within the runs (requests resampled; one run per vendor cannot speak for other days):")
        lines += inside
    return lines
