"""Numbers and criteria in words a manager reads without help: units, thousands separators, targets."""

from __future__ import annotations

import math
from typing import Any

from analysis.cost import usd

_UNITS = {"ms": " ms", "s": " s", "%": "%", "ratio": "", "count": "", "messages": " messages", "": ""}


def number(value: float | int | None, unit: str = "") -> str:
    """``8400.0, "ms"`` → ``"8,400 ms"``; ratios become percentages; None is "not measured"."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "not measured"
    if unit in {"ratio", "fraction"}:
        return f"{value * 100:.3g}%" if value < 0.999 else f"{value * 100:.2f}%"
    if unit == "ms" and abs(value) >= 10_000:
        return f"{value / 1000:,.1f} s"
    if float(value).is_integer() and abs(value) >= 1:
        text = f"{int(value):,}"
    elif abs(value) >= 100:
        text = f"{value:,.0f}"
    else:
        text = f"{value:.3g}"
    return text + _UNITS.get(unit, f" {unit}")


def interval(lo: float | None, hi: float | None, unit: str = "") -> str:
    if lo is None or hi is None:
        return ""
    return f"95% CI {number(lo, unit)} – {number(hi, unit)}"


_DIRECTION = {
    "<=": "≤",
    "lte": "≤",
    "max": "≤",
    "lower": "≤",
    ">=": "≥",
    "gte": "≥",
    "min": "≥",
    "higher": "≥",
    "<": "<",
    ">": ">",
}


def target(value: Any, direction: str = "<=", unit: str = "") -> str:
    if value is None:
        return "no target"
    symbol = _DIRECTION.get(str(direction).lower(), "≤")
    return f"{symbol} {number(float(value), unit)}"


def failure_sentence(scenario: str, label: str, measured: str, target_text: str, reason: str = "") -> str:
    """ "failover: lost acknowledged messages 37, target ≤ 0" unless the analysis gave its own words."""
    if reason:
        return f"{scenario}: {reason}"
    return f"{scenario}: {label}: {measured} (target {target_text})"


def validity(section: dict[str, Any] | None, set_aside: str | None) -> tuple[str, str]:
    """(status, words) of a run's "test validity" line from its summary's ``harness`` section and the harness-bound
    reason the analysis gave (``analysis.harness_health.harness_bound``): healthy, bound or not measured."""
    if not section or not section.get("measured"):
        return "not_measured", (
            "harness not measured: this run has no health data (health.parquet), so a saturated harness could not "
            "be told from a slow vendor"
        )
    if set_aside:
        return "bound", set_aside
    thresholds = section.get("thresholds") or {}
    cpu = float(thresholds.get("process_cpu_pct") or 90.0)
    lag = (section.get("worst_loop_lag_ms") or {}).get("generator")
    lag_words = f"generator loop lag p95 ≤ {number(lag, 'ms')}" if lag is not None else "generator loop lag not sampled"
    share = section.get("saturated_share") or 0.0
    if not section.get("bound_seconds"):
        return "healthy", f"harness healthy: {lag_words}, no harness process ≥ {cpu:g}% CPU"
    limit = float(thresholds.get("bound_share") or 0.05)
    return "healthy", (
        f"harness healthy enough: saturated for {number(share, 'ratio')} of the run, under the "
        f"{number(limit, 'ratio')} that sets figures aside ({lag_words})"
    )


money = usd  # USD as a buyer reads it (analysis.cost.usd), "$12.50", "$0.004"


def _copies(n: int) -> str:
    return f"{n:,} charged cop{'y' if n == 1 else 'ies'}"


def cost(pooled: dict[str, Any]) -> tuple[str, str, str, str]:
    """(per 1,000 delivered, duplicates, how far priced, the card) of ``analysis.cost.pool``'s result."""
    status = pooled.get("status")
    cards = pooled.get("rate_cards") or []
    card = "; ".join(f"{c.get('name')} ({c.get('source')}, as of {c.get('as_of')})" for c in cards)
    if pooled.get("cards_differ"):
        card += ": different cards across the runs, pooled as they are"
    if status == "not_measured" or status is None:
        why = "no run had a priced ledger (a mock before late 2026, or no outbound messages)"
        return "not measured", "not measured", why, card
    markets = ", ".join(pooled.get("unpriced_markets") or [])
    where = f" (markets {markets})" if markets else ""
    dup = pooled.get("duplicates") or {}
    charged_copies = int(dup.get("charged") or 0)
    per_1000 = pooled.get("per_1000_delivered_usd")
    dup_usd = pooled.get("duplicates_usd")
    bound = "≥ " if status == "partly_priced" else ""
    if status == "unpriced":
        per_text = "not priced"
        priced = f"no charged message is on the rate card{where}: no price, not free"
    else:
        per_text = "not measured" if per_1000 is None else bound + money(per_1000)
        if bound and not per_1000:
            per_text = "not priced"  # a lower bound of $0 would read as free
        share = float(pooled.get("unpriced_share") or 0.0)
        priced = (
            ("every charged message priced" if pooled.get("charged") else "no message was charged")
            if status == "priced"
            else f"{share * 100:.2g}% of charged messages unpriced{where}: the figures are lower bounds"
        )
    if not int(dup.get("copies") or 0):
        dup_text = "none"
    elif not charged_copies:
        dup_text = f"$0.00 ({int(dup.get('copies') or 0):,} copies, none charged)"
    elif dup_usd is None or (bound and not dup_usd):
        dup_text = f"price unknown ({_copies(charged_copies)})"
    else:
        dup_text = f"{bound}{money(dup_usd)} ({_copies(charged_copies)})"
    return per_text, dup_text, priced, card
