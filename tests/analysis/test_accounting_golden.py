"""Golden end-to-end accounting, reply latency and webhook acknowledgement figures."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.accounting import (
    accounting,
    message_table,
    mock_dispatch_ms,
    reply_metrics,
    reply_table,
    webhook_metrics,
)
from tests.analysis import frames as f


def _golden():
    sends = [
        f.request(0, correlation_id="a"),  # delivered once after 0.5 s
        f.request(1, correlation_id="b"),  # delivered twice (duplicate)
        f.request(2, correlation_id="c"),  # acked, never delivered: LOST
        f.request(3, ok=False, outcome="indeterminate", correlation_id="d"),  # timeout, delivered: recovered
        f.request(4, ok=False, outcome="indeterminate", correlation_id="e"),  # timeout, never: unresolved
        f.request(5, ok=False, correlation_id="g"),  # failed, never delivered
        f.request(6, ok=False, correlation_id="h"),  # failed, yet delivered
        f.request(7, ok=False, outcome="indeterminate", correlation_id="i"),  # timeout, then retried ok
        f.request(8, correlation_id="i"),
        f.request(9, correlation_id="x", operation="customer_message"),  # inbound: not a send
        f.request(10, outcome="dropped", ok=False, correlation_id="z"),  # never started
    ]
    arrivals = [
        f.arrival("a", 0.5),
        f.arrival("b", 1.2),
        f.arrival("b", 1.9),
        f.arrival("d", 3.4),
        f.arrival("h", 6.1),
        f.arrival("i", 8.3),
        f.arrival("u", 9.0),  # unexpected: never sent
        f.arrival("x", 9.5, direction="inbound"),
    ]
    return message_table(f.requests(sends), f.ledger(arrivals))


def test_golden_accounting_counts() -> None:
    result = accounting(_golden())
    assert result["attempted"] == 8  # a b c d e g h i
    assert (result["acked"], result["failed"], result["indeterminate"]) == (4, 2, 2)
    assert result["delivered"] == 5  # a b d h i
    assert result["acked_delivered"] == 3
    assert result["delivered_once"] == 4
    assert result["lost"] == 1
    assert (result["duplicated"], result["duplicate_copies"]) == (1, 1)
    assert (result["unexpected"], result["unexpected_copies"]) == (1, 1)
    assert (result["recovered"], result["unresolved"], result["delivered_after_fail"]) == (1, 1, 1)
    assert result["loss_rate"] == pytest.approx(0.25)
    assert result["loss_upper_95"] == pytest.approx(result["loss_rate_ci95"][1])
    assert result["duplicate_rate"] == pytest.approx(1 / 8)
    assert result["valid"] is False
    assert result["lost_sample"] == ["c"]
    assert result["lost_window"] == {"first": f.T0 + 2, "last": f.T0 + 2, "span_s": 0.0}


def test_golden_delivery_latency() -> None:
    latency = accounting(_golden())["delivery_latency_ms"]
    # First arrivals minus slot: a 500, b 200, d 400, h 100, i 300 (from the first slot, t=7 → 1300).
    assert latency["count"] == 5
    assert latency["p50"] == pytest.approx(400.0)
    assert latency["max"] == pytest.approx(1300.0)
    assert latency["min"] == pytest.approx(100.0)


def test_zero_loss_reports_rule_of_three_bound() -> None:
    sends = [f.request(float(i), correlation_id=f"t{i}") for i in range(100)]
    arrivals = [f.arrival(f"t{i}", i + 0.1) for i in range(100)]
    result = accounting(message_table(f.requests(sends), f.ledger(arrivals)))
    assert result["lost"] == 0
    assert result["valid"] is True
    assert result["loss_upper_95"] == pytest.approx(1 - 0.05 ** (1 / 100))
    assert result["lost_window"] is None


def test_reply_latency_first_reply_and_unanswered() -> None:
    ledger = f.ledger(
        [
            {"arrived_at": f.T0, "wamid": "in1", "direction": "inbound"},
            {"arrived_at": f.T0 + 1, "wamid": "in2", "direction": "inbound"},
            {"arrived_at": f.T0 + 5, "wamid": "in3", "direction": "inbound"},
            {"arrived_at": f.T0 + 2.0, "wamid": "r1", "reply_to_wamid": "in1", "inbound_delivered_at": f.T0 + 0.1},
            {"arrived_at": f.T0 + 9.0, "wamid": "r1b", "reply_to_wamid": "in1", "inbound_delivered_at": f.T0 + 0.1},
            {"arrived_at": f.T0 + 4.1, "wamid": "r2", "reply_to_wamid": "in2", "inbound_delivered_at": f.T0 + 1.1},
        ]
    )
    result = reply_metrics(reply_table(ledger))
    assert (result["inbound"], result["answered"], result["unanswered"]) == (3, 2, 1)
    assert result["latency_ms"]["p50"] == pytest.approx(1900.0)
    assert result["latency_ms"]["max"] == pytest.approx(3000.0)
    assert result["mock_dispatch_ms"]["count"] == 0  # no webhook attempts given


def test_the_mocks_dispatch_delay_is_reported_apart_from_the_reply() -> None:
    """Customer message accepted by the mock → its first webhook POST: the mock's part, never the vendor's."""
    ledger = f.ledger(
        [
            {"arrived_at": f.T0, "wamid": "in1", "direction": "inbound"},
            {"arrived_at": f.T0 + 1, "wamid": "in2", "direction": "inbound"},
            {"arrived_at": f.T0 + 5, "wamid": "in3", "direction": "inbound"},  # no attempt recorded: left out
            {"arrived_at": f.T0 + 3.0, "wamid": "r1", "reply_to_wamid": "in1", "inbound_delivered_at": f.T0 + 2.0},
            {"arrived_at": f.T0 + 0.5, "wamid": "out9", "correlation_id": "t9"},
        ]
    )
    hooks = f.attempts(
        [
            {"sent_at": f.T0 + 0.04, "delivery_id": "d1", "wamids": "in1", "outcome": "timeout"},  # the first POST
            {"sent_at": f.T0 + 2.0, "delivery_id": "d1", "wamids": "in1", "attempt": 1},  # the one acknowledged
            {"sent_at": f.T0 + 1.25, "delivery_id": "d2", "wamids": "out9,in2", "kind": "status"},
        ]
    )
    assert sorted(mock_dispatch_ms(ledger, hooks).tolist()) == [pytest.approx(40.0, abs=1e-3), pytest.approx(250.0)]
    result = reply_metrics(reply_table(ledger), mock_dispatch_ms(ledger, hooks))
    assert result["latency_ms"]["max"] == pytest.approx(1000.0)  # from the POST the vendor acknowledged
    assert (result["mock_dispatch_ms"]["count"], result["mock_dispatch_ms"]["max"]) == (2, pytest.approx(250.0))
    assert mock_dispatch_ms(ledger, f.attempts([])).size == 0


def test_webhook_ack_latency_good_and_bad() -> None:
    good = f.attempts([{"sent_at": f.T0 + i, "delivery_id": f"d{i}", "response_ms": 100.0 + i} for i in range(200)])
    result = webhook_metrics(good)
    assert result["ack_latency_ms"]["p50"] == pytest.approx(199.0)
    assert result["over_1s_rate"] == 0.0
    assert result["good"] is True
    rows = [{"sent_at": f.T0 + i, "delivery_id": f"d{i}", "response_ms": 100.0} for i in range(97)]
    rows += [
        {
            "sent_at": f.T0,
            "delivery_id": "d1",
            "attempt": 1,
            "response_ms": 1500.0,
            "http_status": 500,
            "outcome": "http_error",
        }
    ]
    rows += [
        {"sent_at": f.T0, "delivery_id": f"t{i}", "response_ms": 10000.0, "http_status": 0, "outcome": "timeout"}
        for i in range(2)
    ]
    bad = webhook_metrics(f.attempts(rows))
    assert bad["over_1s_rate"] == pytest.approx(0.03)
    assert bad["retries"] == 1
    assert bad["deliveries"] == 99
    assert bad["by_outcome"] == {"http_error": 1, "ok": 97, "timeout": 2}
    assert bad["good"] is False


OUTCOMES = st.sampled_from(["ok", "failed", "indeterminate"])


@settings(max_examples=60, deadline=None)
@given(
    sends=st.lists(st.tuples(st.integers(0, 30), OUTCOMES), max_size=60),
    arrivals=st.lists(st.integers(0, 40), max_size=60),
)
def test_accounting_invariants(sends: list[tuple[int, str]], arrivals: list[int]) -> None:
    requests = (
        f.requests(
            [
                f.request(float(i), ok=outcome == "ok", outcome=outcome, correlation_id=f"t{token}")
                for i, (token, outcome) in enumerate(sends)
            ]
        )
        if sends
        else f.requests([])
    )
    ledger = (
        f.ledger([f.arrival(f"t{token}", float(i)) for i, token in enumerate(arrivals)]) if arrivals else f.ledger([])
    )
    r = accounting(message_table(requests, ledger))
    assert r["attempted"] == len({token for token, _ in sends})
    assert r["attempted"] == r["acked"] + r["failed"] + r["indeterminate"]
    assert r["acked"] == r["acked_delivered"] + r["lost"]
    assert r["indeterminate"] == r["recovered"] + r["unresolved"]
    assert r["delivered"] == r["acked_delivered"] + r["recovered"] + r["delivered_after_fail"]
    assert r["delivered"] == r["delivered_once"] + r["duplicated"]
    sent = {token for token, _ in sends}
    assert r["unexpected"] == len({t for t in arrivals if t not in sent})
    assert r["duplicate_copies"] + r["delivered"] + r["unexpected_copies"] == len(arrivals)
    acked = {token for token, outcome in sends if outcome == "ok"}
    assert r["lost"] == len(acked - set(arrivals))


def test_replies_to_customers_are_not_unexpected_sends() -> None:
    sends = f.requests([f.request(0, correlation_id="a")])
    ledger = f.ledger(
        [
            f.arrival("a", 0.3),
            f.arrival("cust-token", 2.0, reply_to_wamid="in1"),  # the vendor echoed the customer's token in a reply
            f.arrival("a", 3.0, reply_to_wamid="in2"),  # a reply that carries one of our tokens still counts as a copy
        ]
    )
    result = accounting(message_table(sends, ledger))
    assert (result["unexpected"], result["delivered"], result["duplicated"]) == (0, 1, 1)


def test_only_send_operations_are_accounted() -> None:
    sends = f.requests(
        [
            f.request(0, correlation_id="m", operation="send_media"),
            f.request(1, correlation_id="u", operation="upload_media"),  # a token, but no message to deliver
            f.request(2, correlation_id="s", operation="search_conversations"),
        ]
    )
    result = accounting(message_table(sends, f.ledger([f.arrival("m", 0.4)])))
    assert (result["attempted"], result["acked"], result["lost"], result["delivered"]) == (1, 1, 0, 1)
