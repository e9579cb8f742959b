"""Figures per business number: does any of the profile's numbers fare worse than the others?

WhatsApp paces every number on its own (whatsapp-cloud-api.md §4: 80 msg/s throughput → 130429, one message per
6 s to one customer with a burst → 131056), and a vendor may pace, queue or fail them unevenly. A run that spreads
its sends over many numbers (plan.numbers) records the number of each request (``phone_number_id``); here each
number gets:

- ``sends`` (send requests that got an answer or timed out; dropped slots are the generator's), ``acked``,
  ``errors`` and ``error_share`` (failed or indeterminate / sends, Wilson 95% interval);
- ``throttled``: sends refused with a throttling code (``THROTTLE_CODES``: Meta's 130429, 131056, 131048, 80007
  and 4, Twilio's 63018 and 20429, HTTP 429), ``throttled_share`` of the sends with its Wilson interval;
- ``delivered`` (acknowledged sends that reached the mock's ledger) and ``delivered_share`` of the acknowledged
  ones, with its interval (null without a ledger);
- ``latency_ms`` p50 and p99 of its answered sends, ``delivery_ms`` p50 and p99 (ledger arrival − slot) of its
  delivered ones, each with the distribution-free 95% interval of the other percentiles (analysis.stats);
- ``customer_messages``: customers' messages the harness had the mock deliver to this number.

A figure **differs** between numbers when two numbers' intervals are apart by more than a practical margin (one
percentage point for a share, 10% and at least 1 ms for a percentile), with the intervals taken at the family level
``1 − 0.05 / k`` over the ``k`` numbers whose value is comparable (at least ``MIN_SAMPLES`` samples, and for a
percentile an interval bounded on both sides: a p99 needs a few hundred); see ``differing``. The numbers are
**uniform** when no figure differs; ``uniform`` is null when no figure had two comparable numbers (too few sends).

The section is bounded for hundreds of numbers: every number's row (at most ``plan.numbers.MAX_NUMBERS``), the
``WORST`` numbers first by throttled share, then error share, then undelivered share, and the spread of each figure
over the numbers (min, p10, p50, p90, max).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats as sps

from analysis.accounting import TokenCodes, is_send
from analysis.columns import text_in, text_is, text_present
from analysis.stats import percentile, quantile_interval, rank_index, wilson_interval

MIN_SAMPLES = 10  # a number's figure is compared with the others' from this many samples on
SHARE_MARGIN = 0.01  # shares closer than one percentage point are no practical difference
LATENCY_MARGIN = 0.10  # nor percentiles closer than 10% of their typical value (and 1 ms)
THROTTLE_CODES = frozenset({"130429", "131056", "131048", "80007", "4", "63018", "20429", "429"})
WORST = 10  # numbers listed first, worst first
RATE_FIGURES = ("throttled_share", "error_share", "delivered_share")
LATENCY_FIGURES = ("latency_p50_ms", "latency_p99_ms", "delivery_p50_ms", "delivery_p99_ms")
SPREAD_POINTS = (("min", 0.0), ("p10", 10.0), ("p50", 50.0), ("p90", 90.0), ("max", 100.0))


@dataclass(frozen=True)
class NumberTally:
    """One business number's counts and raw samples (``number_table``); ``delivered`` is None without a ledger."""

    phone_number_id: str
    requests: int
    customer_messages: int
    sends: int
    acked: int
    errors: int
    throttled: int
    delivered: int | None
    latency_ms: np.ndarray  # answered sends' latencies, sorted, without NaN
    delivery_ms: np.ndarray  # delivered sends' ledger arrival − slot, sorted, without NaN


