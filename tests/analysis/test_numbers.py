"""Per-number figures (analysis.numbers) on hand-built frames: counts, throttled and delivered shares with their
intervals, latency percentiles, "uniform" versus "differs", the worst numbers first, old runs without the column."""

from __future__ import annotations

from typing import Any

import numpy as np

import tests.analysis.frames as f
from analysis import accounting as acc
from analysis.numbers import WORST, number_table, numbers_section

A, B, C = "100000000000001", "100000000000002", "100000000000003"


def sends(number: str, count: int, *, start: int = 0, throttled: int = 0, latency_ms: float = 100.0) -> list[dict]:
    rows: list[dict[str, Any]] = []
    for i in range(count):
        refused = i < throttled
        rows.append(
            f.request(
                float(start + i),
                latency_ms,
                ok=not refused,
                correlation_id=f"tok-{number}-{i}",
                phone_number_id=number,
                error_code="130429" if refused else None,
                status=400 if refused else 202,
            )
        )
    return rows


def delivered(rows: list[dict], *, skip: set[str] | None = None, delay_s: float = 1.0) -> list[dict]:
    skip = skip or set()
    return [
        f.arrival(row["correlation_id"], row["scheduled_at"] - f.T0 + delay_s, phone_number_id=row["phone_number_id"])
        for row in rows
        if row["ok"] and row.get("operation", "send_text") == "send_text" and row["correlation_id"] not in skip
    ]


def section(request_rows: list[dict], ledger_rows: list[dict] | None) -> dict[str, Any] | None:
    requests = f.requests(request_rows)
    ledger = f.ledger(ledger_rows or [])
    messages = acc.message_table(requests, ledger)
    return numbers_section(requests, messages, ledger_available=ledger_rows is not None)


def test_counts_shares_and_percentiles_per_number() -> None:
    rows = sends(A, 40) + sends(B, 40, start=40, throttled=10, latency_ms=300.0)
    rows.append(f.request(90.0, operation="customer_message", correlation_id="in-1", phone_number_id=B))
    rows.append(f.request(91.0, operation="search_conversations"))  # no number: left out
    result = section(rows, delivered(rows, skip={"tok-100000000000001-0"}))
    assert result is not None and result["count"] == 2
    by = {row["phone_number_id"]: row for row in result["by_number"]}
    assert (by[A]["sends"], by[A]["acked"], by[A]["throttled"], by[A]["delivered"]) == (40, 40, 0, 39)
    assert (by[B]["sends"], by[B]["acked"], by[B]["throttled"], by[B]["delivered"]) == (40, 30, 10, 30)
    assert by[B]["customer_messages"] == 1 and by[B]["requests"] == 41
    assert by[B]["throttled_share"]["value"] == 0.25
    low, high = by[B]["throttled_share"]["ci95"]
    assert low < 0.25 < high
    assert by[A]["delivered_share"]["value"] == 39 / 40
    assert by[A]["latency_p50_ms"]["value"] == 100.0 and by[B]["latency_p99_ms"]["value"] == 300.0
    assert by[A]["delivery_p50_ms"]["value"] == 1000.0
    assert result["load"] == {"sends_min": 40, "sends_max": 40, "imbalance": 1.0}
    assert {"throttled_share", "latency_p50_ms"} <= set(result["differs"]) and result["uniform"] is False


def test_differences_inside_the_practical_margin_are_no_difference() -> None:
    rows = [row for i in range(20) for row in sends(str(300 + i), 30, start=30 * i, latency_ms=1.0 + 0.01 * i)]
    result = section(rows, delivered(rows))
    assert result is not None and result["uniform"] is True  # 1.0 to 1.19 ms: under the 1 ms margin


