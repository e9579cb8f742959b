"""Compare vendors over several runs each, with the run as the unit (chaos-and-scoring-anchors.md §3.3).

Requests inside one run share its network, its hour and its failover, so they are not independent samples: a
per-request test on 10⁵ records calls trivial differences "significant". Here:

- p95 / p99 (request and delivery latency) and SLA scores: the per-run values of each vendor; the difference of
  their means gets a bootstrap 95% interval over runs (``scipy.stats.bootstrap``, percentile method) and a
  Mann–Whitney p-value over runs;
- error and loss rates: pooled counts, a Wilson interval per vendor and a Newcombe interval on the difference,
  Fisher's exact p-value;
- Hodges–Lehmann shift and probability of superiority of the raw latencies (seeded subsample): descriptive
  effect sizes, shown beside the decision, never deciding it;
- a difference is **meaningful** only if its interval lies wholly outside ±margin and its Holm-adjusted p-value
  (over every pair × metric of the scenario) is below 0.05; an interval wholly inside ±margin is **no
  practical difference**; anything else is **not separated**; with fewer than 2 runs a side, **insufficient runs**.

The ranking orders vendors by median SLA score (else median p95) and puts vendors that are not meaningfully
different on that figure in the same tier.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from scipy import stats as sps

from analysis.stats import wilson_interval
from analysis.units import format_value

SCHEMA_VERSION = 1


@dataclass(frozen=True)
class RunInput:
    summary: dict[str, Any]
    latency_sample: np.ndarray = field(default_factory=lambda: np.array([], dtype="float64"))


@dataclass(frozen=True)
class CompareOptions:
    latency_margin_rel: float = 0.10
    latency_margin_ms: float = 50.0
    rate_margin: float = 0.005
    score_margin: float = 5.0
    alpha: float = 0.05
    resamples: int = 2000
    hl_sample: int = 2000
    seed: int = 20240601


def _get(summary: dict[str, Any], path: tuple[str, ...]) -> float | None:
    node: Any = summary
    for part in path:
        node = node.get(part) if isinstance(node, dict) else None
    return float(node) if isinstance(node, int | float) else None


RUN_METRICS: dict[str, tuple[tuple[str, ...], str]] = {
    "request_p95_ms": (("requests", "overall", "latency_ms", "p95"), "ms"),
    "request_p99_ms": (("requests", "overall", "latency_ms", "p99"), "ms"),
    "delivery_p95_ms": (("accounting", "delivery_latency_ms", "p95"), "ms"),
    "delivery_p99_ms": (("accounting", "delivery_latency_ms", "p99"), "ms"),
    "reply_p95_ms": (("reply", "latency_ms", "p95"), "ms"),
    "reply_p99_ms": (("reply", "latency_ms", "p99"), "ms"),
    "sla_score": (("sla", "score"), "points"),
}
RATE_METRICS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "error_rate": (("requests", "overall", "errors"), ("requests", "overall", "started")),
    "loss_rate": (("accounting", "lost"), ("accounting", "acked")),
}


def vendor_name(summary: dict[str, Any]) -> str:
    return str(summary["run"]["vendor"])


def newcombe(x1: int, n1: int, x2: int, n2: int) -> tuple[float, float] | None:
    """Newcombe's hybrid score interval for p1 − p2 from two Wilson intervals."""
    a, b = wilson_interval(x1, n1), wilson_interval(x2, n2)
    if a is None or b is None:
        return None
    p1, p2 = x1 / n1, x2 / n2
    d = p1 - p2
    return d - math.hypot(p1 - a[0], b[1] - p2), d + math.hypot(a[1] - p1, p2 - b[0])


def hodges_lehmann(a: np.ndarray, b: np.ndarray, size: int, rng: np.random.Generator) -> tuple[float, float] | None:
    """(median of pairwise b − a, probability that a random b exceeds a random a) on seeded subsamples."""
    a, b = a[~np.isnan(a)], b[~np.isnan(b)]
    if a.size == 0 or b.size == 0:
        return None
    if a.size > size:
        a = rng.choice(a, size, replace=False)
    if b.size > size:
        b = rng.choice(b, size, replace=False)
    shift = float(np.median(np.subtract.outer(b, a)))
    u = sps.mannwhitneyu(b, a, alternative="two-sided").statistic
    return shift, float(u / (a.size * b.size))