def number_table(
    requests: pd.DataFrame, messages: pd.DataFrame | None = None, tokens: TokenCodes | None = None
) -> list[NumberTally]:
    """One tally per business number of the request records, in the order of each number's first request.

    ``messages`` is ``analysis.accounting.message_table`` of the same run (None: no ledger; the delivery figures are
    then None and empty). Requests without a number (other calls, runs before the column) are left out. ``tokens``:
    the ``token_codes`` the message table was made with, so sends join their messages by token number (integers)
    instead of by text; the figures are the same either way."""
    if "phone_number_id" not in requests or len(requests) == 0:
        return []
    present = text_present(requests["phone_number_id"])
    if not present.any():
        return []
    # Column by column under the mask, not ``requests.loc[present]``: no copy of the columns left unused.
    codes, order = pd.factorize(requests["phone_number_id"][present])  # numbered in order of first appearance
    codes = np.asarray(codes, dtype="int64")
    operation = requests["operation"][present]
    send = is_send(operation) & ~text_is(requests["outcome"][present], "dropped")
    ok = requests["ok"][present].fillna(False).to_numpy(dtype=bool)
    throttled = text_in(requests["error_code"][present], THROTTLE_CODES)
    inbound = text_is(operation, "customer_message")
    latency = requests["latency_ms"][present].to_numpy(dtype="float64", na_value=np.nan)
    size = len(order)

    def count(mask: np.ndarray) -> np.ndarray:
        return np.bincount(codes[mask], minlength=size)

    latencies = _groups(codes[send], latency[send], size)
    delivered: np.ndarray | None = None
    deliveries = [np.array([], dtype="float64") for _ in range(size)]
    if messages is not None:
        if tokens is not None and "token" in messages:
            delivered_codes, delivery = _deliveries_by_number(tokens.requests[present][send], codes[send], messages)
        else:
            delivered_codes, delivery = _deliveries_by_text(
                requests["correlation_id"][present][send], codes[send], messages
            )
        delivered = np.bincount(delivered_codes, minlength=size)
        deliveries = _groups(delivered_codes, delivery, size)
    every, inbound_n, sends, acked_n = (
        count(np.ones(len(codes), dtype=bool)),
        count(inbound),
        count(send),
        count(send & ok),
    )
    errors, throttled_n = count(send & ~ok), count(send & throttled)
    return [
        NumberTally(
            phone_number_id=str(order[i]),
            requests=int(every[i]),
            customer_messages=int(inbound_n[i]),
            sends=int(sends[i]),
            acked=int(acked_n[i]),
            errors=int(errors[i]),
            throttled=int(throttled_n[i]),
            delivered=None if delivered is None else int(delivered[i]),
            latency_ms=latencies[i],
            delivery_ms=deliveries[i],
        )
        for i in range(size)
    ]


