"""The vendor's reported figures and their accuracy, on hand-built frames whose truth is known message by message.

Ten acknowledged sends c0..c9 (sids SM0..SM9). c0..c7 reached WhatsApp; the mock's ladder delivered c0..c6, read
c0..c2 and failed c7. c8 and c9 never reached it. The vendor reported: c0..c5 delivered (c5 joined by its echoed
token, not its id), c6 nothing past queued, c7 failed, c8 and c9 delivered (dropped messages reported delivered),
read for c0..c2 and, falsely, c3 and c4; and one callback for a sid the run never sent.
"""

from __future__ import annotations

import pandas as pd
import pytest

from analysis import accounting as acc
from analysis.reported import report_accuracy, reported_delivered_but_lost, reported_figures
from tests.analysis import frames as f

SENDS = 10


def _requests() -> pd.DataFrame:
    rows = [f.request(float(i), correlation_id=f"c{i}", vendor_message_id=f"SM{i}") for i in range(SENDS)]
    rows.append(f.request(20.0, ok=False, correlation_id="c10", vendor_message_id=None))  # refused: not acked
    return f.requests(rows)


def _ledger() -> pd.DataFrame:
    rows = [{**f.arrival(f"c{i}", i + 0.2), "wamid": f"w{i}"} for i in range(8)]
    rows[7]["async_error_code"] = 131026
    return f.ledger(rows)


def _attempts() -> pd.DataFrame:
    rows = []
    for i in range(7):
        rows.append({"sent_at": f.T0 + i + 1.0, "kind": "status", "wamids": f"w{i}", "statuses": "delivered"})
    for i in range(3):
        rows.append({"sent_at": f.T0 + i + 2.0, "kind": "status", "wamids": f"w{i}", "statuses": "read"})
    rows.append({"sent_at": f.T0 + 7.5, "kind": "status", "wamids": "w7", "statuses": "failed"})
    rows.append({"sent_at": f.T0 + 0.5, "kind": "message", "wamids": "win", "statuses": ""})
    return f.attempts(rows)


def _events() -> pd.DataFrame:
    rows = [{"received_at": i + 0.1, "vendor_message_id": f"SM{i}", "status": "queued"} for i in range(SENDS)]
    for i in (0, 1, 2, 3, 4, 8, 9):
        rows.append({"received_at": i + 1.5, "vendor_message_id": f"SM{i}", "status": "delivered"})
    rows.append({"received_at": 5 + 1.5, "vendor_message_id": None, "correlation_id": "c5", "status": "delivered"})
    for i in (0, 1, 2, 3, 4):
        rows.append({"received_at": i + 2.5, "vendor_message_id": f"SM{i}", "status": "read"})
    rows.append({"received_at": 7.6, "vendor_message_id": "SM7", "status": "failed", "error_code": "63003"})
    rows.append({"received_at": 9.9, "vendor_message_id": "SM99", "status": "delivered"})
    return f.vendor_events(rows)


def test_reported_figures_count_what_the_vendor_said_per_acknowledged_send() -> None:
    figures = reported_figures(_requests(), _events())

    assert (figures["acked"], figures["events"], figures["unmatched_events"]) == (SENDS, len(_events()), 1)
    counts = ("reported_sent", "reported_delivered", "reported_read", "reported_failed")
    assert [figures[name] for name in counts] == [8, 8, 5, 1]
    assert (figures["delivery_rate"]["count"], figures["delivery_rate"]["of"]) == (8, 10)
    assert (figures["read_rate"]["count"], figures["read_rate"]["of"]) == (5, 8)
    unconfirmed = figures["unconfirmed"]
    assert (unconfirmed["count"], unconfirmed["share"]) == (1, 0.1)
    low, high = unconfirmed["ci95"]
    assert low < 0.1 < high
    assert figures["failures_by_code"] == {"63003": 1}
    latency = figures["status_latency_ms"]
    assert latency["count"] == 8 and latency["min"] == pytest.approx(1500.0) and latency["max"] == pytest.approx(1500.0)


def test_report_accuracy_recovers_the_truth_behind_each_report() -> None:
    accuracy = report_accuracy(_requests(), _events(), _ledger(), _attempts())

    assert accuracy["ladder_known"]
    assert (accuracy["true_delivered"], accuracy["reported_delivered"]) == (7, 8)
    assert (accuracy["true_read"], accuracy["reported_read"]) == (3, 5)
    assert (accuracy["true_failed"], accuracy["reported_failed"], accuracy["reported_failed_true"]) == (1, 1, 1)
    assert accuracy["never_reached_whatsapp"] == 2
    assert accuracy["reports_for_unsent"] == 2
    assert accuracy["reported_delivered_but_lost"] == 2
    assert accuracy["reported_delivered_not_delivered"] == 2
    assert accuracy["delivered_not_reported"] == 1  # c6: delivered, the vendor never said so
    assert accuracy["reported_read_not_read"] == 2
    assert (accuracy["false_read_share"]["count"], accuracy["false_read_share"]["of"]) == (2, 4)
    assert accuracy["read_inflation"] == pytest.approx(5 / 3)
    skew = accuracy["skew_ms"]["delivered"]
    assert skew["count"] == 6 and skew["min"] == pytest.approx(500.0) and skew["max"] == pytest.approx(500.0)
    assert accuracy["skew_ms"]["read"]["p50"] == pytest.approx(500.0)


def test_without_the_ladders_statuses_delivered_means_reached_and_not_failed_and_read_is_unknown() -> None:
    older = _attempts().drop(columns=["statuses"]).assign(statuses=None)  # a mock export before the column
    accuracy = report_accuracy(_requests(), _events(), _ledger(), older)

    assert not accuracy["ladder_known"]
    assert accuracy["true_delivered"] == 7  # c0..c7 reached WhatsApp, c7 failed there
    assert accuracy["true_read"] is None and accuracy["read_inflation"] is None
    assert accuracy["reported_delivered_but_lost"] == 2


def test_the_accounting_counts_lost_messages_the_vendor_reported_delivered() -> None:
    messages = acc.message_table(_requests(), _ledger())
    assert acc.accounting(messages)["lost"] == 2
    assert reported_delivered_but_lost(messages, _requests(), _events()) == 2