def _classify(ci: tuple[float, float] | None, margin: float) -> str:
    if ci is None:
        return "insufficient runs"
    lo, hi = ci
    if -margin <= lo and hi <= margin:
        return "no practical difference"
    if lo > margin or hi < -margin:
        return "meaningful"
    return "not separated"


def _run_pair(a: list[float], b: list[float], margin: float, opts: CompareOptions) -> dict[str, Any]:
    out: dict[str, Any] = {
        "difference": float(np.mean(b) - np.mean(a)) if a and b else None,
        "ci95": None,
        "p_value": None,
        "margin": margin,
    }
    if len(a) >= 2 and len(b) >= 2:
        result = sps.bootstrap(
            (np.asarray(b), np.asarray(a)),
            lambda x, y, axis=-1: np.mean(x, axis=axis) - np.mean(y, axis=axis),
            n_resamples=opts.resamples,
            method="percentile",
            random_state=np.random.default_rng(opts.seed),
            vectorized=True,
        )
        out["ci95"] = [float(result.confidence_interval.low), float(result.confidence_interval.high)]
        out["p_value"] = float(sps.mannwhitneyu(b, a, alternative="two-sided").pvalue)
    return out


def holm(p_values: list[float | None]) -> list[float | None]:
    """Holm–Bonferroni adjusted p-values (None stays None and does not count as a test)."""
    indexed = sorted((p, i) for i, p in enumerate(p_values) if p is not None)
    m = len(indexed)
    adjusted: list[float | None] = [None] * len(p_values)
    running = 0.0
    for rank, (p, i) in enumerate(indexed):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[i] = running
    return adjusted


def _vendor_block(vendor: str, runs: list[RunInput]) -> dict[str, Any]:
    block: dict[str, Any] = {"vendor": vendor, "runs": [r.summary["run"]["run_id"] for r in runs], "n_runs": len(runs)}
    for name, (path, _unit) in RUN_METRICS.items():
        values = [v for v in (_get(r.summary, path) for r in runs) if v is not None]
        block[name] = {"values": values, "median": float(np.median(values)) if values else None}
    for name, (num, den) in RATE_METRICS.items():
        x = int(sum(_get(r.summary, num) or 0 for r in runs))
        n = int(sum(_get(r.summary, den) or 0 for r in runs))
        interval = wilson_interval(x, n)
        block[name] = {"events": x, "n": n, "value": x / n if n else None, "ci95": list(interval) if interval else None}
    ttr = [r.summary["recovery"]["worst_ttr_sustained_s"] for r in runs if r.summary["recovery"]["faults"]]
    block["ttr_sustained_s"] = {"values": ttr, "median": _median(ttr), "worst": _worst(ttr)}
    verdicts = [r.summary["sla"]["verdict"] for r in runs if r.summary.get("sla")]
    block["verdicts"] = verdicts
    return block


def _median(values: list[float | None]) -> float | None:
    finite = [v for v in values if v is not None]
    return float(np.median(finite)) if finite and len(finite) == len(values) else None


def _worst(values: list[float | None]) -> float | None:
    return None if not values or any(v is None for v in values) else float(max(v for v in values if v is not None))


def _pairs(
    blocks: dict[str, dict[str, Any]], runs: dict[str, list[RunInput]], opts: CompareOptions
) -> list[dict[str, Any]]:
    rng = np.random.default_rng(opts.seed)
    pairs: list[dict[str, Any]] = []
    for a, b in itertools.combinations(sorted(blocks), 2):
        for name, (_path, unit) in RUN_METRICS.items():
            va, vb = blocks[a][name]["values"], blocks[b][name]["values"]
            if not va or not vb:
                continue
            if unit == "ms":
                margin = max(opts.latency_margin_rel * min(np.median(va), np.median(vb)), opts.latency_margin_ms)
            else:
                margin = opts.score_margin
            pair = {"a": a, "b": b, "metric": name, "unit": unit, **_run_pair(va, vb, margin, opts)}
            if name == "request_p95_ms":
                effect = hodges_lehmann(
                    np.concatenate([r.latency_sample for r in runs[a]]),
                    np.concatenate([r.latency_sample for r in runs[b]]),
                    opts.hl_sample,
                    rng,
                )
                pair["hl_shift_ms"], pair["prob_superiority"] = effect if effect else (None, None)
            pairs.append(pair)
        for name in RATE_METRICS:
            ra, rb = blocks[a][name], blocks[b][name]
            if not ra["n"] or not rb["n"]:
                continue
            interval = newcombe(rb["events"], rb["n"], ra["events"], ra["n"])
            table = [[rb["events"], rb["n"] - rb["events"]], [ra["events"], ra["n"] - ra["events"]]]
            pairs.append(
                {
                    "a": a,
                    "b": b,
                    "metric": name,
                    "unit": "ratio",
                    "margin": opts.rate_margin,
                    "difference": rb["value"] - ra["value"],
                    "ci95": list(interval) if interval else None,
                    "p_value": float(sps.fisher_exact(table).pvalue),
                }
            )
    return pairs