def _deliveries_by_number(
    send_tokens: np.ndarray, send_numbers: np.ndarray, messages: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """(number code, delivery ms) of every acknowledged, delivered token, each under the number of its first send
    (a retried send counts once); ``send_tokens`` are the sends' token numbers (-1: none), ``messages`` carries
    each row's ``token``. Linear passes over integer arrays."""
    message_tokens = messages["token"].to_numpy(dtype="int64")
    size = int(max(send_tokens.max(initial=-1), message_tokens.max(initial=-1))) + 1
    has_token = send_tokens >= 0
    steps = np.flatnonzero(has_token)
    first = np.full(size, -1, dtype="int64")
    first[send_tokens[steps[::-1]]] = steps[::-1]  # a repeated index keeps the last value assigned: the first send
    row = np.full(size, -1, dtype="int64")
    row[message_tokens] = np.arange(message_tokens.size, dtype="int64")
    acked = (messages["outcome"] == "ok").to_numpy(dtype=bool)
    sent_at = messages["sent_at"].to_numpy(dtype="float64")
    delivered_at = messages["delivered_at"].to_numpy(dtype="float64")
    token = np.flatnonzero((first >= 0) & (row >= 0))  # sent with a number and in the message table
    rows = row[token]
    keep = acked[rows] & ~np.isnan(delivered_at[rows])
    token, rows = token[keep], rows[keep]
    return send_numbers[first[token]], (delivered_at[rows] - sent_at[rows]) * 1000.0


def _deliveries_by_text(
    send_tokens: pd.Series, send_numbers: np.ndarray, messages: pd.DataFrame
) -> tuple[np.ndarray, np.ndarray]:
    """``_deliveries_by_number`` for a message table made without shared token numbers: a join on the text."""
    sends = pd.DataFrame({"correlation_id": send_tokens.astype(str).to_numpy(), "code": send_numbers})
    sends = sends.drop_duplicates("correlation_id")  # a retried send counts once, under its first number
    acked_mask = (messages["outcome"] == "ok").to_numpy(dtype=bool)
    acked = pd.DataFrame(
        {
            "correlation_id": messages["correlation_id"].astype(str).to_numpy()[acked_mask],
            "sent_at": messages["sent_at"].to_numpy(dtype="float64")[acked_mask],
            "delivered_at": messages["delivered_at"].to_numpy(dtype="float64")[acked_mask],
        }
    )
    joined = sends.merge(acked, on="correlation_id", how="inner")
    arrived = ~np.isnan(joined["delivered_at"].to_numpy(dtype="float64"))
    delivery = (joined["delivered_at"] - joined["sent_at"]).to_numpy(dtype="float64")[arrived] * 1000.0
    return joined["code"].to_numpy(dtype="int64")[arrived], delivery


def _groups(codes: np.ndarray, values: np.ndarray, size: int) -> list[np.ndarray]:
    """``values`` split by ``codes`` (0..size-1), each group sorted with its NaNs left out: one sort by code for all
    groups (not one pass per number), then each group's own sort, which every percentile of it reuses."""
    if size == 1:
        return [np.sort(values[~np.isnan(values)])]
    order = np.argsort(codes, kind="stable")
    bounds = np.cumsum(np.bincount(codes, minlength=size))[:-1]
    return [np.sort(group[~np.isnan(group)]) for group in np.split(values[order], bounds)]


def _rate(count: int | None, n: int) -> dict[str, Any]:
    if count is None or n <= 0:
        return {"value": None, "ci95": None}
    interval = wilson_interval(count, n)
    return {"value": count / n, "ci95": list(interval) if interval else None}


def _quantile(array: np.ndarray, pct: float) -> dict[str, Any]:
    """Nearest-rank percentile and its interval of ``array`` (sorted, without NaN: a ``NumberTally`` sample)."""
    if array.size == 0:
        return {"value": None, "ci95": None}
    interval = quantile_interval(array, pct)
    return {"value": float(array[rank_index(array.size, pct)]), "ci95": list(interval) if interval else None}


def number_rows(tallies: list[NumberTally]) -> list[dict[str, Any]]:
    """Each number's figures with their intervals (the summary's ``numbers.by_number``)."""
    return [
        {
            "phone_number_id": tally.phone_number_id,
            "requests": tally.requests,
            "customer_messages": tally.customer_messages,
            "sends": tally.sends,
            "acked": tally.acked,
            "errors": tally.errors,
            "throttled": tally.throttled,
            "delivered": tally.delivered,
            "throttled_share": _rate(tally.throttled, tally.sends),
            "error_share": _rate(tally.errors, tally.sends),
            "delivered_share": _rate(tally.delivered, tally.acked),
            "latency_p50_ms": _quantile(tally.latency_ms, 50.0),
            "latency_p99_ms": _quantile(tally.latency_ms, 99.0),
            "delivery_p50_ms": _quantile(tally.delivery_ms, 50.0),
            "delivery_p99_ms": _quantile(tally.delivery_ms, 99.0),
        }
        for tally in tallies
    ]


_RATES = {"throttled_share": ("throttled", "sends"), "error_share": ("errors", "sends"),
          "delivered_share": ("delivered", "acked")}  # fmt: skip
_PERCENTILES = {
    "latency_p50_ms": ("latency_ms", 50.0),
    "latency_p99_ms": ("latency_ms", 99.0),
    "delivery_p50_ms": ("delivery_ms", 50.0),
    "delivery_p99_ms": ("delivery_ms", 99.0),
}


def _family_intervals(tallies: list[NumberTally], figure: str, level: float) -> list[tuple[float, float]]:
    """Each comparable number's interval of ``figure`` at ``level``: at least ``MIN_SAMPLES`` samples, and for a
    percentile order-statistic ranks inside the sample (bounded on both sides; a p99 needs a few hundred)."""
    found = []
    if figure in _RATES:
        count_name, n_name = _RATES[figure]
        z = float(sps.norm.ppf(1 - (1 - level) / 2))
        for tally in tallies:
            count, n = getattr(tally, count_name), int(getattr(tally, n_name))
            interval = wilson_interval(count, n, z) if count is not None and n >= MIN_SAMPLES else None
            if interval is not None:
                found.append(interval)
        return found
    samples, pct = _PERCENTILES[figure]
    for tally in tallies:
        array = getattr(tally, samples)  # sorted, without NaN
        if array.size < MIN_SAMPLES or not _two_sided(int(array.size), pct, level):
            continue
        interval = quantile_interval(array, pct, level)
        if interval is not None:
            found.append(interval)
    return found


def _two_sided(n: int, pct: float, level: float) -> bool:
    q, alpha = pct / 100.0, 1 - level
    return int(sps.binom.ppf(alpha / 2, n, q)) >= 1 and int(sps.binom.ppf(1 - alpha / 2, n, q)) + 1 <= n


def differing(tallies: list[NumberTally]) -> tuple[list[str], dict[str, int]]:
    """The figures on which the numbers differ, and over how many numbers each figure was compared.

    Each comparable number's interval is taken at the family level ``1 − 0.05 / k`` for ``k`` comparable numbers
    (Bonferroni: with 200 numbers, chance alone must not make two of them look apart), and a figure differs when
    the highest lower bound is above the lowest upper bound by more than its practical margin: one percentage
    point for a share, for a percentile ``LATENCY_MARGIN`` of the numbers' median value and at least 1 ms."""
    found, counts = [], {}
    for figure in (*RATE_FIGURES, *LATENCY_FIGURES):
        k = len(_family_intervals(tallies, figure, 0.95))
        counts[figure] = k
        if k < 2:
            continue
        intervals = _family_intervals(tallies, figure, 1 - 0.05 / k)
        if len(intervals) < 2:
            continue
        gap = max(lo for lo, _ in intervals) - min(hi for _, hi in intervals)
        if figure in _RATES:
            margin = SHARE_MARGIN
        else:
            middle = float(np.median([(lo + hi) / 2 for lo, hi in intervals]))
            margin = max(1.0, LATENCY_MARGIN * middle)
        if gap > margin:
            found.append(figure)
    return found, counts


def _spread(rows: list[dict[str, Any]], figure: str) -> dict[str, float | None] | None:
    values = np.array([row[figure]["value"] for row in rows if row[figure]["value"] is not None], dtype="float64")
    if values.size == 0:
        return None
    return {name: percentile(values, pct) for name, pct in SPREAD_POINTS}


def _badness(row: dict[str, Any]) -> tuple[float, float, float, str]:
    def value(figure: str, missing: float) -> float:
        found = row[figure]["value"]
        return missing if found is None else float(found)

    undelivered = 1.0 - value("delivered_share", 1.0)
    return (-value("throttled_share", 0.0), -value("error_share", 0.0), -undelivered, row["phone_number_id"])


def numbers_section(
    requests: pd.DataFrame,
    messages: pd.DataFrame | None,
    *,
    ledger_available: bool,
    worst: int = WORST,
    tokens: TokenCodes | None = None,
) -> dict[str, Any] | None:
    """The summary's ``numbers`` section; None when no request names a number (runs before the column existed).
    ``tokens``: the ``token_codes`` ``messages`` was made with (see ``number_table``)."""
    tallies = number_table(requests, messages if ledger_available else None, tokens)
    if not tallies:
        return None
    rows = number_rows(tallies)
    sends = np.array([row["sends"] for row in rows], dtype="float64")
    differs, counts = differing(tallies)
    mean = float(sends.mean()) if sends.size else 0.0
    return {
        "count": len(rows),
        # None: no figure had two numbers with enough samples to compare (too few sends per number to tell).
        "uniform": (not differs) if any(n >= 2 for n in counts.values()) else None,
        "differs": differs,
        "compared": counts,
        "throttle_codes": sorted(THROTTLE_CODES, key=int),
        "load": {
            "sends_min": int(sends.min()),
            "sends_max": int(sends.max()),
            # The busiest number's sends over the mean: 1.0 for an even spread.
            "imbalance": float(sends.max() / mean) if mean > 0 else None,
        },
        "spread": {figure: _spread(rows, figure) for figure in (*RATE_FIGURES, *LATENCY_FIGURES)},
        "worst": [row["phone_number_id"] for row in sorted(rows, key=_badness)[:worst]],
        "by_number": rows,
    }
