"""The contact-centre figures from hand-made events and ledger rows: assignment, responses, judging, segment."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pyarrow as pa
import pytest

from analysis import accounting as acc
from analysis.agents import agents_section, conversation_table, segment_accounting, within_share
from analysis.sla_metrics import METRICS, Evidence
from ground.records import AGENT_EVENT_SCHEMA, LEDGER_SCHEMA, REQUEST_SCHEMA

T0 = 1_800_000_000.0


def frame(schema: pa.Schema, rows: list[dict[str, Any]]) -> pd.DataFrame:
    """Rows as the loader gives them: typed like the records' schema (missing fields null)."""
    return pa.Table.from_pylist([{name: row.get(name) for name in schema.names} for row in rows], schema).to_pandas()


def inbound(token: str, wa_id: str, delivered: float) -> dict[str, Any]:
    return {"arrived_at": T0 + delivered - 0.01, "wamid": f"wamid.{token}", "direction": "inbound",
            "correlation_id": token, "recipient": wa_id, "wa_id": wa_id,
            "inbound_delivered_at": T0 + delivered}  # fmt: skip


def outbound(at: float, wa_id: str, token: str | None = None, reply_to: str | None = None) -> dict[str, Any]:
    return {"arrived_at": T0 + at, "wamid": f"wamid.out{at}{wa_id}", "direction": "outbound", "correlation_id": token,
            "reply_to_wamid": reply_to, "recipient": wa_id, "wa_id": wa_id}  # fmt: skip


def event(kind: str, at: float, **fields: Any) -> dict[str, Any]:
    return {"at": T0 + at, "worker": "local", "event": kind, "ok": True, **fields}