def test_a_throttled_number_makes_the_numbers_differ_and_comes_first() -> None:
    rows = sends(A, 60) + sends(B, 60, start=60, throttled=30) + sends(C, 60, start=120)
    result = section(rows, delivered(rows))
    assert result is not None
    assert not result["uniform"] and "throttled_share" in result["differs"]
    assert result["worst"][0] == B
    spread = result["spread"]["throttled_share"]
    assert spread["min"] == 0.0 and spread["max"] == 0.5


def test_numbers_that_fare_alike_are_uniform() -> None:
    rows = sends(A, 50, throttled=1) + sends(B, 50, start=50, throttled=2) + sends(C, 50, start=100)
    result = section(rows, delivered(rows))
    assert result is not None and result["uniform"] is True and result["differs"] == []
    assert result["compared"]["throttled_share"] == 3 and result["compared"]["latency_p99_ms"] == 0  # 50 each


def test_too_few_sends_per_number_leave_uniformity_undecided() -> None:
    rows = sends(A, 4) + sends(B, 4, start=4, throttled=4)
    result = section(rows, delivered(rows))
    assert result is not None and result["uniform"] is None and result["differs"] == []


def test_without_a_ledger_the_delivery_figures_are_null_not_zero() -> None:
    result = section(sends(A, 5) + sends(B, 5, start=5), None)
    assert result is not None
    for row in result["by_number"]:
        assert row["delivered"] is None and row["delivered_share"]["value"] is None
        assert row["delivered_share"]["ci95"] is None and result["compared"]["delivered_share"] == 0
        assert row["delivery_p99_ms"]["value"] is None


def test_runs_without_the_column_have_no_section() -> None:
    rows = [f.request(float(i), correlation_id=f"t{i}") for i in range(5)]
    assert section(rows, []) is None
    assert number_table(f.requests(rows).drop(columns=["phone_number_id"])) == []


def test_two_hundred_numbers_keep_the_worst_list_bounded_and_every_row() -> None:
    ids = [str(200_000 + i) for i in range(200)]
    rows = [row for i, number in enumerate(ids) for row in sends(number, 3, start=3 * i, throttled=i % 7 == 0)]
    result = section(rows, delivered(rows))
    assert result is not None and result["count"] == 200 and len(result["by_number"]) == 200
    assert len(result["worst"]) == WORST
    assert all(np.isclose(dict((r["phone_number_id"], r) for r in result["by_number"])[n]["throttled_share"]["value"],
                          1 / 3) for n in result["worst"])  # fmt: skip


def test_the_join_by_token_number_gives_the_figures_of_the_join_by_text() -> None:
    # Retries (a token sent twice, from two numbers: it counts under its first), a send without a token, a failed
    # one, an undelivered one and a categorical number column (as load_run reads it).
    rows = sends(A, 30) + sends(B, 30, start=30, throttled=5)
    rows.append(f.request(70.0, correlation_id=f"tok-{A}-3", phone_number_id=B))  # a retry from another number
    rows.append(f.request(71.0, correlation_id=None, phone_number_id=B))
    rows.append(f.request(72.0, correlation_id="", phone_number_id=A))
    rows.append(f.request(73.0, ok=False, outcome="indeterminate", correlation_id="tok-x", phone_number_id=C))
    requests = f.requests(rows)
    requests["phone_number_id"] = requests["phone_number_id"].astype("category")
    ledger = f.ledger([*delivered(rows, skip={f"tok-{B}-20"}), f.arrival("tok-x", 80.0, phone_number_id=C)])
    tokens = acc.token_codes(requests, ledger)
    messages = acc.message_table(requests, ledger, tokens)
    by_number = numbers_section(requests, messages, ledger_available=True, tokens=tokens)
    by_text = numbers_section(requests, acc.message_table(requests, ledger), ledger_available=True)
    assert by_number == by_text
    assert by_number is not None
    counted = {row["phone_number_id"]: row["delivered"] for row in by_number["by_number"]}
    assert counted == {A: 30, B: 24, C: 0}  # B: 25 acked, one lost; A's token 3 counts under A; tok-x recovered