def _sentence(pair: dict[str, Any]) -> str:
    unit = {"ms": "ms", "ratio": "ratio"}.get(pair["unit"], "")
    diff, ci = pair["difference"], pair["ci95"]
    shown = format_value(abs(diff), unit) if unit else f"{abs(diff):.3g}"
    direction = "higher" if diff > 0 else "lower"
    ci_text = (
        f" (95% CI {format_value(ci[0], unit) if unit else f'{ci[0]:.3g}'} to "
        f"{format_value(ci[1], unit) if unit else f'{ci[1]:.3g}'})"
        if ci
        else ""
    )
    return f"{pair['b']} vs {pair['a']}: {pair['metric']} {shown} {direction}{ci_text}, {pair['verdict']}"


def _ranking(blocks: dict[str, dict[str, Any]], pairs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    by_score = all(blocks[v]["sla_score"]["median"] is not None for v in blocks)
    key = "sla_score" if by_score else "request_p95_ms"
    order = sorted(
        blocks,
        key=lambda v: (blocks[v][key]["median"] is None, (-1 if by_score else 1) * (blocks[v][key]["median"] or 0)),
    )
    verdict = {(p["a"], p["b"]): p["verdict"] for p in pairs if p["metric"] == key}
    ranking, tier = [], 1
    for i, vendor in enumerate(order):
        if i:
            pair = verdict.get(tuple(sorted((order[i - 1], vendor))))  # type: ignore[arg-type]
            if pair == "meaningful":
                tier = i + 1
        ranking.append({"rank": tier, "vendor": vendor, "by": key, "value": blocks[vendor][key]["median"]})
    for row in ranking:
        row["tied_with"] = [r["vendor"] for r in ranking if r["rank"] == row["rank"] and r["vendor"] != row["vendor"]]
    return ranking


def compare(runs: list[RunInput], options: CompareOptions | None = None) -> dict[str, Any]:
    """The comparison dict (``comparison.json``), one group per scenario."""
    opts = options or CompareOptions()
    groups = []
    scenarios = sorted({r.summary["run"]["scenario"] for r in runs})
    for scenario in scenarios:
        by_vendor: dict[str, list[RunInput]] = {}
        for r in runs:
            if r.summary["run"]["scenario"] == scenario:
                by_vendor.setdefault(vendor_name(r.summary), []).append(r)
        blocks = {v: _vendor_block(v, rs) for v, rs in by_vendor.items()}
        pairs = _pairs(blocks, by_vendor, opts)
        for pair, adjusted in zip(pairs, holm([p["p_value"] for p in pairs]), strict=True):
            pair["p_holm"] = adjusted
            verdict = _classify(tuple(pair["ci95"]) if pair["ci95"] else None, pair["margin"])
            if verdict == "meaningful" and (adjusted is None or adjusted >= opts.alpha):
                verdict = "not separated"
            pair["verdict"] = verdict
            pair["sentence"] = _sentence(pair)
        notes = []
        if any(b["n_runs"] < 2 for b in blocks.values()):
            notes.append("some vendors have fewer than 2 runs: their differences cannot be separated; run more")
        groups.append(
            {
                "scenario": scenario,
                "vendors": list(blocks.values()),
                "pairs": pairs,
                "ranking": _ranking(blocks, pairs),
                "notes": notes,
            }
        )
    return {"schema_version": SCHEMA_VERSION, "kind": "scrmbench.comparison", "groups": groups}