@pytest.fixture
def day() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Three customers: c1 assigned at once and answered, c2 after 4 s (queued), c3 never; the last read at 100 s."""
    ledger = frame(
        LEDGER_SCHEMA,
        [
            inbound("sb-r-1", "491", 10.0),
            inbound("sb-r-2", "492", 20.0),
            inbound("sb-r-3", "493", 30.0),
            outbound(10.2, "491", reply_to="wamid.sb-r-1"),  # the bot's first response
            outbound(20.3, "492", reply_to="wamid.sb-r-2"),
            outbound(25.0, "491", token="sb-r-1"),  # the agent's reply carries the customer's token
        ],
    )
    events = frame(
        AGENT_EVENT_SCHEMA,
        [
            event("online", 0.0, agent="ann", detail="cap 2"),
            event("assigned", 10.6, agent="ann", conversation_id="1", correlation_id="sb-r-1", vendor_at=T0 + 10.1),
            event("assigned", 24.5, agent="ann", conversation_id="2", correlation_id="sb-r-2", vendor_at=T0 + 24.0),
            event("replied", 25.0, agent="ann", conversation_id="1", correlation_id="sb-r-1"),
            event("closed", 26.0, agent="ann", conversation_id="1", correlation_id="sb-r-1"),
            event("sweep", 100.0, agent="ann"),
        ],
    )
    return events, ledger


def test_assignment_and_first_responses_join_on_the_customers_token(day):
    events, ledger = day
    table = conversation_table(events, ledger, abandon_s=60.0).set_index("correlation_id")
    assert table.loc["sb-r-1", "assigned_at"] - table.loc["sb-r-1", "delivered_at"] == pytest.approx(0.1)
    assert table.loc["sb-r-1", "human_at"] == pytest.approx(T0 + 25.0)
    assert table.loc["sb-r-1", "bot_at"] == pytest.approx(T0 + 10.2)
    assert pd.isna(table.loc["sb-r-2", "human_at"])
    # c3 was delivered 70 s before the agents' last read: judged, unassigned, and past the 60 s abandon bound.
    assert bool(table.loc["sb-r-3", "unassigned"]) and bool(table.loc["sb-r-3", "abandoned"])
    assert within_share(table.reset_index(), 3.0) == (1, 3)
    assert within_share(table.reset_index(), 5.0) == (2, 3)


def test_a_message_delivered_just_before_the_last_read_is_not_judged(day):
    events, ledger = day
    late = pd.concat([ledger, frame(LEDGER_SCHEMA, [inbound("sb-r-4", "494", 98.0)])], ignore_index=True)
    table = conversation_table(events, late, abandon_s=60.0).set_index("correlation_id")
    assert not bool(table.loc["sb-r-4", "judged"]) and not bool(table.loc["sb-r-4", "unassigned"])


def test_the_section_and_the_sla_metrics_agree(day):
    events, ledger = day
    section = agents_section(events, ledger, T0, T0 + 100.0, abandon_s=60.0)
    assert section is not None
    assert (section["judged"], section["assigned"], section["unassigned"], section["abandoned"]) == (3, 2, 1, 1)
    assert section["within_5s"]["count"] == 2 and section["within_5s"]["of"] == 3
    assert section["first_human_response_ms"]["count"] == 1
    assert section["per_agent"][0]["agent"] == "ann" and section["per_agent"][0]["assignments"] == 2
    assert max(section["queue"]["length"]) >= 1
    table = conversation_table(events, ledger, abandon_s=60.0)
    empty = frame(REQUEST_SCHEMA, [])
    evidence = Evidence({"agents": section}, empty, empty, empty, empty, T0, conversations=table)
    share = METRICS["assigned_share"].resolver(evidence, "within_5s", None)
    assert share.value == pytest.approx(2 / 3) and share.samples == 3 and share.ci95 is not None
    human = METRICS["first_human_response_ms"].resolver(evidence, "p50", None)
    assert human.value == pytest.approx(15_000.0)


def test_without_agents_every_figure_is_not_measured_never_zero():
    events = frame(AGENT_EVENT_SCHEMA, [])
    ledger = frame(LEDGER_SCHEMA, [inbound("sb-r-1", "491", 1.0)])
    assert agents_section(events, ledger, T0, T0 + 10) is None
    empty = frame(REQUEST_SCHEMA, [])
    evidence = Evidence({"agents": None}, empty, empty, empty, empty, T0)
    for name in ("assigned_share", "first_human_response_ms", "unassigned_ratio", "segment_lost"):
        aggregation = {"assigned_share": "within_5s", "first_human_response_ms": "p50"}.get(name, "ratio")
        measured = METRICS[name].resolver(evidence, aggregation, None)
        assert measured.value is None and measured.detail


def test_segment_accounting_counts_missed_members_as_lost_and_outsiders_as_unexpected():
    events = frame(
        AGENT_EVENT_SCHEMA,
        [
            *[event("tagged", 0.0, customer=wa_id, detail="vip") for wa_id in ("491", "492", "493")],
            event("broadcast", 5.0, correlation_id="sb-r-9zz", detail="vip"),
        ],
    )
    ledger = frame(
        LEDGER_SCHEMA,
        [
            outbound(6.0, "491", token="sb-r-9zz"),
            outbound(6.1, "491", token="sb-r-9zz"),  # a second copy
            outbound(6.2, "492", token="sb-r-9zz"),
            outbound(6.3, "499", token="sb-r-9zz"),  # outside the segment
        ],
    )
    segment = segment_accounting(events, ledger)
    assert segment is not None
    assert (segment["members"], segment["delivered"], segment["lost"], segment["unexpected"]) == (3, 2, 1, 1)
    assert segment["duplicated"] == 1 and segment["lost_sample"] == ["493"] and segment["unexpected_sample"] == ["499"]


def test_agent_replies_and_the_segment_broadcast_are_not_unexpected_sends(day):
    _, ledger = day
    broadcast = frame(LEDGER_SCHEMA, [outbound(40.0, "491", token="sb-r-9zz")])
    ledger = pd.concat([ledger, broadcast], ignore_index=True)
    requests = frame(
        REQUEST_SCHEMA,
        [
            {"operation": "agent_reply", "correlation_id": "sb-r-1", "outcome": "ok", "ok": True, "started_at": T0},
            {"operation": "broadcast_segment", "correlation_id": "sb-r-9zz", "outcome": "ok", "ok": True,
             "started_at": T0},
        ],
    )  # fmt: skip
    messages = acc.message_table(requests, ledger)
    assert (messages["status"] == "unexpected").sum() == 0
    without = acc.message_table(frame(REQUEST_SCHEMA, []), ledger)
    assert (without["status"] == "unexpected").sum() == 2  # the same rows, with nothing saying whose they are
