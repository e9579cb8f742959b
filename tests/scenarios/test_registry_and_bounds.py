"""Scenario definitions: the registry, defaults, quick sizes, bounds checked at the edge, plans."""

from __future__ import annotations

import pytest

from ground.errors import EXIT_BAD_INPUT, ScenarioError
from plan.arrivals import arrival_offsets
from scenarios.registry import SCENARIOS, get

EXPECTED = {
    "peak",
    "broadcast",
    "media-burst",
    "failover",
    "soak",
    "data-volume",
    "capacity",
    "throttle",
    "webhook-storm",
    "contact-center",
}


def test_registry_holds_the_buyers_checklist() -> None:
    assert set(SCENARIOS) == EXPECTED
    for name, scenario in SCENARIOS.items():
        assert scenario.name == name and scenario.summary


def test_unknown_scenario_names_the_choices() -> None:
    with pytest.raises(ScenarioError) as info:
        get("black-friday")
    assert info.value.exit_code == EXIT_BAD_INPUT
    assert "black-friday" in str(info.value) and "peak" in str(info.value)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_quick_size_is_short_and_default_size_is_the_research_shape(name: str) -> None:
    scenario = get(name)
    quick = scenario.plan(quick=True)
    full = scenario.plan()
    assert 0 < quick.duration_s + quick.drain_s <= 45
    assert full.duration_s > quick.duration_s
    assert quick.criteria and all(c.source for c in quick.criteria)
    assert quick.mix and all(task.weight > 0 for task in quick.mix)
    # The shape offers load: the quick plan's schedule is non-empty and bounded.
    offered = sum(len(list(arrival_offsets(phase.profile))) for phase in quick.phases)
    assert 0 < offered < 5000


@pytest.mark.parametrize(
    ("name", "overrides", "field"),
    [
        ("peak", {"rate": -1}, "rate"),
        ("peak", {"duration_s": 0}, "duration_s"),
        ("broadcast", {"recipients": 0}, "recipients"),
        ("capacity", {"steps": 0}, "steps"),
        ("media-burst", {"uploads": 10**9}, "uploads"),
        ("soak", {"load_model": "sideways"}, "load_model"),
        ("throttle", {"bogus": 1}, "bogus"),
        ("webhook-storm", {"inbound_share": 2}, "inbound_share"),
        ("contact-center", {"agents": 0}, "agents"),
        ("contact-center", {"agents": 501}, "agents"),
        ("contact-center", {"agent_cap": 0}, "agent_cap"),
        ("contact-center", {"read_s": -1}, "read_s"),
        ("contact-center", {"typing_cps": 0}, "typing_cps"),
        ("contact-center", {"segment_tag": "VIP customers!"}, "segment_tag"),
        ("contact-center", {"poll_s": 0}, "poll_s"),
    ],
)
def test_out_of_bounds_parameters_are_scenario_errors(name: str, overrides: dict[str, object], field: str) -> None:
    with pytest.raises(ScenarioError) as info:
        get(name).params(overrides)
    message = str(info.value)
    assert f"field '{field}'" in message and "Fix:" in message


def test_failover_kill_must_fall_inside_the_run() -> None:
    with pytest.raises(ScenarioError, match="kill_at_s"):
        get("failover").params({"duration_s": 10, "kill_at_s": 20})
    plan = get("failover").plan(quick=True)
    (step,) = plan.faults
    assert step.fault == "failover" and step.target == "primary" and step.duration_s > 0


def test_quick_failover_leaves_room_for_a_sustained_recovery() -> None:
    """The analysis reads recovery_* from the manifest's scenario_params; the quick size must fit them in."""
    params = get("failover").params({}, quick=True)
    assert params.kill_at_s + params.recovery_short_window_s + params.recovery_confirm_s < params.duration_s
    full = get("failover").params({})
    assert (full.recovery_short_window_s, full.recovery_confirm_s) == (10.0, 60.0)


