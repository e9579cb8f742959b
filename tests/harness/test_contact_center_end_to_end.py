"""contact-center end to end: mock + reference vendor + customers + agents on shifts + a tagged broadcast + score.

Against `steady` (reference dialect and the generic-http profile describing the same API) the assignment figures
meet market-figures.md #11; against `understaffed` (2 seats × 2 conversations, 4 s handle time: capacity 1 new
conversation a second) they fail for the queue's sake, which the criteria's details say.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from harness.run.runner import execute
from tests.fixtures.runs import quiet_run_request

SMALL = {
    "duration_s": 24,
    "rate": 1.5,
    "customers": 3000,
    "pool_size": 30,
    "drain_s": 3,
    "agents": 3,
    "second_shift": 1,
    "leaving": 1,
    "poll_s": 0.5,
    "read_s": 0.5,
    "typing_cps": 30.0,
    "reply_chars": 30,
    "segment_size": 25,
    "broadcast_at_s": 4,
}


def run(tmp_path: Path, vendor: str, **overrides: Any) -> dict[str, Any]:
    request = quiet_run_request(tmp_path, "contact-center", vendor=vendor, overrides={**SMALL, **overrides}, seed=5)
    result = execute(request)
    assert result.manifest.complete and result.summary is not None
    assert list((result.run_dir / "agents").glob("*.parquet")), "the agents wrote their events"
    return result.summary


def criteria(summary: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {(c["metric"], c.get("aggregation", "")): c for c in summary["sla"]["criteria"]}


@pytest.mark.slow
@pytest.mark.parametrize("vendor", ["reference-steady.yaml", "generic-http-contact-center.yaml"])
def test_steady_desk_assigns_at_once_answers_every_customer_and_reaches_exactly_the_segment(tmp_path, vendor):
    summary = run(tmp_path, vendor)
    agents = summary["agents"]
    assert agents["agents"] == 4 and agents["refused_logins"] == 0
    assert agents["judged"] > 20 and agents["unassigned"] == 0
    assert agents["within_5s"]["share"] == 1.0
    assert agents["first_human_response_ms"]["count"] >= agents["assigned"] - 3  # the last few are mid-typing
    assert agents["first_bot_response_ms"]["count"] == agents["conversations"]  # the fallback first response
    assert {row["agent"] for row in agents["per_agent"]} and agents["queue"]["length"]
    segment = agents["segment"]
    assert segment["members"] == 25 and segment["delivered"] == 25
    assert (segment["lost"], segment["unexpected"], segment["duplicated"]) == (0, 0, 0)
    # Agents' replies carry customers' tokens and the broadcast one token for all: neither is "unexpected".
    assert summary["accounting"]["unexpected"] == 0
    found = criteria(summary)
    assert found[("assigned_share", "within_5s")]["status"] == "pass"
    assert found[("first_response_ms", "p95")]["status"] == "pass"
    assert found[("segment_lost", "count")]["status"] == "pass"
    assert summary["sla"]["verdict"] == "PASS"


@pytest.mark.slow
def test_understaffed_desk_fails_the_assignment_preset_because_conversations_wait(tmp_path):
    summary = run(tmp_path, "reference-understaffed.yaml", rate=2.5)
    agents = summary["agents"]
    assert agents["refused_logins"] >= 1  # 4 agents for 2 seats
    latency = agents["assignment_latency_ms"]
    assert latency["p95"] > 5000  # the queue: M/M/4 with λ above its 1/s capacity
    within = criteria(summary)[("assigned_share", "within_5s")]
    assert within["status"] == "fail" and within["measured"] < 0.8
    assert "assigned within 5 s" in within["detail"]
    assert summary["sla"]["verdict"] == "FAIL"
    assert any("assigned in time" in reason for reason in summary["sla"]["reasons"])
    assert max(agents["queue"]["length"]) >= 2  # customers waited in the vendor's queue, as the harness saw it
