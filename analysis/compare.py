"""Compare vendors over several runs each, with the run as the unit (chaos-and-scoring-anchors.md §3.3).

Requests inside one run share its network, its hour and its failover, so they are not independent samples: a
per-request test on 10⁵ records calls trivial differences "significant". Here each run is **one** observation:

- p95 / p99 (request, delivery, reply latency) and SLA scores: the per-run values of each vendor; the difference
  of their means gets **Welch's t interval over runs** (unequal variances; with 3 runs a side about 4 degrees
  of freedom, so the interval is honestly wide when runs disagree and tight when they agree). It says: "if
  these test conditions were repeated, the mean per-run figure would differ by this much", nothing about single
  requests. A percentile bootstrap over 3 runs (10 distinct resamples a side) is too narrow to be a 95%
  interval, and a rank test over 3 + 3 runs cannot get below p = 0.1: neither can separate anything at
  realistic run counts, which is why neither decides here.
- the decision is a **minimum-effect test**: H0 "the difference is within ±margin" against "it is beyond", p =
  2·P(T > (|d| − margin)/se). A difference is **meaningful** when p < α, which is the same as the 95% interval
  clearing the margin. Multiplicity: **Holm** over the small, pre-declared **primary** set only
  (``CompareOptions.primary``: the SLA score and request p95, for every vendor pair); the other metrics are
  secondary, decided at the plain 95% level, and say so (``primary: false``). An interval wholly inside
  ±margin is **no practical difference**; anything else is **not separated**; with fewer than 2 runs a side,
  **insufficient runs**.
- error and loss rates: a Newcombe interval on the pooled counts (binomial noise; it treats messages as
  independent) and, with 2+ runs a side, Welch's interval on the per-run rates (run-to-run variation); the
  decision uses the hull of both, so neither source of uncertainty is ignored. With one run a side only the
  pooled interval exists and the pair says so (``basis``).
- Hodges–Lehmann shift and probability of superiority of the raw latencies (seeded subsample): descriptive
  effect sizes, shown beside the decision, never deciding it.

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

from analysis.cost import pool, usd
from analysis.stats import wilson_interval
from analysis.units import format_value

SCHEMA_VERSION = 2  # 2: Welch intervals over runs, minimum-effect p, Holm over the primary set only


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
    # The pre-declared primary comparisons (every vendor pair on each): Holm corrects over these alone.
    primary: tuple[str, ...] = ("sla_score", "request_p95_ms")
    resamples: int = 0  # unused since schema 2 (no bootstrap decides); accepted so older callers keep working
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


def welch(a: list[float], b: list[float], margin: float, level: float = 0.95) -> dict[str, Any] | None:
    """Welch's interval on mean(b) − mean(a) over runs and the minimum-effect p-value against ±margin.

    None with fewer than 2 runs a side. When every run of both vendors gave the same figure, the interval is
    the observed difference itself (no run-to-run variation was seen) and p is 0 or 1."""
    if len(a) < 2 or len(b) < 2:
        return None
    xa, xb = np.asarray(a, dtype="float64"), np.asarray(b, dtype="float64")
    diff = float(xb.mean() - xa.mean())
    va, vb = float(xa.var(ddof=1)) / xa.size, float(xb.var(ddof=1)) / xb.size
    se = math.sqrt(va + vb)
    if se == 0.0:
        return {"ci95": [diff, diff], "p_value": 0.0 if abs(diff) > margin else 1.0, "df": None, "se": 0.0}
    df = (va + vb) ** 2 / (va**2 / (xa.size - 1) + vb**2 / (xb.size - 1))
    half = float(sps.t.ppf(0.5 + level / 2, df)) * se
    p = min(1.0, 2.0 * float(sps.t.sf((abs(diff) - margin) / se, df)))
    return {"ci95": [diff - half, diff + half], "p_value": p, "df": float(df), "se": se}


def _run_pair(a: list[float], b: list[float], margin: float, opts: CompareOptions) -> dict[str, Any]:
    test = welch(a, b, margin)
    return {
        "difference": float(np.mean(b) - np.mean(a)) if a and b else None,
        "ci95": test["ci95"] if test else None,
        "p_value": test["p_value"] if test else None,
        "df": test["df"] if test else None,
        "margin": margin,
        "n_runs": [len(a), len(b)],
        "basis": f"Welch t over runs ({len(a)} and {len(b)})" if test else "fewer than 2 runs a side",
    }


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
        per_run = [_ratio(r.summary, num, den) for r in runs]
        block[name] = {
            "events": x,
            "n": n,
            "value": x / n if n else None,
            "ci95": list(interval) if interval else None,
            "run_values": [v for v in per_run if v is not None],
        }
    ttr = [r.summary["recovery"]["worst_ttr_sustained_s"] for r in runs if r.summary["recovery"]["faults"]]
    block["ttr_sustained_s"] = {"values": ttr, "median": _median(ttr), "worst": _worst(ttr)}
    verdicts = [r.summary["sla"]["verdict"] for r in runs if r.summary.get("sla")]
    block["verdicts"] = verdicts
    block["cost"] = pool([r.summary.get("cost") for r in runs])
    return block


def _ratio(summary: dict[str, Any], num: tuple[str, ...], den: tuple[str, ...]) -> float | None:
    n = _get(summary, den)
    return (_get(summary, num) or 0.0) / n if n else None


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
            pairs.append(_rate_pair(a, b, name, ra, rb, opts))
    return pairs


def _rate_pair(
    a: str, b: str, name: str, ra: dict[str, Any], rb: dict[str, Any], opts: CompareOptions
) -> dict[str, Any]:
    """Pooled Newcombe interval (binomial noise) and, with 2+ runs a side, Welch over per-run rates (run-to-run
    variation); the pair's interval is the hull of the two."""
    pooled = newcombe(rb["events"], rb["n"], ra["events"], ra["n"])
    runs = welch(ra["run_values"], rb["run_values"], opts.rate_margin)
    bounds = [list(pooled)] if pooled else []
    if runs:
        bounds.append(runs["ci95"])
    hull = [min(lo for lo, _ in bounds), max(hi for _, hi in bounds)] if bounds else None
    if runs:
        basis = f"hull of the pooled Newcombe interval and Welch over runs ({len(ra['run_values'])} and "
        basis += f"{len(rb['run_values'])})"
    else:
        basis = "pooled counts of fewer than 2 runs a side: within these runs only, not across runs"
    return {
        "a": a,
        "b": b,
        "metric": name,
        "unit": "ratio",
        "margin": opts.rate_margin,
        "difference": rb["value"] - ra["value"],
        "ci95": hull,
        "ci95_pooled": list(pooled) if pooled else None,
        "ci95_runs": runs["ci95"] if runs else None,
        "p_value": runs["p_value"] if runs else None,
        "n_runs": [len(ra["run_values"]), len(rb["run_values"])],
        "basis": basis,
    }


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