def test_data_volume_has_one_seeded_phase_per_size() -> None:
    with pytest.raises(ScenarioError, match="increasing"):
        get("data-volume").params({"sizes": [1000, 100]})
    plan = get("data-volume").plan({"sizes": [10, 20, 30], "phase_s": 2})
    assert [p.name for p in plan.phases] == ["size-10", "size-20", "size-30"]
    assert [p.setup[0].params["conversations"] for p in plan.phases] == [10, 20, 30]
    assert plan.duration_s == 6


def test_overrides_win_over_quick_and_none_means_keep() -> None:
    plan = get("capacity").plan({"steps": 2, "rate": None}, quick=True)
    assert plan.options["steps"] == [5, 15]


def test_throttle_plans_an_upstream_throttle_window() -> None:
    plan = get("throttle").plan(quick=True)
    (step,) = plan.faults
    assert step.fault == "upstream-throttle" and step.params["throughput_per_second"] == 3


def test_broadcast_length_follows_recipients_and_rate() -> None:
    plan = get("broadcast").plan({"recipients": 950, "rate": 100, "live_share": 0.05})
    assert plan.duration_s == pytest.approx(10)


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_default_criteria_are_valid_sla_criteria_for_analysis(name: str) -> None:
    from analysis.sla import sla_from_criteria

    defaults = get(name).plan().criteria
    spec = sla_from_criteria(f"{name} defaults", [c.as_dict() for c in defaults], source=f"scenario:{name}")
    assert spec.source == f"scenario:{name}"
    # One criterion per default, in order, each with the id the SLA gives an unnamed criterion (metric,
    # aggregation, scope: analysis/sla.py, SlaSpec), and the default's target, direction and weight unchanged.
    assert [c.id for c in spec.criteria] == [
        f"{d.metric}.{d.aggregation}" + (f".{d.scope}" if d.scope else "") for d in defaults
    ]
    assert [(c.metric, c.target, c.comparison, c.warn, c.weight, c.critical) for c in spec.criteria] == [
        (d.metric, d.target, d.comparison, d.warn, d.weight, d.critical) for d in defaults
    ]


@pytest.mark.parametrize(
    ("overrides", "words"),
    [
        ({"agents": 4, "leaving": 5}, "leaving (5) cannot exceed agents (4)"),
        ({"duration_s": 60, "shift_at_s": 90}, "shift_at_s (90) must fall inside duration_s (60)"),
        ({"duration_s": 60, "broadcast_at_s": 60}, "broadcast_at_s (60) must fall inside"),
        ({"agents": 400, "second_shift": 200}, "agents + second_shift is at most 500"),
        ({"customers": 100, "segment_size": 200}, "segment_size (200) cannot exceed customers (100)"),
    ],
)
def test_contact_center_refuses_inconsistent_shifts_and_segments(overrides: dict[str, object], words: str) -> None:
    with pytest.raises(ScenarioError) as info:
        get("contact-center").params(overrides)
    assert info.value.exit_code == EXIT_BAD_INPUT
    assert words in str(info.value) and "Fix:" in str(info.value)


def test_contact_center_plans_agents_with_shifts_and_a_segment() -> None:
    plan = get("contact-center").plan({"duration_s": 100, "agents": 10, "second_shift": 5, "leaving": 3})
    agents = plan.agents
    assert agents is not None
    assert (agents.first_shift, agents.second_shift, agents.leaving, agents.total) == (10, 5, 3, 15)
    assert agents.shift_at_s == 50 and agents.broadcast_at_s == 30 and agents.cap == 6
    assert agents.segment_tag == "vip" and agents.segment_size == 500
    assert {c.metric for c in plan.criteria} >= {"assigned_share", "first_response_ms", "segment_lost"}
    assert all("#11" in c.source for c in plan.criteria if c.metric == "assigned_share")
    no_segment = get("contact-center").plan({"segment_size": 0})
    assert no_segment.agents is not None and no_segment.agents.segment_tag is None
    assert "segment_lost" not in {c.metric for c in no_segment.criteria}
