"""contact-center (quick) with a Locust master and 2 local worker processes against the reference vendor.

The agents are split across the workers (``AgentsPlan.indexes_on``): every agent id comes online exactly once, on
the worker the split names; the shift change happens on the shared start on both workers; both workers' agents
are assigned conversations and reply; the summary's agents section is the one a local run gets, and the run is
complete (not partial). The runner launches the mock and the reference vendor (the profile's ``launch``).
"""

from __future__ import annotations

import signal
from collections import Counter
from pathlib import Path

import pytest

from analysis.load import read_agent_events
from harness.loadgen.start import read_load_start
from harness.run.runner import RunResult, execute
from scenarios.registry import get as get_scenario
from tests.fixtures.runs import quiet_run_request
from tests.harness.run.test_runner_resilience import WAIT_S, processes_under, reaper, run_in_thread, wait_for

__all__ = ["reaper"]  # the fixture, shared with the resilience tests

WORKERS = 2
# Every key of a local run's agents section (analysis.agents.agents_section), all filled in a complete run.
SECTION_KEYS = {
    "agents", "refused_logins", "conversations", "judged", "assigned", "unassigned", "abandoned", "abandon_s",
    "assignment_latency_ms", "assignment_cdf", "within_3s", "within_5s", "first_bot_response_ms",
    "first_human_response_ms", "first_response_ms", "no_human_reply", "per_agent", "balance_cv", "occupancy",
    "queue", "segment",
}  # fmt: skip


@pytest.mark.slow
def test_contact_center_on_two_workers_runs_every_agent_once_and_scores_like_a_local_run(tmp_path: Path) -> None:
    request = quiet_run_request(tmp_path, "contact-center", quick=True, workers=WORKERS, seed=5)
    result = execute(request)
    plan = get_scenario("contact-center").plan({}, quick=True).agents
    assert plan is not None and plan.second_shift and plan.leaving and plan.shift_at_s
    summary = result.summary
    assert summary is not None
    assert result.manifest.complete
    assert not summary["run"]["partial"] and summary["run"]["missing_workers"] == []

    reasons: list[str] = []
    events = read_agent_events(result.run_dir, reasons)
    assert reasons == []
    tag = result.manifest.run_tag
    names = {f"agent-{tag}-{i:03d}": i for i in range(plan.total)}
    online = events[(events["event"] == "online") & events["ok"]]
    assert Counter(online["agent"]) == Counter(list(names))  # each agent id came online exactly once
    assert not (events["event"] == "online_refused").any()
    workers = sorted(set(events["worker"]))
    assert workers == [f"worker-{w}-p0" for w in range(WORKERS)]
    for w, worker in enumerate(workers):
        mine = events[events["worker"] == worker]
        assert sorted(names[a] for a in mine.loc[mine["event"] == "online", "agent"]) == plan.indexes_on(w, WORKERS)
        assert (mine["event"] == "assigned").any() and (mine["event"] == "replied").any(), worker
        assert mine.loc[mine["event"] == "replied", "ok"].all(), worker

    # The shift change, on the shared start, on every worker: the leavers went offline once, at or after it;
    # the second shift came online at or after it, the first shift before the load started.
    start = read_load_start(result.run_dir, 0)
    assert start is not None
    shift = start + plan.shift_at_s
    online_at = dict(zip(online["agent"], online["at"], strict=True))
    offline = events[events["event"] == "offline"]
    leavers = {name for name, i in names.items() if plan.shift_of(i)[1] is not None}
    assert Counter(offline["agent"]) == Counter(list(leavers))
    assert (offline["at"] >= shift).all() and offline["ok"].all()
    for name, i in names.items():
        if plan.shift_of(i)[0] is None:
            assert online_at[name] <= start, name
        else:
            assert online_at[name] >= shift, name
    assert {events.loc[events["agent"] == name, "worker"].iloc[0] for name in leavers} == set(workers)

    agents = summary["agents"]
    assert agents is not None and set(agents) == SECTION_KEYS
    assert agents["agents"] == plan.total and agents["refused_logins"] == 0
    assert agents["judged"] > 0 and agents["assigned"] == agents["judged"] and agents["unassigned"] == 0
    assert agents["within_5s"]["of"] == agents["judged"] and agents["assignment_latency_ms"]["count"] > 0
    assert agents["first_human_response_ms"]["count"] > 0
    assert {row["agent"] for row in agents["per_agent"]} == set(names)
    assert set(agents["occupancy"]["agents"]) == set(names)
    segment = agents["segment"]
    assert segment is not None and segment["members"] == plan.segment_size
    assert (segment["lost"], segment["unexpected"], segment["duplicated"]) == (0, 0, 0)
    assert "agents" not in summary["unmeasured"]


@pytest.mark.slow
def test_a_worker_killed_mid_run_names_the_agents_that_stopped_with_it(tmp_path: Path, reaper: None) -> None:
    request = quiet_run_request(tmp_path, "contact-center", quick=True, workers=WORKERS, seed=6)
    thread, outcome = run_in_thread(request)

    def shards(worker: str) -> list[Path]:
        return list(tmp_path.glob(f"*/agents/{worker}-p0-*.parquet"))

    wait_for(lambda: shards("worker-0") and shards("worker-1"), "both workers' agents online")
    victim = processes_under(tmp_path, " --worker ")[0]
    victim.send_signal(signal.SIGKILL)
    thread.join(timeout=WAIT_S * 2)
    (result,) = outcome
    assert isinstance(result, RunResult), result
    assert not result.manifest.complete
    missing = result.manifest.model_dump()["missing_workers"]
    assert len(missing) == 1
    dead = missing[0]["worker"]
    plan = get_scenario("contact-center").plan({}, quick=True).agents
    assert plan is not None
    index = int(dead.removeprefix("worker-"))
    lost = [plan.agent_name(result.manifest.run_tag, i) for i in plan.indexes_on(index, WORKERS)]
    (note,) = [note for note in result.manifest.notes if note.startswith(f"{dead} went missing")]
    assert "its agents stopped with it" in note and all(name in note for name in lost)
    # The live worker's agents went on answering, and nobody took over the dead worker's agents (no duplicates).
    events = read_agent_events(result.run_dir, [])
    live = f"worker-{1 - index}-p0"
    assert (events.loc[events["worker"] == live, "event"] == "replied").any()
    online = events[(events["event"] == "online") & events["ok"]]
    assert online["agent"].is_unique
    assert result.summary is not None and result.summary["run"]["partial"]