_UNPRICED_WORDS = {
    "not_measured": "is not measured (no priced ledger)",
    "unpriced": "is not priced (none of its charged messages is on the rate card)",
}


def _why_not_comparable(vendor: str, cost: dict[str, Any]) -> str | None:
    status = cost.get("status")
    if status == "partly_priced":
        return f"{vendor}'s cost is partly priced ({(cost.get('unpriced_share') or 0.0) * 100:.2g}% unpriced)"
    if status in _UNPRICED_WORDS:
        return f"{vendor}'s cost {_UNPRICED_WORDS[str(status)]}"
    if cost.get("cards_differ"):
        return f"{vendor}'s runs were priced with different rate cards"
    return None


def _cost_pair(a: str, b: str, ca: dict[str, Any], cb: dict[str, Any]) -> dict[str, Any]:
    """The cost difference b − a (per 1,000 delivered, duplicates): plain arithmetic on pooled sums, no interval
    (a price list has no sampling noise). Not comparable when either side is not wholly priced, or the two were
    priced with different rate cards."""
    reasons = [why for why in (_why_not_comparable(a, ca), _why_not_comparable(b, cb)) if why]
    if not reasons and ca.get("rate_cards") != cb.get("rate_cards"):
        reasons.append(f"{a} and {b} were priced with different rate cards")
    pair: dict[str, Any] = {"a": a, "b": b, "comparable": not reasons, "reasons": reasons}
    for key in ("per_1000_delivered_usd", "duplicates_usd"):
        va, vb = ca.get(key), cb.get(key)
        diff = _round6(vb - va) if not reasons and va is not None and vb is not None else None
        pair[key] = {"a": va, "b": vb, "difference": diff}
    if reasons:
        pair["sentence"] = f"{b} vs {a}: cost not comparable: {'; '.join(reasons)}"
        return pair
    words = []
    for key, label in (("per_1000_delivered_usd", "per 1,000 delivered"), ("duplicates_usd", "duplicates")):
        values = pair[key]
        diff = values["difference"]
        if diff is None:
            words.append(f"{label} not measured (nothing delivered)")
            continue
        direction = "more" if diff > 0 else "less" if diff < 0 else "the same"
        amount = f"{usd(abs(diff))} {direction}" if diff else "the same"
        words.append(f"{label} {amount} ({usd(values['a'])} → {usd(values['b'])})")
    pair["sentence"] = f"{b} vs {a}: cost " + ", ".join(words)
    return pair


def _round6(value: float) -> float:
    return round(float(value), 6)


def _cost_pairs(blocks: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    return [
        _cost_pair(a, b, blocks[a]["cost"], blocks[b]["cost"]) for a, b in itertools.combinations(sorted(blocks), 2)
    ]


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
        primary = [p for p in pairs if p["metric"] in opts.primary]
        for pair, adjusted in zip(primary, holm([p["p_value"] for p in primary]), strict=True):
            pair["p_holm"] = adjusted
        for pair in pairs:
            pair["primary"] = pair["metric"] in opts.primary
            pair.setdefault("p_holm", None)
            verdict = _classify(tuple(pair["ci95"]) if pair["ci95"] else None, pair["margin"])
            if verdict == "meaningful" and pair["primary"]:
                adjusted = pair["p_holm"]
                verdict = "meaningful" if adjusted is not None and adjusted < opts.alpha else "not separated"
            pair["verdict"] = verdict
            pair["sentence"] = _sentence(pair)
        tests = sum(1 for p in primary if p["p_value"] is not None)
        notes = [
            f"decided on Welch intervals over runs (each run one observation) clearing the margin; Holm over the "
            f"{tests} primary comparisons ({', '.join(opts.primary)} for each pair); other metrics are secondary "
            "(95% intervals, not corrected for multiplicity)"
        ]
        if any(b["n_runs"] < 2 for b in blocks.values()):
            notes.append("some vendors have fewer than 2 runs: their differences cannot be separated; run more")
        groups.append(
            {
                "scenario": scenario,
                "vendors": list(blocks.values()),
                "pairs": pairs,
                "ranking": _ranking(blocks, pairs),
                "cost": _cost_pairs(blocks),
                "notes": notes,
            }
        )
    return {"schema_version": SCHEMA_VERSION, "kind": "scrmbench.comparison", "groups": groups}
